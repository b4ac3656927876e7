"""Observability: request hooks and the per-call observer the attempt flow and streams call.

Off by default and free when off: a client without ``hooks=``, ``tracer_provider=``
or ``meter_provider=``, while :func:`instrument` has not been called, gets ``None``
from :func:`start_call` (two ``None`` checks per call) and nothing runs per chunk.
OpenTelemetry is imported only when instrumentation is asked for (see
``_observe_otel``), so ``import edgee`` never imports it.

Hooks (the shape of httpx's ``event_hooks``): a mapping of event name to a list of
callables, each called with one frozen event object:

=============== ======================== ===========================================
name            event                    when
=============== ======================== ===========================================
``request``     :class:`RequestEvent`    before each attempt is sent (redirects too)
``response``    :class:`ResponseEvent`   when each attempt's status and headers arrive
``retry``       :class:`RetryEvent`      when a failed attempt is to be retried
``stream_end``  :class:`StreamEndEvent`  when a stream ends, is closed or fails
=============== ======================== ===========================================

A hook that raises is logged on the ``edgee`` logger (WARNING, with the traceback)
and the call goes on. The async client awaits what an async hook returns; the sync
client logs and discards an awaitable (give it plain functions).

One :class:`CallObserver` is made per call when anything observes; both transports
drive the same one from the shared attempt flow and stream state, so they cannot
report differently.
"""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
    Mapping,
    Sequence,
)
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs

from edgee._logging import logger
from edgee.errors import APIStatusError, ConfigurationError

if TYPE_CHECKING:
    from edgee._observe_otel import CallSpan, RunSpan, Telemetry
    from edgee._request import PreparedRequest

__all__ = [
    "EVENT_NAMES",
    "AsyncObservedChunks",
    "CallObserver",
    "Hooks",
    "Observability",
    "ObservedChunks",
    "RequestEvent",
    "ResponseEvent",
    "RetryEvent",
    "RunObserver",
    "StreamEndEvent",
    "check_hooks",
    "error_type",
    "global_telemetry",
    "instrument",
    "is_instrumented",
    "observe_flow",
    "resolve_observability",
    "start_call",
    "start_run",
    "uninstrument",
    "with_hooks",
]

#: The hook event names, in the order a call meets them.
EVENT_NAMES = ("request", "response", "retry", "stream_end")

StreamOutcome = Literal["done", "closed", "error"]
T = TypeVar("T")
Hook = Callable[[Any], Any]
#: What ``hooks=`` takes: event name -> list of callables.
HooksArg = Mapping[str, Sequence[Callable[[Any], Any]]]

# Request headers that carry a credential: never handed to a hook.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-edgee-api-key"})


# --- events ------------------------------------------------------------------------------


@attrs.frozen
class RequestEvent:
    """An attempt is about to be sent.

    ``headers`` are the request's, without ``Authorization`` (nor any other
    credential header); ``attempt`` counts from 1 (a redirect keeps the number
    of the attempt it follows).
    """

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(repr=False)
    attempt: int


@attrs.frozen
class ResponseEvent:
    """An attempt's status and headers arrived; ``elapsed`` is seconds since it was sent.

    ``headers`` have lower-case names. Sent for every status, errors and
    redirects included, before the body is read.
    """

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    elapsed: float


@attrs.frozen
class RetryEvent:
    """A failed attempt will be retried after ``delay`` seconds.

    ``attempt`` is the number of the attempt that failed (from 1); ``reason``
    is the status code as a string (``"503"``) or the connection error's class
    name (``"APIConnectionError"``, ``"APITimeoutError"``), as ``error.type``.
    """

    attempt: int
    delay: float
    reason: str


@attrs.frozen
class StreamEndEvent:
    """A stream is over.

    ``chunks`` were delivered to the caller; ``time_to_first_chunk`` is seconds
    from the call to its first chunk (``None`` if none came). ``outcome`` is
    ``"done"`` (read to its end), ``"closed"`` (closed, broken off or cancelled
    by the caller before its end) or ``"error"`` (``error`` holds the exception
    the caller got).
    """

    chunks: int
    time_to_first_chunk: float | None
    outcome: StreamOutcome
    error: BaseException | None = None


# --- hooks -------------------------------------------------------------------------------


@attrs.frozen
class Hooks:
    """Validated hooks: a tuple of callables per event name (private; see :func:`check_hooks`)."""

    request: tuple[Hook, ...] = ()
    response: tuple[Hook, ...] = ()
    retry: tuple[Hook, ...] = ()
    stream_end: tuple[Hook, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.request or self.response or self.retry or self.stream_end)

    def merged(self, other: Mapping[str, Any] | None) -> Hooks:
        """A copy where the names ``other`` gives replace this one's lists (``[]`` clears)."""
        if other is None:
            return self
        return attrs.evolve(self, **_checked_lists(other))


def _checked_lists(value: object) -> dict[str, tuple[Hook, ...]]:
    if not isinstance(value, Mapping):
        raise TypeError(
            "hooks must be a mapping of event name to a list of callables, "
            f"not {type(value).__name__}"
        )
    lists: dict[str, tuple[Hook, ...]] = {}
    for name, hooks in value.items():
        if name not in EVENT_NAMES:
            raise ConfigurationError(
                f"hooks has an unknown event name {name!r}; expected some of "
                + ", ".join(EVENT_NAMES)
            )
        if callable(hooks) or isinstance(hooks, (str, bytes)) or not isinstance(hooks, Sequence):
            raise TypeError(f"hooks[{name!r}] must be a list of callables, e.g. [my_hook]")
        for i, hook in enumerate(hooks):
            if not callable(hook):
                raise TypeError(f"hooks[{name!r}][{i}] is not callable")
        lists[name] = tuple(hooks)
    return lists


def check_hooks(value: object) -> Hooks | None:
    """A client's ``hooks=`` argument, checked: ``None`` when it sets no hook at all.

    An unknown event name raises :class:`~edgee.errors.ConfigurationError`; a
    value of the wrong type (not a mapping, not a list, not callable) raises
    ``TypeError``.
    """
    if value is None:
        return None
    hooks = Hooks(**_checked_lists(value))
    return hooks if hooks else None


def _public_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType({k: v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS})


# --- settings ----------------------------------------------------------------------------


@attrs.frozen
class Observability:
    """What one client observes with: its hooks and its own telemetry (private)."""

    hooks: Hooks | None = None
    telemetry: Telemetry | None = attrs.field(default=None, eq=False)

    def with_hooks(self, hooks: Mapping[str, Any] | None) -> Observability | None:
        """``with_options(hooks=...)``: named events replaced, the others kept."""
        if hooks is None:
            return self
        merged = (self.hooks or Hooks()).merged(hooks)
        return _or_none(attrs.evolve(self, hooks=merged if merged else None))


def _or_none(observability: Observability) -> Observability | None:
    if observability.hooks is None and observability.telemetry is None:
        return None
    return observability


def resolve_observability(
    hooks: Mapping[str, Any] | None = None,
    tracer_provider: Any = None,
    meter_provider: Any = None,
) -> Observability | None:
    """A client's observability arguments, checked; ``None`` when it sets none of them.

    Giving ``tracer_provider`` or ``meter_provider`` turns OpenTelemetry on for
    this client (the one not given is OpenTelemetry's global provider); it
    needs ``opentelemetry-api`` (``pip install 'edgee[otel]'``).
    """
    checked = check_hooks(hooks)
    telemetry = None
    if tracer_provider is not None or meter_provider is not None:
        telemetry = _telemetry(tracer_provider, meter_provider)
    return _or_none(Observability(checked, telemetry))


def _telemetry(tracer_provider: Any, meter_provider: Any) -> Telemetry:
    try:
        from edgee._observe_otel import Telemetry
    except ImportError as exc:  # opentelemetry-api is an optional extra
        raise ImportError(
            "OpenTelemetry instrumentation needs opentelemetry-api: pip install 'edgee[otel]'"
        ) from exc
    return Telemetry(tracer_provider, meter_provider)


# --- global instrumentation ------------------------------------------------------------

#: The telemetry of :func:`instrument` (``None``: off). Drivers test it before
#: :func:`start_call`, so a call observed by nothing costs two ``None`` checks.
global_telemetry: Telemetry | None = None


def instrument(tracer_provider: Any = None, meter_provider: Any = None) -> None:
    """Trace and measure every call of every client, as the OpenTelemetry GenAI conventions say.

    ``tracer_provider`` / ``meter_provider`` default to OpenTelemetry's global
    providers (looked up when a span or a measurement is made, so they may be
    set later). A client made with its own ``tracer_provider=`` or
    ``meter_provider=`` uses those instead. Calling it again replaces the
    providers; :func:`uninstrument` turns it off. Needs ``opentelemetry-api``
    (``pip install 'edgee[otel]'``), or raises ``ImportError``.
    """
    global global_telemetry
    global_telemetry = _telemetry(tracer_provider, meter_provider)


def uninstrument() -> None:
    """Undo :func:`instrument`: later calls make no spans (clients' own providers stay)."""
    global global_telemetry
    global_telemetry = None


def is_instrumented() -> bool:
    """Whether :func:`instrument` is in effect."""
    return global_telemetry is not None


# --- the per-call observer --------------------------------------------------------------


def error_type(error: BaseException) -> str:
    """``error.type`` of an exception: the status code of an HTTP error, else the class name."""
    if isinstance(error, APIStatusError):
        return str(error.status_code)
    return type(error).__name__


def with_hooks(
    observability: Observability | None, hooks: Mapping[str, Any] | None
) -> Observability | None:
    """``with_options(hooks=...)`` of a client observing with ``observability`` (or nothing)."""
    if hooks is None:
        return observability
    return (observability or Observability()).with_hooks(hooks)


def start_call(
    observability: Observability | None, request: PreparedRequest, *, is_async: bool = False
) -> CallObserver | None:
    """The observer of one call of ``request``, or ``None`` when nothing observes it.

    This is the whole cost of observability when it is off: two ``None`` checks.
    """
    telemetry = global_telemetry
    if observability is None:
        if telemetry is None:
            return None
        hooks = None
    else:
        hooks = observability.hooks
        if observability.telemetry is not None:
            telemetry = observability.telemetry
    return CallObserver(request, hooks, telemetry, is_async)


class CallObserver:
    """Told of one call's life by the attempt flow, the stream state and the client.

    Methods, in the order a call meets them: :meth:`request_sent` (each
    attempt), :meth:`response_received` (each status), :meth:`retry_scheduled`,
    then one end: :meth:`succeeded` (a whole body), :meth:`failed` (the
    exception the call raised), or, for a stream, :meth:`stream_started` then
    :meth:`first_chunk` and :meth:`stream_finished`. Ends after the first are
    ignored, so a driver may report defensively. Nothing here raises: a failing
    hook or exporter is logged.

    ``pending`` holds what async hooks returned, for the async driver to await
    (:meth:`flush`) right after the method that produced it.
    """

    __slots__ = (
        "_attempt",
        "_ended",
        "_first_chunk",
        "_hooks",
        "_is_async",
        "_sent_at",
        "_span",
        "_started",
        "pending",
    )

    def __init__(
        self,
        request: PreparedRequest,
        hooks: Hooks | None,
        telemetry: Telemetry | None,
        is_async: bool,
    ) -> None:
        self._started = self._sent_at = time.monotonic()
        self._hooks = hooks
        self._is_async = is_async
        self._attempt = 0
        self._ended = False
        self._first_chunk: float | None = None
        self.pending: list[Awaitable[Any]] = []
        self._span: CallSpan | None = None
        if telemetry is not None:
            try:
                self._span = telemetry.start_call(request)
            except Exception:
                logger.warning("edgee: starting a span failed", exc_info=True)

    # -- hooks

    def _emit(self, hooks: tuple[Hook, ...], event: object) -> None:
        for hook in hooks:
            try:
                result = hook(event)
            except Exception:
                logger.warning("edgee: %s hook %r raised", _name(event), hook, exc_info=True)
                continue
            if inspect.isawaitable(result):
                if self._is_async:
                    self.pending.append(result)
                else:
                    logger.warning(
                        "edgee: %s hook %r returned an awaitable; the sync client does not "
                        "await hooks (it is discarded)",
                        _name(event),
                        hook,
                    )
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()

    async def flush(self) -> None:
        """Await what async hooks returned (the async driver calls this); never raises."""
        pending, self.pending = self.pending, []
        for awaitable in pending:
            try:
                await awaitable
            except Exception:
                logger.warning("edgee: an async hook raised", exc_info=True)

    def discard(self) -> None:
        """Drop awaitables that can no longer be awaited (a stream finalized by the GC)."""
        pending, self.pending = self.pending, []
        for awaitable in pending:
            close = getattr(awaitable, "close", None)
            if close is not None:
                close()

    def _telemetry(self, method: str, *args: Any) -> None:
        span = self._span
        if span is None:
            return
        try:
            getattr(span, method)(*args)
        except Exception:
            logger.warning("edgee: recording telemetry failed", exc_info=True)

    # -- the attempt flow

    def request_sent(self, request: PreparedRequest, attempt: int) -> None:
        """An attempt of ``request`` is about to be sent; ``attempt`` is retries so far."""
        self._attempt = attempt + 1
        self._sent_at = time.monotonic()
        if self._hooks is not None and self._hooks.request:
            headers = _public_headers(request.headers)
            self._emit(
                self._hooks.request,
                RequestEvent(request.method, request.url, headers, self._attempt),
            )
        self._telemetry("request_sent", request, self._attempt)

    def response_received(self, status: int, headers: Mapping[str, str]) -> None:
        """The attempt's status and lower-case headers arrived."""
        elapsed = time.monotonic() - self._sent_at
        if self._hooks is not None and self._hooks.response:
            event = ResponseEvent(status, MappingProxyType(dict(headers)), elapsed)
            self._emit(self._hooks.response, event)
        self._telemetry("response_received", status, headers)

    def retry_scheduled(self, attempt: int, delay: float, error: BaseException | int) -> None:
        """Attempt ``attempt`` (retries so far) failed with ``error`` (a status or an exception)."""
        reason = str(error) if isinstance(error, int) else error_type(error)
        if self._hooks is not None and self._hooks.retry:
            self._emit(self._hooks.retry, RetryEvent(attempt + 1, delay, reason))
        self._telemetry("retry_scheduled", attempt + 1, delay, reason)

    # -- ends

    def succeeded(self, body: bytes | None = None) -> None:
        """A whole 2xx answer arrived (``body``, JSON); the call is over."""
        if self._ended:
            return
        self._ended = True
        self._telemetry("succeeded", body, time.monotonic() - self._started)

    def failed(self, error: BaseException) -> None:
        """The call raised ``error`` (before any chunk of a stream, or for a whole answer)."""
        if self._ended:
            return
        self._ended = True
        self._telemetry("failed", error, time.monotonic() - self._started)

    def stream_started(self) -> None:
        """A stream's 2xx head arrived; the call goes on until :meth:`stream_finished`."""
        self._telemetry("stream_started")

    def first_chunk(self) -> None:
        """The stream's first chunk is about to reach the caller (called once)."""
        if self._first_chunk is None:
            self._first_chunk = time.monotonic() - self._started
            self._telemetry("first_chunk", self._first_chunk)

    def stream_finished(
        self,
        outcome: StreamOutcome,
        chunks: int,
        response: Any = None,
        error: BaseException | None = None,
    ) -> None:
        """The stream is over: ``outcome``, ``chunks`` delivered, the accumulated response.

        ``response`` is the :class:`~edgee.models.SendResponse` accumulated so far
        (or ``None``); ``error`` the exception the caller got, for ``"error"``.
        """
        if self._ended:
            return
        self._ended = True
        if self._hooks is not None and self._hooks.stream_end:
            self._emit(
                self._hooks.stream_end,
                StreamEndEvent(chunks, self._first_chunk, outcome, error),
            )
        self._telemetry(
            "stream_finished",
            outcome,
            chunks,
            response,
            error,
            time.monotonic() - self._started,
        )


# --- streams: the observer around a stream's chunks, only when observing ---------------


def _stream_outcome(error: BaseException) -> tuple[StreamOutcome, BaseException | None]:
    # An Exception reached the caller; anything else (GeneratorExit, CancelledError,
    # KeyboardInterrupt) means the caller stopped reading.
    if isinstance(error, Exception):
        return "error", error
    return "closed", None


class _ChunkCount:
    __slots__ = ("chunks", "observer", "response")

    def __init__(self, observer: CallObserver, response: Callable[[], Any]) -> None:
        self.observer = observer
        self.response = response
        self.chunks = 0

    def got(self) -> None:
        self.chunks += 1
        if self.chunks == 1:
            self.observer.first_chunk()

    def end(self, outcome: StreamOutcome, error: BaseException | None = None) -> None:
        try:
            response = self.response()
        except Exception:
            response = None  # a stream cut mid-way may not fold into a response
        self.observer.stream_finished(outcome, self.chunks, response, error)


class ObservedChunks(Generator[T, None, None]):
    """A sync stream's chunk iterator, told to the observer: first chunk and the end.

    Wraps the stream's iterator only when the call is observed, so an
    unobserved stream runs exactly as before. ``response`` returns the
    response folded so far (``StreamState.final_response``). The end is
    reported once: the iterator's end (``done``), an exception (``error``), or
    :meth:`close` / garbage collection before the end (``closed``).
    """

    __slots__ = ("_count", "_inner")

    def __init__(
        self, chunks: Iterator[T], observer: CallObserver, response: Callable[[], Any]
    ) -> None:
        self._inner = chunks
        self._count = _ChunkCount(observer, response)

    def __next__(self) -> T:
        try:
            chunk = next(self._inner)
        except StopIteration:
            self._count.end("done")
            raise
        except BaseException as exc:
            self._count.end(*_stream_outcome(exc))
            raise
        self._count.got()
        return chunk

    def send(self, value: None) -> T:
        """As ``next()`` (a stream takes no values)."""
        return self.__next__()

    def throw(self, *args: Any) -> T:
        """Raise the exception at the caller, ending the stream with it."""
        error = next((a for a in args if isinstance(a, BaseException)), None)
        self.close()
        if error is None:
            raise RuntimeError("throw() needs an exception")
        raise error

    def close(self) -> None:
        """The caller stopped: close the stream's iterator, report ``closed``."""
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            self._count.end("closed")

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # never raise from a finalizer
            self._count.end("closed")  # a no-op when the end was reported


class AsyncObservedChunks(AsyncGenerator[T, None]):
    """:class:`ObservedChunks` for an async stream; awaits async hooks after each report."""

    __slots__ = ("_count", "_inner")

    def __init__(
        self, chunks: AsyncIterator[T], observer: CallObserver, response: Callable[[], Any]
    ) -> None:
        self._inner = chunks
        self._count = _ChunkCount(observer, response)

    async def __anext__(self) -> T:
        observer = self._count.observer
        try:
            chunk = await self._inner.__anext__()
        except StopAsyncIteration:
            self._count.end("done")
            await observer.flush()
            raise
        except BaseException as exc:
            self._count.end(*_stream_outcome(exc))
            await observer.flush()
            raise
        self._count.got()
        if observer.pending:
            await observer.flush()
        return chunk

    async def asend(self, value: None) -> T:
        """As ``__anext__()`` (a stream takes no values)."""
        return await self.__anext__()

    async def athrow(self, *args: Any) -> T:
        """Raise the exception at the caller, ending the stream with it."""
        error = next((a for a in args if isinstance(a, BaseException)), None)
        await self.aclose()
        if error is None:
            raise RuntimeError("athrow() needs an exception")
        raise error

    async def aclose(self) -> None:
        """The caller stopped: close the stream's iterator, report ``closed``."""
        try:
            aclose = getattr(self._inner, "aclose", None)
            if aclose is not None:
                await aclose()
        finally:
            self._count.end("closed")
            await self._count.observer.flush()

    def __del__(self) -> None:
        # No loop to await on here: report, and drop what async hooks returned.
        with contextlib.suppress(Exception):  # never raise from a finalizer
            self._count.end("closed")
            self._count.observer.discard()


# --- the attempt flow: a call's failure ----------------------------------------------------


def observe_flow(
    flow: Generator[Any, Any, None], observer: CallObserver
) -> Generator[Any, Any, None]:
    """``flow`` with the exception that ends it reported as the call's failure.

    The flow reports everything else itself; a flow left by its driver after
    its answer (``GeneratorExit``) is not a failure.
    """
    try:
        yield from flow
    except GeneratorExit:
        raise
    except BaseException as exc:
        observer.failed(exc)
        raise


def _name(event: object) -> str:
    return {
        RequestEvent: "request",
        ResponseEvent: "response",
        RetryEvent: "retry",
        StreamEndEvent: "stream_end",
    }.get(type(event), "?")


# --- the tool runner ---------------------------------------------------------------------


def start_run(observability: Observability | None, model: str) -> RunObserver | None:
    """The observer of one tool run, or ``None`` without telemetry (hooks see its calls)."""
    telemetry = global_telemetry
    if observability is not None and observability.telemetry is not None:
        telemetry = observability.telemetry
    if telemetry is None:
        return None
    try:
        return RunObserver(telemetry.start_run(model))
    except Exception:
        logger.warning("edgee: starting a span failed", exc_info=True)
        return None


class RunObserver:
    """One ``invoke_agent`` span around a tool run; its calls and tools are its children.

    ``with run.current():`` around each model call makes the run's span the
    parent of the call's span (only for the duration of the ``with``, so a
    streaming run, a generator, never leaves it current between its yields).
    """

    __slots__ = ("_ended", "_span")

    def __init__(self, span: RunSpan) -> None:
        self._span = span
        self._ended = False

    def current(self) -> Any:
        """A context manager making the run's span current."""
        return self._span.current()

    @contextlib.contextmanager
    def observing(self) -> Iterator[None]:
        """Around a whole ``run_tools()``: the run's span current, ended by what escapes."""
        try:
            with self._span.current():
                yield
        except BaseException as exc:
            self.finished(None, exc)
            raise

    def events(self, events: Generator[T, None, None]) -> Generator[T, None, None]:
        """A streaming run's events; the span ends with them (closed early: no error)."""
        try:
            yield from events
        except GeneratorExit:
            self.finished(None, None)
            raise
        except BaseException as exc:
            self.finished(None, exc)
            raise

    async def events_async(self, events: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
        """:meth:`events` of an async streaming run."""
        try:
            async for event in events:
                yield event
        except GeneratorExit:
            self.finished(None, None)
            raise
        except BaseException as exc:
            # A cancelled run (CancelledError is no Exception) stopped; it did not fail.
            self.finished(None, exc if isinstance(exc, Exception) else None)
            raise
        finally:
            await events.aclose()

    def tool_started(self, call: Any) -> Any:
        """A tool call (a :class:`~edgee.models.ToolCall`) is about to run: its span, opaque."""
        try:
            return self._span.tool_started(call)
        except Exception:
            logger.warning("edgee: starting a span failed", exc_info=True)
            return None

    def tool_finished(self, token: Any, output: str | None, error: str | None) -> None:
        """The tool call of ``token`` returned ``output`` or failed with ``error`` text."""
        if token is None:
            return
        try:
            self._span.tool_finished(token, output, error)
        except Exception:
            logger.warning("edgee: recording telemetry failed", exc_info=True)

    def finished(self, result: Any = None, error: BaseException | None = None) -> None:
        """The run ended with ``result`` (a ToolRunResult) or raised ``error``."""
        if self._ended:
            return
        self._ended = True
        try:
            self._span.finished(result, error)
        except Exception:
            logger.warning("edgee: recording telemetry failed", exc_info=True)
