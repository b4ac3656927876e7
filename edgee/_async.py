"""``AsyncEdgee``: the asyncio client, on ``aiohttp``.

The mirror of ``_sync.py`` line for line where it can be: the same core
builds requests, decides retries, maps statuses and parses the stream; this
module only moves bytes through one ``aiohttp.ClientSession``. Importing
``edgee`` does not import this module (nor ``aiohttp``) until an
``AsyncEdgee`` is first used.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Generator,
    Mapping,
    Sequence,
)
from typing import Any, Literal, overload

import aiohttp

from edgee._aiohttp_internals import buffered_bytes
from edgee._aiohttp_pool import Pool
from edgee._attempts import Deliver, ReadBody, Release, Send, attempt_flow
from edgee._attempts import Head as _Head
from edgee._client import ClientBase
from edgee._config import ClientOptions, EdgeeConfig, Timeout
from edgee._headers import decode_raw_headers
from edgee._request import (
    COMPRESS_PATH,
    COUNT_TOKENS_PATH,
    InputLike,
    PreparedRequest,
    build_chat_request,
    build_input_request,
    build_models_request,
)
from edgee._response import parse_completion, parse_json, stream_fallback
from edgee._streaming import DONE, DRAIN_LIMIT, NEED_DATA, READ_SIZE, StreamState, StreamView
from edgee._tool_loop import ToolLoop
from edgee._tool_runs import AsyncToolRunStream, run_steps_async
from edgee.errors import (
    APIConnectionError,
    APITimeoutError,
    ClientStateError,
    EdgeeError,
    StreamError,
)
from edgee.models import (
    CompressResponse,
    CountTokensResponse,
    ModelList,
    SendResponse,
    StreamChunk,
)
from edgee.tools import FunctionTool, ToolRunResult

__all__ = ["AsyncEdgee", "AsyncStream", "AsyncToolRunStream"]

DEFAULT_CONNECTION_LIMIT = 100
_FAILURES = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


class _MapErrors:
    """``with _MapErrors(request_id, pool):`` turns an aiohttp/socket failure into
    :class:`APITimeoutError` or :class:`APIConnectionError` (the only place that does),
    or :class:`ClientStateError` when it came because the client was closed."""

    __slots__ = ("pool", "request_id")

    def __init__(self, request_id: str | None = None, pool: Pool | None = None) -> None:
        self.request_id = request_id
        self.pool = pool

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, _FAILURES) and not isinstance(exc, EdgeeError):
            if self.pool is not None and self.pool.closed:
                raise ClientStateError("this AsyncEdgee client is closed") from exc
            # SocketTimeoutError is both a ClientConnectionError and a TimeoutError:
            # test for the timeout first.
            if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
                message = f"Request timed out: {type(exc).__name__}"
                raise APITimeoutError(message, request_id=self.request_id) from exc
            message = f"Connection error: {type(exc).__name__}: {exc}"
            raise APIConnectionError(message, request_id=self.request_id) from exc


@functools.lru_cache(maxsize=64)  # one per Timeout value, not one per request
def _client_timeout(t: Timeout) -> aiohttp.ClientTimeout:
    # No total deadline: aiohttp's default total=300 s would cut every long stream.
    # sock_read is an idle timeout, the contract's `read`.
    return aiohttp.ClientTimeout(total=None, sock_connect=t.connect, sock_read=t.read)


class AsyncEdgee(ClientBase):
    """Asyncio client of the Edgee AI Gateway; the same arguments and methods as ``Edgee``.

    The ``aiohttp.ClientSession`` is created on first use, inside the running
    loop. Use ``async with AsyncEdgee() as client:`` or ``await client.close()``.
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
        session: aiohttp.ClientSession | None = None,
        connection_limit: int = DEFAULT_CONNECTION_LIMIT,
    ) -> None:
        self._options = self._resolve(
            config,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
        )
        if not isinstance(connection_limit, int) or connection_limit < 0:
            raise ValueError("connection_limit must be a non-negative integer (0: no limit)")
        self._pool = Pool(session, connection_limit)

    @classmethod
    def _from_options(cls, options: ClientOptions, pool: Pool) -> AsyncEdgee:
        client = cls.__new__(cls)
        client._options = options
        client._pool = pool
        return client

    def with_options(
        self,
        *,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> AsyncEdgee:
        """A copy with other defaults that shares this client's connection pool."""
        options = self._options.with_options(
            timeout=timeout, max_retries=max_retries, default_headers=default_headers
        )
        return AsyncEdgee._from_options(options, self._pool)

    async def close(self) -> None:
        """Release pooled connections; streams still open end with a :class:`StreamError`."""
        await self._pool.close()

    aclose = close

    async def __aenter__(self) -> AsyncEdgee:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @overload
    async def send(
        self, model: str, input: InputLike, stream: Literal[False] = False, **options: Any
    ) -> SendResponse: ...

    @overload
    async def send(
        self, model: str, input: InputLike, stream: Literal[True], **options: Any
    ) -> AsyncStream: ...

    async def send(
        self, model: str, input: InputLike, stream: bool = False, **options: Any
    ) -> SendResponse | AsyncStream:
        """Send one chat completion and return the whole response.

        ``await send(..., stream=True)`` returns what ``await stream()`` returns.
        """
        if stream:
            return await self.stream(model, input, **options)
        request = build_chat_request(self._options, model, input, stream=False, **options)
        return parse_completion(*await self._read(request))

    async def models(self, provider: str | None = None, **options: Any) -> ModelList:
        """The models the gateway can route to (``GET /v1/models``), optionally of one provider."""
        request = build_models_request(self._options, provider, **options)
        status, headers, body = await self._read(request)
        return parse_json(status, headers, body, ModelList, "a model list")

    async def count_tokens(
        self, model: str, input: InputLike, **options: Any
    ) -> CountTokensResponse:
        """How many input tokens ``input`` would cost with ``model`` (``POST /v1/count_tokens``)."""
        request = build_input_request(self._options, COUNT_TOKENS_PATH, model, input, **options)
        status, headers, body = await self._read(request)
        return parse_json(status, headers, body, CountTokensResponse, "a token count")

    async def compress(self, model: str, input: InputLike, **options: Any) -> CompressResponse:
        """Compress ``input`` without generating (``POST /v1/compress``): messages and savings."""
        request = build_input_request(self._options, COMPRESS_PATH, model, input, **options)
        status, headers, body = await self._read(request)
        return parse_json(status, headers, body, CompressResponse, "a compression report")

    async def run_tools(
        self,
        model: str,
        input: InputLike,
        *,
        tools: Sequence[FunctionTool],
        max_iterations: int = 10,
        **options: Any,
    ) -> ToolRunResult:
        """Send, run the tools the model asks for, send their results back, repeat.

        Parallel calls of one turn run concurrently (sync tools in worker
        threads). Otherwise the same as :meth:`Edgee.run_tools`.
        """
        loop = ToolLoop(input, tools, max_iterations)
        while True:
            response = await self.send(model, loop.next_input(), **options)
            steps = loop.record(response)
            if not steps:
                return loop.result(response)
            await run_steps_async(loop, steps)

    def run_tools_stream(
        self,
        model: str,
        input: InputLike,
        *,
        tools: Sequence[FunctionTool],
        max_iterations: int = 10,
        **options: Any,
    ) -> AsyncToolRunStream:
        """Like :meth:`run_tools`, streaming: ``async for`` yields each :class:`StreamChunk`
        and a :class:`~edgee.tools.ToolCallResult` after each tool runs; ``.result``
        holds the :class:`~edgee.tools.ToolRunResult` at the end."""
        loop = ToolLoop(input, tools, max_iterations)
        return AsyncToolRunStream(lambda turn: self.stream(model, turn, **options), loop)

    async def _read(self, request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        """Send with retries and read the whole body: (status, lower-cased headers, body)."""
        answer, _ = await self._send(request)
        assert answer.body is not None  # every non-stream 2xx body is read whole
        return answer.status, answer.headers, answer.body

    def stream(self, model: str, input: InputLike, **options: Any) -> _StreamOpener:
        """Start a streaming chat completion: ``await`` it, or use it with ``async with``.

        The request is made and its status checked before the stream is
        handed over, so a bad key or an HTTP error raises there; problems
        during the stream raise from the iteration.
        """
        # Built now, so invalid input raises at the call, before any await.
        request = build_chat_request(self._options, model, input, stream=True, **options)
        return _StreamOpener(self, request)

    async def _open_stream(self, request: PreparedRequest) -> AsyncStream:
        answer, response = await self._send(request)
        whole = None
        if answer.body is not None:  # JSON or HTML instead of an event stream
            whole = stream_fallback(answer.status, answer.headers, answer.body)
        stream = AsyncStream(response, StreamState(answer.headers, whole))
        self._pool.streams.add(stream._body)
        return stream

    async def _send(self, request: PreparedRequest) -> tuple[Deliver, aiohttp.ClientResponse]:
        """The driver of ``_attempts.attempt_flow``: runs its commands, returns its answer."""
        session = self._pool.get()
        timeout = _client_timeout(request.timeout)
        flow = attempt_flow(request)
        command = next(flow)
        response: aiohttp.ClientResponse | None = None
        errors = _MapErrors(pool=self._pool)
        while type(command) is not Deliver:
            outcome: _Head | bytes | APIConnectionError | None = None
            try:
                with errors:
                    if type(command) is Send:
                        response = None
                        sent = command.request
                        proxy, proxy_auth = self._pool.proxy_for(sent.url)
                        response = await session.request(
                            sent.method,
                            sent.url,
                            headers=sent.headers,
                            data=sent.body,
                            timeout=timeout,
                            proxy=proxy,
                            proxy_auth=proxy_auth,
                            allow_redirects=False,
                        )
                        outcome = _Head(response.status, decode_raw_headers(response.raw_headers))
                    elif type(command) is ReadBody:
                        assert response is not None
                        outcome = await response.read()
                    elif type(command) is Release:
                        assert response is not None
                        response.release()
                    else:
                        await asyncio.sleep(command.seconds)  # type: ignore[union-attr]
            except APIConnectionError as exc:
                if response is not None:
                    response.close()
                outcome = exc
            command = flow.send(outcome)
        assert response is not None
        return command, response


class _StreamOpener:
    """What ``AsyncEdgee.stream()`` returns: awaitable, and an async context manager."""

    def __init__(self, client: AsyncEdgee, request: PreparedRequest) -> None:
        self._client = client
        self._request = request
        self._stream: AsyncStream | None = None

    def __await__(self) -> Generator[Any, None, AsyncStream]:
        return self._client._open_stream(self._request).__await__()

    async def __aenter__(self) -> AsyncStream:
        self._stream = await self._client._open_stream(self._request)
        return self._stream

    async def __aexit__(self, *exc_info: object) -> None:
        if self._stream is not None:
            await self._stream.aclose()


class _Body:
    """The response body of one stream and whether its connection was let go.

    Kept apart from :class:`AsyncStream` so the reading generator does not
    refer to the stream: a stream dropped after ``break`` is freed (and its
    socket closed) at once by reference counting.
    """

    __slots__ = ("__weakref__", "abort_reason", "closed", "errors", "response")

    def __init__(self, response: aiohttp.ClientResponse, request_id: str | None) -> None:
        self.response = response
        self.errors = _MapErrors(request_id)
        self.closed = False
        self.abort_reason: str | None = None

    async def read(self) -> bytes:
        """The next bytes of the body (``b""`` at its end); raises mapped errors.

        Bytes aiohttp received before a failure come first (the next read
        raises the same failure again). A stream ended by the client's
        ``close()`` raises :class:`StreamError`.
        """
        try:
            with self.errors:
                data = await self.response.content.read(READ_SIZE)
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
        # Whatever fails here, the stream itself is complete; close() drops the socket.
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, OSError):
            while remaining > 0:
                data = await content.readany()
                if not data:
                    self.closed = True
                    self.response.release()
                    return
                remaining -= len(data)


async def _read_chunks(body: _Body, state: StreamState) -> AsyncGenerator[StreamChunk, None]:
    """Body bytes -> parser -> chunks, as they arrive; releases the body at the end."""
    parser = state.parser
    next_event, add, need_data, done = parser.next_event, state.accumulator.add, NEED_DATA, DONE
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
                add(event)  # type: ignore[arg-type]
                yield event  # type: ignore[misc]
    finally:
        body.close()


async def _whole(chunks: tuple[StreamChunk, ...]) -> AsyncGenerator[StreamChunk, None]:
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
        self._body = _Body(response, state.parser.request_id)
        if state.whole is not None:  # a whole answer instead of a stream: one chunk says it all
            self._body.close()
            self._iterator = _whole(state.whole_chunks())
        else:
            self._iterator = _read_chunks(self._body, state)

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

    async def final_response(self) -> SendResponse:
        """Read what is left and return the whole stream as one :class:`SendResponse`."""
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
