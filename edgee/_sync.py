"""``Edgee``: the synchronous client, on ``requests``.

A thin shell over the sans-IO core: it builds requests with ``_request``,
executes the retry policy of ``_retry``, maps failures with ``errors``, and
feeds body bytes to ``_streaming.ChunkParser``. Protocol decisions do not live
here.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import Any, Literal, overload

import requests
import urllib3.exceptions

from edgee._attempts import Attempts
from edgee._client import ClientBase
from edgee._config import ClientOptions, EdgeeConfig, Timeout
from edgee._request import (
    COMPRESS_PATH,
    COUNT_TOKENS_PATH,
    InputLike,
    PreparedRequest,
    build_chat_request,
    build_input_request,
    build_models_request,
)
from edgee._response import (
    attach_headers,
    chunk_from_completion,
    lower_headers,
    parse_completion,
    parse_json,
    reads_whole_body,
    stream_fallback,
)
from edgee._streaming import ChunkParser, StreamAccumulator
from edgee._tool_loop import ToolLoop, invoke
from edgee.errors import (
    APIConnectionError,
    APITimeoutError,
)
from edgee.models import (
    CompressResponse,
    CountTokensResponse,
    ModelList,
    SendResponse,
    StreamChunk,
)
from edgee.tools import FunctionTool, ToolCallResult, ToolRunResult

__all__ = ["Edgee", "Stream", "ToolRunStream"]

# Bytes asked of the socket per read; read1() returns as soon as any arrive.
# 16 KiB (about 65 chunks) keeps the chunks parsed per read, and so the objects
# alive at once, few: larger reads cost more CPU per chunk (benchmarks/).
_READ_SIZE = 16 * 1024
# After [DONE], read at most this much to reach the end of the body so the
# connection can go back to the pool; a longer tail means close it instead.
_DRAIN_LIMIT = 64 * 1024


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (args, urllib3's .reason, the cause chain)."""
    stack, seen = [exc], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (
            *current.args,
            getattr(current, "reason", None),
            current.__cause__,
            current.__context__,
        ):
            if isinstance(inner, BaseException):
                stack.append(inner)


def _is_read_timeout(exc: BaseException) -> bool:
    """requests reports a read timeout in the body as a ConnectionError around urllib3's."""
    causes = list(_causes(exc))
    # urllib3's NewConnectionError (refused, DNS) subclasses its ConnectTimeoutError.
    if any(isinstance(c, urllib3.exceptions.NewConnectionError) for c in causes):
        return False
    return any(
        isinstance(c, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError))
        for c in causes
    )


def _connection_error(exc: BaseException, request_id: str | None = None) -> APIConnectionError:
    if _is_read_timeout(exc):
        return APITimeoutError(f"Request timed out: {type(exc).__name__}", request_id=request_id)
    return APIConnectionError(
        f"Connection error: {type(exc).__name__}: {exc}", request_id=request_id
    )


def _close_pools(session: requests.Session) -> None:
    """Close the idle pooled connections of ``session`` now.

    ``Session.close()`` alone does not: since urllib3 2, ``PoolManager.clear()``
    drops its pools and leaves their sockets to close when each pool is
    garbage collected, which a reference cycle (an exception the caller kept,
    whose traceback reaches a response) delays until the cycle collector runs.
    """
    for adapter in session.adapters.values():
        managers = [getattr(adapter, "poolmanager", None)]
        managers.extend(getattr(adapter, "proxy_manager", {}).values())
        for manager in managers:
            pools = getattr(manager, "pools", None)
            if pools is None:
                continue
            for key in list(pools.keys()):
                with contextlib.suppress(Exception):  # closing must not fail the caller
                    pools[key].close()


def _timeout_tuple(t: Timeout) -> tuple[float | None, float | None]:
    return (t.connect, t.read)


class Edgee(ClientBase):
    """Synchronous client of the Edgee AI Gateway.

    ``Edgee()`` reads ``EDGEE_API_KEY`` and ``EDGEE_BASE_URL``; the official
    SDK's forms ``Edgee("key")``, ``Edgee(EdgeeConfig(...))`` and
    ``Edgee({...})`` work too. One ``requests.Session`` (one connection pool)
    serves every call; use the client as a context manager or call
    :meth:`close` to release it.
    """

    def __init__(
        self,
        config: str | EdgeeConfig | Mapping[str, Any] | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self._options = self._resolve(
            config,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
        )
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()

    @classmethod
    def _from_options(cls, options: ClientOptions, session: requests.Session) -> Edgee:
        client = cls.__new__(cls)
        client._options = options
        client._owns_session = False
        client._session = session
        return client

    def with_options(
        self,
        *,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> Edgee:
        """A copy with other defaults that shares this client's connection pool."""
        options = self._options.with_options(
            timeout=timeout, max_retries=max_retries, default_headers=default_headers
        )
        return Edgee._from_options(options, self._session)

    def close(self) -> None:
        """Release pooled connections (only of a session this client created)."""
        if self._owns_session:
            _close_pools(self._session)
            self._session.close()

    def __enter__(self) -> Edgee:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @overload
    def send(
        self, model: str, input: InputLike, *, stream: Literal[False] = False, **options: Any
    ) -> SendResponse: ...

    @overload
    def send(
        self, model: str, input: InputLike, *, stream: Literal[True], **options: Any
    ) -> Stream: ...

    def send(
        self, model: str, input: InputLike, *, stream: bool = False, **options: Any
    ) -> SendResponse | Stream:
        """Send one chat completion and return the whole response.

        ``send(..., stream=True)`` returns what :meth:`stream` returns, as the
        official SDK does.
        """
        if stream:
            return self.stream(model, input, **options)
        request = build_chat_request(self._options, model, input, stream=False, **options)
        status, headers, body = self._read(request)
        return parse_completion(status, headers, body)

    def models(self, provider: str | None = None, **options: Any) -> ModelList:
        """The models the gateway can route to (``GET /v1/models``), optionally of one provider."""
        status, headers, body = self._read(build_models_request(self._options, provider, **options))
        return parse_json(status, headers, body, ModelList, "a model list")

    def count_tokens(self, model: str, input: InputLike, **options: Any) -> CountTokensResponse:
        """How many input tokens ``input`` would cost with ``model`` (``POST /v1/count_tokens``)."""
        request = build_input_request(self._options, COUNT_TOKENS_PATH, model, input, **options)
        status, headers, body = self._read(request)
        return parse_json(status, headers, body, CountTokensResponse, "a token count")

    def compress(self, model: str, input: InputLike, **options: Any) -> CompressResponse:
        """Compress ``input`` without generating (``POST /v1/compress``): messages and savings."""
        request = build_input_request(self._options, COMPRESS_PATH, model, input, **options)
        status, headers, body = self._read(request)
        return parse_json(status, headers, body, CompressResponse, "a compression report")

    def run_tools(
        self,
        model: str,
        input: InputLike,
        *,
        tools: Sequence[FunctionTool],
        max_iterations: int = 10,
        **options: Any,
    ) -> ToolRunResult:
        """Send, run the tools the model asks for, send their results back, repeat.

        Returns the final answer with the whole transcript and summed usage. A
        tool that raises, or arguments that do not fit its signature, are
        reported to the model as the call's result instead of ending the run.
        Raises :class:`~edgee.tools.MaxIterationsError` after ``max_iterations``
        requests that still asked for tools.
        """
        loop = ToolLoop(input, tools, max_iterations)
        while True:
            response = self.send(model, loop.next_input(), **options)
            steps = loop.record(response)
            if not steps:
                return loop.result(response)
            for step in steps:
                value, error = invoke(step)
                loop.complete(step.call, output=value, error=error)

    def run_tools_stream(
        self,
        model: str,
        input: InputLike,
        *,
        tools: Sequence[FunctionTool],
        max_iterations: int = 10,
        **options: Any,
    ) -> ToolRunStream:
        """Like :meth:`run_tools`, streaming: yields each :class:`StreamChunk` as it
        arrives and a :class:`~edgee.tools.ToolCallResult` after each tool runs;
        ``.result`` holds the :class:`~edgee.tools.ToolRunResult` at the end."""
        return ToolRunStream(self, model, ToolLoop(input, tools, max_iterations), options)

    def _read(self, request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        """Send with retries and read the whole body: (status, lower-cased headers, body)."""
        response = self._send(request)
        headers = lower_headers(response.headers)
        try:
            body = response.content
        except requests.RequestException as exc:
            raise _connection_error(exc, headers.get("x-request-id")) from exc
        finally:
            response.close()
        return response.status_code, headers, body

    def stream(self, model: str, input: InputLike, **options: Any) -> Stream:
        """Start a streaming chat completion.

        The request is made and its status checked before this returns, so a
        bad key or an HTTP error raises here; problems during the stream
        raise from the iteration.
        """
        request = build_chat_request(self._options, model, input, stream=True, **options)
        response = self._send(request)
        if reads_whole_body(True, response.headers):
            # JSON or HTML instead of an event stream: an error, or the whole answer.
            headers = lower_headers(response.headers)
            return Stream(
                response, stream_fallback(response.status_code, headers, response.content)
            )
        return Stream(response)

    def _send(self, request: PreparedRequest) -> requests.Response:
        """One request with the retry policy applied; returns a 2xx response.

        Redirects are followed as ``_response.follow_redirect`` decides (not by
        ``requests``). A body read whole (see ``_response.reads_whole_body``) is
        read here, so a connection lost in its middle is retried too.
        """
        attempts = Attempts(request)
        while True:
            request = attempts.start()
            response = None
            try:
                response = self._session.request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    data=request.body,
                    stream=True,
                    timeout=_timeout_tuple(request.timeout),
                    allow_redirects=False,
                )
                if response.status_code < 300 and reads_whole_body(
                    request.stream, response.headers
                ):
                    response.content  # noqa: B018  (read and kept by requests)
            except requests.RequestException as exc:
                if response is not None:
                    response.close()
                delay = attempts.failed(_connection_error(exc), exc)
            else:
                status = response.status_code
                attempts.answered(status)
                if status < 300:
                    return response
                if status < 400:
                    response.close()
                    attempts.redirected(status, response.headers)
                    continue
                try:
                    body = response.content
                except requests.RequestException:
                    body = b""
                finally:
                    response.close()
                delay = attempts.rejected(status, response.headers, body)
            time.sleep(delay)


class ToolRunStream:
    """The events of a streaming tool run; iterate it, then read :attr:`result`."""

    def __init__(
        self, client: Edgee, model: str, loop: ToolLoop, options: Mapping[str, Any]
    ) -> None:
        self.result: ToolRunResult | None = None
        self._events = self._run(client, model, loop, options)

    def __iter__(self) -> Iterator[StreamChunk | ToolCallResult]:
        return self._events

    def _run(
        self, client: Edgee, model: str, loop: ToolLoop, options: Mapping[str, Any]
    ) -> Generator[StreamChunk | ToolCallResult, None, None]:
        while True:
            with client.stream(model, loop.next_input(), **options) as stream:
                yield from stream
                response = stream.final_response()
            steps = loop.record(response)
            if not steps:
                self.result = loop.result(response)
                return
            for step in steps:
                value, error = invoke(step)
                yield loop.complete(step.call, output=value, error=error)


class _Body:
    """The response body of one stream and whether its connection was let go.

    Kept apart from :class:`Stream` so the reading generator does not refer to
    the stream: a stream dropped after ``break`` is freed (and its socket
    closed) at once by reference counting, without waiting for the cycle GC.
    """

    __slots__ = ("closed", "response")

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self.closed = False

    def close(self) -> None:
        """Drop the connection (it cannot be reused mid-body)."""
        if not self.closed:
            self.closed = True
            self.response.close()

    def drain(self) -> None:
        """Read the few bytes after [DONE] so the connection returns to the pool."""
        raw = self.response.raw
        remaining = _DRAIN_LIMIT
        # Whatever fails here, the stream itself is complete; close() drops the socket.
        with contextlib.suppress(Exception):
            while remaining > 0:
                data = raw.read1(remaining)
                if not data:
                    raw.release_conn()
                    self.closed = True
                    return
                remaining -= len(data)


def _read_chunks(
    body: _Body, parser: ChunkParser, add: Callable[[StreamChunk], None]
) -> Generator[StreamChunk, None, None]:
    """Socket bytes -> parser -> chunks, as they arrive; releases the body at the end."""
    try:
        read1 = body.response.raw.read1
        while True:
            try:
                data = read1(_READ_SIZE)
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                if _is_read_timeout(exc):
                    raise _connection_error(exc, parser.request_id) from exc
                chunks = iter(parser.connection_lost(exc))
                data = b""  # the body ends here
            else:
                chunks = parser.iter_feed(data) if data else iter(parser.close())
            for chunk in chunks:
                add(chunk)
                yield chunk
            if parser.done:
                body.drain()
                return
            if not data:
                return
            parser.raise_pending()
    finally:
        body.close()


class Stream:
    """The chunks of a streaming completion, as they arrive.

    Iterate it for :class:`StreamChunk` objects; use it as a context manager
    (or call :meth:`close`) so the connection is released even if you stop
    early. :meth:`final_response` reads the rest and returns everything as one
    :class:`SendResponse`; :attr:`text_stream` yields only text.
    """

    def __init__(self, response: requests.Response, whole: SendResponse | None = None) -> None:
        self.headers: Mapping[str, str] = lower_headers(response.headers)
        self._body = _Body(response)
        self._accumulator = StreamAccumulator()
        # A whole chat.completion answered instead of a stream: one chunk says it all.
        self._whole = whole
        if whole is not None:
            self._body.close()
            self._iterator: Generator[StreamChunk, None, None] = (
                chunk for chunk in (chunk_from_completion(whole),)
            )
        else:
            parser = ChunkParser(request_id=self.headers.get("x-request-id"))
            self._iterator = _read_chunks(self._body, parser, self._accumulator.add)

    @property
    def provider(self) -> str | None:
        """The provider that answered, from ``X-Edgee-Provider``."""
        return self.headers.get("x-edgee-provider")

    @property
    def request_id(self) -> str | None:
        """The gateway's ``x-request-id`` for this stream."""
        return self.headers.get("x-request-id")

    def __iter__(self) -> Iterator[StreamChunk]:
        return self

    def __next__(self) -> StreamChunk:
        return next(self._iterator)

    @property
    def text_stream(self) -> Iterator[str]:
        """Only the text of the first choice, piece by piece."""
        for chunk in self:
            text = chunk.text
            if text:
                yield text

    def final_response(self) -> SendResponse:
        """Read what is left and return the whole stream as one :class:`SendResponse`."""
        for _ in self:
            pass
        if self._whole is not None:
            return self._whole
        return attach_headers(self._accumulator.response(), self.headers)

    def close(self) -> None:
        """Stop reading and release the connection (closed unless fully read)."""
        self._body.close()
        self._iterator.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Never raise from a finalizer; the interpreter may be shutting down.
        with contextlib.suppress(Exception):
            self._body.close()
