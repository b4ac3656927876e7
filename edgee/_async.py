"""``AsyncEdgee``: the asyncio client, on ``aiohttp``.

The twin of ``_sync.py``: ``_request`` builds the request,
``_attempts.attempt_flow`` decides everything about its attempts, and this
module drives the flow through one ``aiohttp.ClientSession`` (``_aiohttp_pool``);
streams are ``_async_stream``'s. Importing ``edgee`` does not import this
module (nor ``aiohttp``) until an ``AsyncEdgee`` is first used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Literal, overload

import aiohttp

from edgee import _observe
from edgee._aiohttp_internals import ConnectionUse
from edgee._aiohttp_pool import Pool
from edgee._aiohttp_send import Sender
from edgee._async_stream import FAILURES, AsyncStream, MapErrors, StreamOpener, mapped, read_body
from edgee._attempts import Deliver, ReadBody, Release, Send, Stale, attempt_flow
from edgee._attempts import Head as _Head
from edgee._client import ClientBase
from edgee._config import ClientOptions, EdgeeConfig, Timeout
from edgee._content_coding import ContentDecodingError
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
from edgee._response import parse_completion, parse_json
from edgee._streaming import StreamState
from edgee._structured import CallPlan, ParsedResponse, ResponseT, plan_call
from edgee._tls import VerifyOption
from edgee._tool_loop import ToolLoop
from edgee._tool_runs import AsyncToolRunStream, run_steps_async
from edgee.errors import APIConnectionError, APIError, EdgeeError
from edgee.models import (
    CompressResponse,
    CountTokensResponse,
    ModelList,
    SendResponse,
)
from edgee.tools import FunctionTool, ToolRunResult

__all__ = ["AsyncEdgee", "AsyncStream", "AsyncToolRunStream"]


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
        hooks: _observe.HooksArg | None = None,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        session: aiohttp.ClientSession | None = None,
        connection_limit: int | None = None,
        verify: VerifyOption | None = None,
    ) -> None:
        self._options = self._resolve(
            config,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            connection_limit=connection_limit,
        )
        self._observability = _observe.resolve_observability(hooks, tracer_provider, meter_provider)
        self._pool = Pool(session, self._options.connection_limit, verify)
        self._sender = Sender(self._pool)

    @classmethod
    def _from_options(
        cls, options: ClientOptions, source: AsyncEdgee, obs: _observe.Observability | None
    ) -> AsyncEdgee:
        client = cls.__new__(cls)
        client._options = options
        client._observability = obs
        client._pool, client._sender = source._pool, source._sender
        return client

    def with_options(
        self,
        *,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        hooks: _observe.HooksArg | None = None,
    ) -> AsyncEdgee:
        """A copy with other defaults that shares this client's connection pool."""
        options = self._options.with_options(
            timeout=timeout, max_retries=max_retries, default_headers=default_headers
        )
        observability = _observe.with_hooks(self._observability, hooks)
        return AsyncEdgee._from_options(options, self, observability)

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
        answer, _ = await self._send(request)  # not through _read: one coroutine less
        assert answer.body is not None  # every non-stream 2xx body is read whole
        return parse_completion(answer.status, answer.headers, answer.body)

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
        run = _observe.start_run(self._observability, model)
        loop = ToolLoop(input, tools, max_iterations, run)
        with loop.observing():
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
        run = _observe.start_run(self._observability, model)
        loop = ToolLoop(input, tools, max_iterations, run)
        return AsyncToolRunStream(lambda turn: self.stream(model, turn, **options), loop)

    async def _read(self, request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        """Send with retries and read the whole body: (status, lower-cased headers, body)."""
        answer, _ = await self._send(request)
        assert answer.body is not None  # every non-stream 2xx body is read whole
        return answer.status, answer.headers, answer.body

    def stream(self, model: str, input: InputLike, **options: Any) -> StreamOpener:
        """Start a streaming chat completion: ``await`` it, or use it with ``async with``.

        The request is made and its status checked before the stream is
        handed over, so a bad key or an HTTP error raises there; problems
        during the stream raise from the iteration.
        """
        # Built now, so invalid input raises at the call, before any await.
        plan = plan_call(options)  # response_format=T, @tool functions: read by the state
        request = build_chat_request(self._options, model, input, stream=True, **plan.options)
        return StreamOpener(lambda: self._open_stream(request, plan))

    async def parse(
        self,
        model: str,
        input: InputLike,
        *,
        response_format: type[ResponseT] | Mapping[str, Any],
        **options: Any,
    ) -> ParsedResponse[ResponseT]:
        """Send a chat completion asking for a ``response_format=T`` answer, read as ``T``."""
        plan = plan_call({**options, "response_format": response_format}, parse=True)
        return plan.read(await self.send(model, input, **plan.options))

    async def _open_stream(self, request: PreparedRequest, plan: CallPlan) -> AsyncStream:
        answer, response = await self._send(request)
        stream = AsyncStream(response, StreamState.of_answer(answer, plan))
        self._pool.streams.add(stream._body)
        return stream

    async def _send(self, request: PreparedRequest) -> tuple[Deliver, aiohttp.ClientResponse]:
        """The driver of ``_attempts.attempt_flow``: runs its commands, returns its answer."""
        pool = self._pool
        session = pool.get()
        send = self._sender.send
        observer = None
        if self._observability is not None or _observe.global_telemetry is not None:
            observer = _observe.start_call(self._observability, request, is_async=True)
        flow = attempt_flow(request, observer)
        command = next(flow)
        response: aiohttp.ClientResponse | None = None
        while type(command) is not Deliver:
            if observer is not None and observer.pending:
                await observer.flush()  # what async hooks returned, in order
            outcome: _Head | Stale | bytes | APIError | None = None
            try:
                if type(command) is Send:
                    response = None
                    sent = command.request
                    use = ConnectionUse(sent.timeout.pool)
                    response = await send(session, sent, use)
                    raw = response.raw_headers
                    outcome = _Head(response.status, decode_raw_headers(raw), raw)
                elif type(command) is ReadBody:
                    assert response is not None
                    read = response.read() if command.plain else read_body(response, command)
                    outcome = await read
                elif type(command) is Release:
                    assert response is not None
                    response.release()
                else:
                    await asyncio.sleep(command.seconds)  # type: ignore[union-attr]
            except FAILURES as exc:  # an aiohttp/socket failure becomes the SDK's (MapErrors)
                failure = exc if isinstance(exc, EdgeeError) else mapped(exc, pool, pool.tls, use)
                if failure is not exc:
                    failure.__cause__ = exc  # as `raise failure from exc` would
                if not isinstance(failure, (APIConnectionError, ContentDecodingError)):
                    raise failure from failure.__cause__  # a closed client, a bad framing
                if response is not None:
                    response.close()
                stale = type(command) is Send and use.reused and MapErrors.stale(failure)
                outcome = Stale(failure) if stale else failure  # type: ignore[arg-type]
            command = flow.send(outcome)
        if observer is not None and observer.pending:
            await observer.flush()
        assert response is not None
        return command, response
