"""``AsyncStream``: the async client's stream, and the ``aiohttp`` side of reading it.

:class:`MapErrors` is the one place an ``aiohttp``/socket failure becomes an
:class:`~edgee.errors.APIConnectionError` (the client's driver uses it too).
The read loop is ``_sync_stream``'s with ``await``: body bytes into the
stream's :class:`~edgee._streaming.ChunkParser`, no protocol decision.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
)
from typing import TYPE_CHECKING, Any

import aiohttp

from edgee._aiohttp_internals import ConnectionUse, buffered_bytes, take_read_timeout
from edgee._aiohttp_pool import Pool
from edgee._attempts import ReadBody
from edgee._framing import POOL_TIMEOUT, framing_error_from_parser
from edgee._streaming import DONE, DRAIN_LIMIT, NEED_DATA, READ_SIZE, StreamState, StreamView
from edgee._tls import TLSSettings, certificate_error, find_certificate_error
from edgee.errors import (
    APIConnectionError,
    APITimeoutError,
    ClientStateError,
    EdgeeError,
    StreamError,
)
from edgee.models import SendResponse, StreamChunk

if TYPE_CHECKING:
    from edgee._events import StreamEvent

__all__ = ["FAILURES", "AsyncStream", "MapErrors", "StreamOpener", "mapped", "read_body"]

_FAILURES = (aiohttp.ClientError, asyncio.TimeoutError, OSError)
#: What the driver catches around a command: the library's failures (mapped with
#: :func:`mapped`) and the SDK's own errors raised while reading a body.
FAILURES = (*_FAILURES, EdgeeError)


# A reused connection that dies before any answer byte: the keep-alive race.
_STALE = (aiohttp.ServerDisconnectedError, ConnectionResetError, BrokenPipeError)


class MapErrors:
    """``with MapErrors(request_id, pool):`` turns an aiohttp/socket failure into
    :class:`APITimeoutError` or :class:`APIConnectionError` (the only place that does),
    or :class:`ClientStateError` when it came because the client was closed; a refused
    framing into :class:`~edgee._framing.FramingError`, a failed certificate check into
    :class:`~edgee._tls.CertificateVerifyError` (saying what to do)."""

    __slots__ = ("pool", "request_id", "tls", "use")

    def __init__(
        self,
        request_id: str | None = None,
        pool: Pool | None = None,
        tls: TLSSettings | None = None,
    ) -> None:
        self.request_id = request_id
        self.pool = pool
        self.tls = tls
        self.use: ConnectionUse | None = None  # the request being sent, as traced

    def __enter__(self) -> None:
        return None

    @staticmethod
    def stale(error: BaseException) -> bool:
        """Whether ``error`` (of a request on a reused connection) came before any answer byte."""
        cause = error.__cause__
        if isinstance(cause, aiohttp.ClientOSError) and isinstance(cause.__cause__, OSError):
            cause = cause.__cause__
        return isinstance(cause, _STALE) or (
            isinstance(cause, aiohttp.ClientOSError) and cause.errno in (104, 32)
        )

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, _FAILURES) and not isinstance(exc, EdgeeError):
            raise mapped(exc, self.pool, self.tls, self.use, self.request_id) from exc


def mapped(
    exc: BaseException,
    pool: Pool | None = None,
    tls: TLSSettings | None = None,
    use: ConnectionUse | None = None,
    request_id: str | None = None,
) -> EdgeeError:
    """The SDK error for an aiohttp/socket failure (raise it ``from exc``): see MapErrors."""
    if pool is not None and pool.closed:
        return ClientStateError("this AsyncEdgee client is closed")
    framing = framing_error_from_parser(exc)
    if framing is not None:
        return framing
    cert = find_certificate_error(exc)
    if cert is not None:
        return certificate_error(cert, tls or TLSSettings())
    if use is not None and use.queued:
        return APITimeoutError(POOL_TIMEOUT, request_id=request_id)
    # SocketTimeoutError is both a ClientConnectionError and a TimeoutError:
    # test for the timeout first.
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return APITimeoutError(f"Request timed out: {type(exc).__name__}", request_id=request_id)
    return APIConnectionError(
        f"Connection error: {type(exc).__name__}: {exc}", request_id=request_id
    )


class _Watchdog:
    """The stream's idle read timeout, checked a few times per timeout period.

    aiohttp's ``sock_read`` re-arms a timer on every socket read (about 7 us
    per event when events come one by one, benchmarks/README.md); this checks
    ``content.total_bytes`` every ``timeout / 4`` instead, and counts time
    only while the reader waits for bytes (a reader that stops reading is not
    a stalled server). After ``timeout`` without a byte it fails the read with
    a timeout: a stall is noticed after 1 to 1.25 times the timeout.
    """

    __slots__ = ("content", "handle", "last", "loop", "period", "quiet", "timeout", "waiting")

    def __init__(self, content: aiohttp.StreamReader, timeout: float) -> None:
        self.content = content
        self.timeout = timeout
        self.period = timeout / 4
        self.loop = asyncio.get_running_loop()
        self.last = content.total_bytes
        self.quiet = 0.0
        self.waiting = False
        self.handle: asyncio.TimerHandle | None = self.loop.call_later(self.period, self._check)

    def _check(self) -> None:
        total = self.content.total_bytes
        if total != self.last or not self.waiting:
            self.last = total
            self.quiet = 0.0
        else:
            self.quiet += self.period
            if self.quiet >= self.timeout - 1e-9:
                self.handle = None
                # Read by MapErrors as a timeout (APITimeoutError), like sock_read's.
                self.content.set_exception(asyncio.TimeoutError())
                return
        self.handle = self.loop.call_later(self.period, self._check)

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None


class _Body:
    """The response body of one stream and whether its connection was let go.

    Kept apart from :class:`AsyncStream` so the reading generator does not
    refer to the stream: a stream dropped after ``break`` is freed (and its
    socket closed) at once by reference counting.
    """

    __slots__ = ("__weakref__", "abort_reason", "closed", "errors", "response", "watchdog")

    def __init__(
        self, response: aiohttp.ClientResponse, request_id: str | None, *, watch: bool = False
    ) -> None:
        self.response = response
        self.errors = MapErrors(request_id)
        self.closed = False
        self.abort_reason: str | None = None
        self.watchdog: _Watchdog | None = None
        if watch:
            timeout = take_read_timeout(response)
            if timeout is not None:
                self.watchdog = _Watchdog(response.content, timeout)

    async def read(self) -> bytes:
        """The next bytes of the body (``b""`` at its end); raises mapped errors.

        Bytes aiohttp received before a failure come first (the next read
        raises the same failure again). A stream ended by the client's
        ``close()`` raises :class:`StreamError`.
        """
        watchdog = self.watchdog
        try:
            with self.errors:
                if watchdog is None:
                    data = await self.response.content.read(READ_SIZE)
                else:
                    watchdog.waiting = True
                    try:
                        data = await self.response.content.read(READ_SIZE)
                    finally:
                        watchdog.waiting = False
        except APIConnectionError as exc:
            if self.abort_reason is not None:
                raise StreamError(self.abort_reason, request_id=exc.request_id) from exc
            if isinstance(exc, APITimeoutError):
                raise
            data = buffered_bytes(self.response.content)
            if not data:
                raise
        if not data and self.abort_reason is not None:
            raise StreamError(self.abort_reason, request_id=self.errors.request_id)
        return data

    def close(self) -> None:
        """Drop the connection (it cannot be reused mid-body); synchronous in aiohttp."""
        if self.watchdog is not None:
            self.watchdog.cancel()
        if not self.closed:
            self.closed = True
            self.response.close()

    def abort(self, reason: str) -> None:
        """End the stream from outside (the client closed); the reader gets a StreamError."""
        if not self.closed:
            self.abort_reason = reason
            self.close()

    async def drain(self) -> None:
        """Read the few bytes after [DONE] so the connection returns to the pool."""
        content = self.response.content
        remaining = DRAIN_LIMIT
        if self.watchdog is not None:
            self.watchdog.waiting = True  # the watchdog bounds the drain too
        # Whatever fails here, the stream itself is complete; close() drops the socket.
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, OSError):
            while remaining > 0:
                data = await content.readany()
                if not data:
                    if self.watchdog is not None:
                        self.watchdog.cancel()
                    self.closed = True
                    self.response.release()
                    return
                remaining -= len(data)


async def _read_chunks(body: _Body, state: StreamState) -> AsyncGenerator[StreamChunk, None]:
    """Body bytes -> parser -> chunks, as they arrive; releases the body at the end."""
    parser = state.parser
    # The parser folds each chunk into the state's accumulator before handing it out.
    next_event, need_data, done = parser.next_event, NEED_DATA, DONE
    try:
        while True:
            event = next_event()
            if event is need_data:
                try:
                    parser.receive_data(await body.read())
                except APIConnectionError as exc:
                    parser.connection_lost(exc)
            elif event is done:
                await body.drain()
                return
            else:
                yield event  # type: ignore[misc]
    finally:
        body.close()


async def read_body(response: aiohttp.ClientResponse, command: ReadBody) -> bytes:
    """Read ``response``'s body whole as ``command`` bounds it; close its connection if cut.

    aiohttp hands over the transfer-decoded bytes, still content-coded
    (``auto_decompress=False``): the core's sink decodes them. A time budget
    bounds each wait too, so a silent server cannot hold the read past it.
    """
    if command.plain:
        return await response.read()
    sink = command.sink()
    content = response.content
    if sink.wait() is None:
        while sink.feed(await content.readany()):
            pass
    else:
        try:
            while sink.feed(await asyncio.wait_for(content.readany(), sink.wait())):
                pass
        except asyncio.TimeoutError:
            sink.expired()  # past the deadline: raises; past the budget: keep what came
    if not sink.ended:  # cut by the cap or the time budget: the rest goes with the socket
        response.close()
    return sink.body()


async def _whole(chunks: Iterable[StreamChunk]) -> AsyncGenerator[StreamChunk, None]:
    for chunk in chunks:
        yield chunk


class AsyncStream(StreamView):
    """The chunks of a streaming completion, as they arrive (``async for``).

    Use ``async with`` (or ``await stream.aclose()``) so the connection is
    released even if you stop early; breaking out of the loop or cancelling
    the task that reads also releases it. :meth:`final_response` reads the
    rest and returns everything as one :class:`SendResponse`.
    """

    def __init__(self, response: aiohttp.ClientResponse, state: StreamState) -> None:
        self._state = state
        self._body = _Body(response, state.parser.request_id, watch=state.whole is None)
        if state.whole is not None:  # a whole answer instead of a stream: one chunk says it all
            self._body.close()
            self._iterator = _whole(state.whole_chunks())
        else:
            self._iterator = _read_chunks(self._body, state)
        self._iterator = state.observed_async(self._iterator)

    def __aiter__(self) -> AsyncStream:
        return self

    def __anext__(self) -> Awaitable[StreamChunk]:
        # The generator's own awaitable, not a coroutine wrapping it: one less per chunk.
        return self._iterator.__anext__()

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """Only the text of the first choice, piece by piece."""
        return self._text()

    async def _text(self) -> AsyncIterator[str]:
        async for chunk in self:
            text = chunk.text
            if text:
                yield text

    def events(self) -> AsyncIterator[StreamEvent]:
        """Typed events as the chunks arrive (``async for``), as ``Stream.events()`` does.

        Call it before reading any chunk (else :class:`ClientStateError`).
        """
        return self._events(self._state.start_events())

    async def _events(
        self, feed: Callable[[StreamChunk], list[StreamEvent]]
    ) -> AsyncIterator[StreamEvent]:
        async for chunk in self:
            for event in feed(chunk):
                yield event
        for event in self._state.closing_events():
            yield event

    async def final_response(self) -> SendResponse:
        """Read what is left and return the whole stream as one :class:`SendResponse`.

        A :class:`ParsedResponse` when the stream has ``response_format=T`` or ``@tool`` tools.
        """
        async for _ in self:
            pass
        return self._state.final_response()

    async def aclose(self) -> None:
        """Stop reading and release the connection (closed unless fully read)."""
        self._body.close()
        await self._iterator.aclose()

    close = aclose

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # Closing the response is synchronous in aiohttp, so a stream dropped
        # after `break` releases its socket at once, without waiting for the loop.
        with contextlib.suppress(Exception):
            self._body.close()


class StreamOpener:
    """What ``AsyncEdgee.stream()`` returns: awaitable, and an async context manager.

    ``open`` sends the request and makes the stream; it runs at the ``await``
    (or at ``async with``), the request having been built and checked already.
    """

    def __init__(self, open: Callable[[], Coroutine[Any, Any, AsyncStream]]) -> None:
        self._open = open
        self._stream: AsyncStream | None = None

    def __await__(self) -> Generator[Any, None, AsyncStream]:
        return self._open().__await__()

    async def __aenter__(self) -> AsyncStream:
        self._stream = await self._open()
        return self._stream

    async def __aexit__(self, *exc_info: object) -> None:
        if self._stream is not None:
            await self._stream.aclose()
