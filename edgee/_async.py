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
import urllib.parse
import weakref
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Mapping,
    Sequence,
)
from typing import Any, Literal, overload

import aiohttp
import aiohttp.helpers
import yarl

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
from edgee._tool_loop import Invocation, ToolLoop, ainvoke
from edgee.errors import (
    APIConnectionError,
    APITimeoutError,
    ClientStateError,
    StreamError,
)
from edgee.models import (
    CompressResponse,
    CountTokensResponse,
    ModelList,
    SendResponse,
    StreamChunk,
)
from edgee.tools import FunctionTool, ToolCallResult, ToolRunResult

__all__ = ["AsyncEdgee", "AsyncStream", "AsyncToolRunStream"]

# After [DONE], read at most this much to reach the end of the body so the
# connection can go back to the pool; a longer tail means close it instead.
_DRAIN_LIMIT = 64 * 1024
DEFAULT_CONNECTION_LIMIT = 100
# Bytes taken from the response per read (readany() would hand over everything
# buffered): few chunks parsed per read, few objects alive at once (benchmarks/).
_READ_SIZE = 16 * 1024


def _connection_error(exc: BaseException, request_id: str | None = None) -> APIConnectionError:
    # SocketTimeoutError is both a ClientConnectionError and a TimeoutError:
    # test for the timeout first.
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return APITimeoutError(f"Request timed out: {type(exc).__name__}", request_id=request_id)
    return APIConnectionError(
        f"Connection error: {type(exc).__name__}: {exc}", request_id=request_id
    )


@functools.lru_cache(maxsize=64)  # one per Timeout value, not one per request
def _client_timeout(t: Timeout) -> aiohttp.ClientTimeout:
    # No total deadline: aiohttp's default total=300 s would cut every long stream.
    # sock_read is an idle timeout, the contract's `read`.
    return aiohttp.ClientTimeout(total=None, sock_connect=t.connect, sock_read=t.read)


class _Pool:
    """The one ClientSession of a client (and of its with_options copies), made lazily.

    aiohttp sessions belong to the event loop they were created in; the pool
    remembers it and refuses use from another loop with a clear error.
    """

    def __init__(self, session: aiohttp.ClientSession | None, limit: int) -> None:
        self.session = session
        self.owned = session is None
        self.limit = limit
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closed = False
        self.streams: weakref.WeakSet[AsyncStream] = weakref.WeakSet()
        self.proxies: dict[str, tuple[Any, Any]] = {}

    def proxy_for(self, url: str) -> tuple[Any, Any]:
        """``(proxy, proxy_auth)`` for ``url`` from HTTP(S)_PROXY/NO_PROXY, once per origin.

        Not aiohttp's ``trust_env``: that looks the proxy up, and reads ~/.netrc,
        in a worker thread on every request (about 0.5 ms each), and a netrc
        entry for the gateway would clash with our Authorization header.
        """
        if not self.owned:
            return None, None  # the caller's session decides
        parts = urllib.parse.urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        found = self.proxies.get(origin)
        if found is None:
            try:
                found = aiohttp.helpers.get_env_proxy_for_url(yarl.URL(url))
            except LookupError:
                found = (None, None)
            self.proxies[origin] = found
        return found

    def get(self) -> aiohttp.ClientSession:
        if self.closed:
            raise ClientStateError("this AsyncEdgee client is closed")
        loop = asyncio.get_running_loop()
        if self.loop is None:
            self.loop = loop
        elif loop is not self.loop:
            raise ClientStateError(
                "this AsyncEdgee client was first used in another event loop; "
                "create one client per event loop"
            )
        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.limit),
                trust_env=False,  # HTTP(S)_PROXY is honoured through proxy_for()
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return self.session

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for stream in list(self.streams):
            stream._abort("the client was closed while this stream was open")
        if self.session is not None and self.owned:
            await self.session.close()


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
        self._pool = _Pool(session, connection_limit)

    @classmethod
    def _from_options(cls, options: ClientOptions, pool: _Pool) -> AsyncEdgee:
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
        self, model: str, input: InputLike, *, stream: Literal[False] = False, **options: Any
    ) -> SendResponse: ...

    @overload
    async def send(
        self, model: str, input: InputLike, *, stream: Literal[True], **options: Any
    ) -> AsyncStream: ...

    async def send(
        self, model: str, input: InputLike, *, stream: bool = False, **options: Any
    ) -> SendResponse | AsyncStream:
        """Send one chat completion and return the whole response.

        ``await send(..., stream=True)`` returns what ``await stream()`` returns.
        """
        if stream:
            return await self.stream(model, input, **options)
        request = build_chat_request(self._options, model, input, stream=False, **options)
        status, headers, body = await self._read(request)
        return parse_completion(status, headers, body)

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
            await _run_steps(loop, steps)

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
        return AsyncToolRunStream(self, model, ToolLoop(input, tools, max_iterations), options)

    async def _read(self, request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        """Send with retries and read the whole body: (status, lower-cased headers, body)."""
        response = await self._send(request)
        headers = lower_headers(response.headers)
        try:
            body = await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _connection_error(exc, headers.get("x-request-id")) from exc
        finally:
            response.release()
        return response.status, headers, body

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
        response = await self._send(request)
        whole = None
        if reads_whole_body(True, response.headers):
            # JSON or HTML instead of an event stream: an error, or the whole answer.
            try:
                body = await response.read()  # already read by _send
            finally:
                response.release()
            whole = stream_fallback(response.status, lower_headers(response.headers), body)
        stream = AsyncStream(response, whole)
        self._pool.streams.add(stream)
        return stream

    async def _send(self, request: PreparedRequest) -> aiohttp.ClientResponse:
        """One request with the retry policy applied; returns a 2xx response.

        Redirects are followed as ``_response.follow_redirect`` decides (not by
        ``aiohttp``). A body read whole (see ``_response.reads_whole_body``) is
        read here, so a connection lost in its middle is retried too.
        """
        session = self._pool.get()
        timeout = _client_timeout(request.timeout)
        attempts = Attempts(request)
        while True:
            request = attempts.start()
            proxy, proxy_auth = self._pool.proxy_for(request.url)
            try:
                response = await session.request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    data=request.body,
                    timeout=timeout,
                    proxy=proxy,
                    proxy_auth=proxy_auth,
                    allow_redirects=False,
                )
                if response.status < 300 and reads_whole_body(request.stream, response.headers):
                    await response.read()  # kept by aiohttp; read() again returns it
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                if self._pool.closed:
                    raise ClientStateError("this AsyncEdgee client is closed") from exc
                delay = attempts.failed(_connection_error(exc), exc)
            else:
                status = response.status
                attempts.answered(status)
                if status < 300:
                    return response
                if status < 400:
                    response.release()
                    attempts.redirected(status, response.headers)
                    continue
                try:
                    body = await response.read()
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    body = b""
                finally:
                    response.release()
                delay = attempts.rejected(status, response.headers, body)
            await asyncio.sleep(delay)


async def _run_steps(loop: ToolLoop, steps: list[Invocation]) -> list[ToolCallResult]:
    """Run one turn's calls concurrently; record their results in the model's order."""
    outcomes = await asyncio.gather(*(ainvoke(step) for step in steps))
    return [
        loop.complete(step.call, output=value, error=error)
        for step, (value, error) in zip(steps, outcomes, strict=True)
    ]


class AsyncToolRunStream:
    """The events of a streaming tool run; ``async for`` it, then read :attr:`result`."""

    def __init__(
        self, client: AsyncEdgee, model: str, loop: ToolLoop, options: Mapping[str, Any]
    ) -> None:
        self.result: ToolRunResult | None = None
        self._events = self._run(client, model, loop, options)

    def __aiter__(self) -> AsyncIterator[StreamChunk | ToolCallResult]:
        return self._events

    async def _run(
        self, client: AsyncEdgee, model: str, loop: ToolLoop, options: Mapping[str, Any]
    ) -> AsyncGenerator[StreamChunk | ToolCallResult, None]:
        while True:
            async with client.stream(model, loop.next_input(), **options) as stream:
                async for chunk in stream:
                    yield chunk
                response = await stream.final_response()
            steps = loop.record(response)
            if not steps:
                self.result = loop.result(response)
                return
            for result in await _run_steps(loop, steps):
                yield result


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

    __slots__ = ("abort_reason", "closed", "response")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.closed = False
        self.abort_reason: str | None = None

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
        remaining = _DRAIN_LIMIT
        # Whatever fails here, the stream itself is complete; close() drops the socket.
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, OSError):
            while remaining > 0:
                data = await content.readany()
                if not data:
                    self.closed = True
                    self.response.release()
                    return
                remaining -= len(data)


def _buffered(content: aiohttp.StreamReader) -> bytes:
    """The bytes aiohttp received before the connection failed.

    Its ``read()`` raises the failure first and would drop them (a body cut
    short right after its last chunks loses those chunks); the sync client
    gets them, so this one must too. ``_read_nowait`` is private but is the
    only way to them.
    """
    try:
        return content._read_nowait(-1)
    except Exception:  # a timeout, or another aiohttp: nothing to salvage
        return b""


async def _read_chunks(
    body: _Body, parser: ChunkParser, add: Callable[[StreamChunk], None]
) -> AsyncGenerator[StreamChunk, None]:
    """Socket bytes -> parser -> chunks, as they arrive; releases the body at the end."""
    try:
        read = body.response.content.read
        while True:
            try:
                data = await read(_READ_SIZE)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                if body.abort_reason is not None:
                    raise StreamError(body.abort_reason, request_id=parser.request_id) from exc
                if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
                    raise _connection_error(exc, parser.request_id) from exc
                # Bytes that arrived before the failure come first (the next
                # read() raises the same error again), then the failure.
                data = _buffered(body.response.content)
                chunks = iter(parser.feed(data) if data else parser.connection_lost(exc))
            else:
                if not data and body.abort_reason is not None:
                    raise StreamError(body.abort_reason, request_id=parser.request_id)
                chunks = parser.iter_feed(data) if data else iter(parser.close())
            for chunk in chunks:
                add(chunk)
                yield chunk
            if parser.done:
                await body.drain()
                return
            if not data:
                return
            parser.raise_pending()
    finally:
        body.close()


async def _one_chunk(chunk: StreamChunk) -> AsyncGenerator[StreamChunk, None]:
    yield chunk


class AsyncStream:
    """The chunks of a streaming completion, as they arrive (``async for``).

    Use ``async with`` (or ``await stream.aclose()``) so the connection is
    released even if you stop early; breaking out of the loop or cancelling
    the task that reads also releases it. :meth:`final_response` reads the
    rest and returns everything as one :class:`SendResponse`.
    """

    def __init__(self, response: aiohttp.ClientResponse, whole: SendResponse | None = None) -> None:
        self.headers: Mapping[str, str] = lower_headers(response.headers)
        self._body = _Body(response)
        self._accumulator = StreamAccumulator()
        # A whole chat.completion answered instead of a stream: one chunk says it all.
        self._whole = whole
        if whole is not None:
            self._body.close()
            self._iterator: AsyncGenerator[StreamChunk, None] = _one_chunk(
                chunk_from_completion(whole)
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
        if self._whole is not None:
            return self._whole
        return attach_headers(self._accumulator.response(), self.headers)

    def _abort(self, reason: str) -> None:
        self._body.abort(reason)

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
