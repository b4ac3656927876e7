"""``Edgee``: the synchronous client, on ``requests``.

A driver of the sans-IO core: ``_request`` builds the request,
``_attempts.attempt_flow`` decides everything about its attempts, this module
executes its commands with one ``requests.Session`` (failures mapped by
``_sync_stream.mapped``, as MapErrors does); streams are ``_sync_stream``'s. No protocol
decision lives here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal, overload

import requests

from edgee import _observe
from edgee._attempts import Deliver, ReadBody, Release, Send, Stale, attempt_flow
from edgee._attempts import Head as _Head
from edgee._client import ClientBase
from edgee._config import ClientOptions, EdgeeConfig, Timeout
from edgee._content_coding import ContentDecodingError
from edgee._headers import lower_headers
from edgee._request import (
    COMPRESS_PATH,
    COUNT_TOKENS_PATH,
    InputLike,
    PreparedRequest,
    build_chat_request,
    build_input_request,
    build_models_request,
)
from edgee._requests_pool import SyncPool, read_body
from edgee._requests_send import Sender
from edgee._response import parse_completion, parse_json
from edgee._streaming import StreamState
from edgee._structured import ParsedResponse, ResponseT, plan_call
from edgee._sync_stream import FAILURES, Stream, mapped
from edgee._tls import VerifyOption
from edgee._tool_loop import ToolLoop
from edgee._tool_runs import ToolRunStream, run_steps
from edgee._urllib3_internals import is_stale_failure, set_pool_timeout
from edgee.errors import APIConnectionError, APIError, EdgeeError
from edgee.models import (
    CompressResponse,
    CountTokensResponse,
    ModelList,
    SendResponse,
)
from edgee.tools import FunctionTool, ToolRunResult

__all__ = ["Edgee", "Stream", "ToolRunStream"]


class Edgee(ClientBase):
    """Synchronous client of the Edgee AI Gateway.

    ``Edgee()`` reads ``EDGEE_API_KEY`` and ``EDGEE_BASE_URL``; the official
    SDK's forms ``Edgee("key")``, ``Edgee(EdgeeConfig(...))`` and
    ``Edgee({...})`` work too. One ``requests.Session`` (one connection pool
    of at most ``connection_limit`` connections) serves every call; use the
    client as a context manager or call :meth:`close` to release it.
    ``verify=`` is ``True``, ``False``, a CA bundle path or an
    :class:`ssl.SSLContext` (see the README's TLS section for the CA rule).
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
        session: requests.Session | None = None,
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
        self._pool = SyncPool(session, self._options.connection_limit, verify)
        self._sender = Sender(direct=self._pool.owned)

    @classmethod
    def _from_options(
        cls, options: ClientOptions, source: Edgee, obs: _observe.Observability | None
    ) -> Edgee:
        client = cls.__new__(cls)
        client._options = options
        client._observability = obs
        client._pool = source._pool
        client._sender = source._sender
        return client

    def with_options(
        self,
        *,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        hooks: _observe.HooksArg | None = None,
    ) -> Edgee:
        """A copy with other defaults that shares this client's connection pool."""
        options = self._options.with_options(
            timeout=timeout, max_retries=max_retries, default_headers=default_headers
        )
        observability = _observe.with_hooks(self._observability, hooks)
        return Edgee._from_options(options, self, observability)

    def close(self) -> None:
        """Release pooled connections (only of a session this client created)."""
        self._pool.close()

    def __enter__(self) -> Edgee:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @overload
    def send(
        self, model: str, input: InputLike, stream: Literal[False] = False, **options: Any
    ) -> SendResponse: ...

    @overload
    def send(
        self, model: str, input: InputLike, stream: Literal[True], **options: Any
    ) -> Stream: ...

    def send(
        self, model: str, input: InputLike, stream: bool = False, **options: Any
    ) -> SendResponse | Stream:
        """Send one chat completion and return the whole response.

        ``send(..., stream=True)`` returns what :meth:`stream` returns, as the
        official SDK does.
        """
        if stream:
            return self.stream(model, input, **options)
        request = build_chat_request(self._options, model, input, stream=False, **options)
        return parse_completion(*self._read(request))

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
        run = _observe.start_run(self._observability, model)
        loop = ToolLoop(input, tools, max_iterations, run)
        with loop.observing():
            while True:
                response = self.send(model, loop.next_input(), **options)
                steps = loop.record(response)
                if not steps:
                    return loop.result(response)
                run_steps(loop, steps)

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
        run = _observe.start_run(self._observability, model)
        loop = ToolLoop(input, tools, max_iterations, run)
        return ToolRunStream(lambda turn: self.stream(model, turn, **options), loop)

    def _read(self, request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        """Send with retries and read the whole body: (status, lower-cased headers, body)."""
        answer, _ = self._send(request)
        assert answer.body is not None  # every non-stream 2xx body is read whole
        return answer.status, answer.headers, answer.body

    def stream(self, model: str, input: InputLike, **options: Any) -> Stream:
        """Start a streaming chat completion.

        The request is made and its status checked before this returns, so a
        bad key or an HTTP error raises here; problems during the stream
        raise from the iteration.
        """
        plan = plan_call(options)  # response_format=T, @tool functions: read by the state
        request = build_chat_request(self._options, model, input, stream=True, **plan.options)
        answer, response = self._send(request)
        return Stream(response, StreamState.of_answer(answer, plan))

    def parse(
        self,
        model: str,
        input: InputLike,
        *,
        response_format: type[ResponseT] | Mapping[str, Any],
        **options: Any,
    ) -> ParsedResponse[ResponseT]:
        """Send a chat completion asking for a ``response_format=T`` answer, read as ``T``.

        ``T`` is an attrs class, a dataclass, a ``TypedDict`` or a pydantic model
        (or a JSON Schema / ``response_format`` dict: plain JSON back). Returns a
        :class:`ParsedResponse` (``parsed``, ``refusal``, tool calls with
        ``parsed_arguments``); raises a :class:`~edgee.errors.StructuredOutputError`
        subclass carrying ``content`` when the answer cannot be read as ``T``.
        """
        plan = plan_call({**options, "response_format": response_format}, parse=True)
        return plan.read(self.send(model, input, **plan.options))

    def _send(self, request: PreparedRequest) -> tuple[Deliver, requests.Response]:
        """The driver of ``_attempts.attempt_flow``: runs its commands, returns its answer."""
        session = self._pool.get()
        verify = self._pool.verify
        sender = self._sender
        observer = None
        if self._observability is not None or _observe.global_telemetry is not None:
            observer = _observe.start_call(self._observability, request)
        flow = attempt_flow(request, observer)
        command = next(flow)
        response: requests.Response | None = None
        tls = self._pool.tls
        while type(command) is not Deliver:
            outcome: _Head | Stale | bytes | APIError | None = None
            try:
                if type(command) is Send:
                    response = None
                    sent = command.request
                    set_pool_timeout(sent.timeout.pool)
                    response = sender.send(session, sent, verify)
                    raw = response.raw.headers
                    outcome = _Head(response.status_code, lower_headers(raw), raw.items())
                elif type(command) is ReadBody:
                    assert response is not None
                    outcome = read_body(response, command, sent.timeout.read)
                elif type(command) is Release:
                    assert response is not None
                    response.close()
                else:
                    time.sleep(command.seconds)  # type: ignore[union-attr]
            except FAILURES as exc:  # a requests/urllib3/socket failure becomes the SDK's
                failure = exc if isinstance(exc, EdgeeError) else mapped(exc, None, tls)
                if failure is not exc:
                    failure.__cause__ = exc  # as `raise failure from exc` would
                if not isinstance(failure, (APIConnectionError, ContentDecodingError)):
                    raise failure from failure.__cause__  # a refused framing: not for the flow
                if response is not None:
                    response.close()
                stale = type(command) is Send and is_stale_failure(failure)
                outcome = Stale(failure) if stale else failure  # type: ignore[arg-type]
            command = flow.send(outcome)
        assert response is not None
        return command, response
