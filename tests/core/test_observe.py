"""The observer core: hooks, events, spans and metrics, driven by hand (no I/O).

The attempt flow and the stream state call :class:`CallObserver`; here the
calls are made directly, in the orders a real call makes them, and what the
hooks get and what the OpenTelemetry SDK's in-memory exporters hold is checked.
The clients' wiring is tested over loopback in ``tests/clients/test_observability.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode
from otelhelp import InMemoryOtel

import edgee
from edgee import _observe
from edgee._config import resolve_options
from edgee._observe import (
    AsyncObservedChunks,
    CallObserver,
    Hooks,
    ObservedChunks,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    StreamEndEvent,
    check_hooks,
    resolve_observability,
    start_call,
    start_run,
)
from edgee._request import (
    COMPRESS_PATH,
    COUNT_TOKENS_PATH,
    PreparedRequest,
    build_chat_request,
    build_input_request,
    build_models_request,
)
from edgee.errors import APIConnectionError, ConfigurationError, IncompleteStreamError
from edgee.errors import InternalServerError as _ISE
from edgee.models import Choice, ResponseMessage, SendResponse, ToolCall, Usage

KEY = "sk-observe-SECRET-0123456789"
OPTIONS = resolve_options(api_key=KEY, base_url="http://127.0.0.1:8123", environ={})
PROMPT = "a private prompt about llamas"
ANSWER = "a private answer about alpacas"

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # no un-awaited coroutine


class Otel(InMemoryOtel):
    """The in-memory providers, and the resolved observability built on them."""

    def observability(self, hooks: Any = None) -> _observe.Observability:
        obs = resolve_observability(hooks, self.tracer_provider, self.meter_provider)
        assert obs is not None
        return obs

    def span(self) -> ReadableSpan:
        (span,) = self.spans()
        return span


@pytest.fixture
def otel() -> Iterator[Otel]:
    yield Otel()
    _observe.uninstrument()


def chat(**options: Any) -> PreparedRequest:
    return build_chat_request(OPTIONS, "openai/gpt-4o", PROMPT, stream=False, **options)


def completion(**extra: Any) -> bytes:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        **extra,
    }
    return json.dumps(body).encode()


HEADERS = {"content-type": "application/json", "x-edgee-provider": "openai"}


def run_success(observer: CallObserver, request: PreparedRequest, body: bytes) -> None:
    observer.request_sent(request, 0)
    observer.response_received(200, HEADERS)
    observer.succeeded(body)


def dump(span: ReadableSpan) -> str:
    return span.to_json()


# --- hooks: configuration ---------------------------------------------------------------


def test_hooks_validation() -> None:
    with pytest.raises(ConfigurationError, match="unknown event name 'requests'"):
        check_hooks({"requests": [print]})
    with pytest.raises(TypeError, match="mapping"):
        check_hooks([print])
    with pytest.raises(TypeError, match=r"list of callables"):
        check_hooks({"request": print})
    with pytest.raises(TypeError, match=r"\[1\] is not callable"):
        check_hooks({"request": [print, "nope"]})
    assert check_hooks(None) is None
    assert check_hooks({}) is None
    assert check_hooks({"request": []}) is None
    hooks = check_hooks({"request": [print], "stream_end": (repr,)})
    assert hooks == Hooks(request=(print,), stream_end=(repr,))


def test_resolve_observability_off_and_with_options_merge() -> None:
    assert resolve_observability() is None
    assert resolve_observability({"retry": []}) is None
    obs = resolve_observability({"request": [print], "retry": [repr]})
    assert obs is not None and obs.telemetry is None
    # Named events replace, the others stay; [] clears one; all cleared is "off".
    merged = obs.with_hooks({"request": [len]})
    assert merged is not None and merged.hooks == Hooks(request=(len,), retry=(repr,))
    assert obs.with_hooks(None) is obs
    assert obs.with_hooks({"request": [], "retry": []}) is None
    with pytest.raises(ConfigurationError):
        obs.with_hooks({"bogus": []})


def test_off_means_no_observer() -> None:
    assert not _observe.is_instrumented()
    assert start_call(None, chat()) is None
    assert start_run(None, "m") is None
    obs = resolve_observability({"request": [print]})
    assert start_run(obs, "m") is None  # hooks do not see runs, only their calls


# --- hooks: events ------------------------------------------------------------------------


def test_hook_events_of_a_retried_call() -> None:
    seen: list[object] = []
    obs = resolve_observability(
        {name: [seen.append] for name in ("request", "response", "retry", "stream_end")}
    )
    request = chat(extra_headers={"X-Trace": "t1", "X-Edgee-Api-Key": "other-secret"})
    observer = start_call(obs, request)
    assert observer is not None
    observer.request_sent(request, 0)
    observer.response_received(503, {"retry-after": "0"})
    observer.retry_scheduled(0, 0.25, 503)
    observer.request_sent(request, 1)
    observer.retry_scheduled(1, 0.5, APIConnectionError("reset"))
    observer.request_sent(request, 2)
    observer.response_received(200, HEADERS)
    observer.succeeded(completion())

    kinds = [type(e).__name__ for e in seen]
    assert kinds == [
        "RequestEvent",
        "ResponseEvent",
        "RetryEvent",
        "RequestEvent",
        "RetryEvent",
        "RequestEvent",
        "ResponseEvent",
    ]
    first = seen[0]
    assert isinstance(first, RequestEvent)
    assert (first.method, first.url, first.attempt) == (
        "POST",
        "http://127.0.0.1:8123/v1/chat/completions",
        1,
    )
    assert {k.lower() for k in first.headers} >= {"user-agent", "x-trace", "content-type"}
    assert not {"authorization", "x-edgee-api-key"} & {k.lower() for k in first.headers}
    assert KEY not in repr(seen) and KEY not in repr(dict(first.headers))
    assert [e.attempt for e in seen if isinstance(e, RequestEvent)] == [1, 2, 3]
    retries = [e for e in seen if isinstance(e, RetryEvent)]
    assert retries == [RetryEvent(1, 0.25, "503"), RetryEvent(2, 0.5, "APIConnectionError")]
    response = seen[1]
    assert isinstance(response, ResponseEvent)
    assert response.status == 503 and response.headers["retry-after"] == "0"
    assert response.elapsed >= 0
    with pytest.raises(TypeError):
        response.headers["x"] = "y"  # type: ignore[index]  # read-only


@pytest.mark.parametrize(
    ("outcome", "error"),
    [("done", None), ("closed", None), ("error", IncompleteStreamError("cut", chunks_received=2))],
)
def test_stream_end_event(outcome: Any, error: BaseException | None) -> None:
    seen: list[StreamEndEvent] = []
    observer = start_call(resolve_observability({"stream_end": [seen.append]}), chat())
    assert observer is not None
    observer.request_sent(chat(), 0)
    observer.response_received(200, {"content-type": "text/event-stream"})
    observer.stream_started()
    observer.first_chunk()
    observer.first_chunk()  # only the first counts
    observer.stream_finished(outcome, 3, None, error)
    observer.stream_finished("done", 4, None)  # a second end is ignored
    (event,) = seen
    assert (event.chunks, event.outcome, event.error) == (3, outcome, error)
    assert event.time_to_first_chunk is not None and event.time_to_first_chunk >= 0


def test_stream_end_without_chunks_has_no_time_to_first_chunk() -> None:
    seen: list[StreamEndEvent] = []
    observer = start_call(resolve_observability({"stream_end": [seen.append]}), chat())
    assert observer is not None
    observer.stream_finished("closed", 0)
    assert seen == [StreamEndEvent(0, None, "closed", None)]


def test_a_raising_hook_is_logged_and_the_others_run(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[object] = []

    def broken(event: object) -> None:
        raise RuntimeError("hook bug")

    observer = start_call(resolve_observability({"request": [broken, seen.append]}), chat())
    assert observer is not None
    with caplog.at_level(logging.WARNING, logger="edgee"):
        observer.request_sent(chat(), 0)
    assert len(seen) == 1
    (record,) = [r for r in caplog.records if "hook" in r.getMessage()]
    assert record.name == "edgee" and "request hook" in record.getMessage()
    assert record.exc_info is not None and "hook bug" in str(record.exc_info[1])
    assert KEY not in caplog.text


def test_sync_observer_discards_an_async_hook(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[object] = []

    async def async_hook(event: object) -> None:
        ran.append(event)

    observer = start_call(resolve_observability({"request": [async_hook]}), chat())
    assert observer is not None
    with caplog.at_level(logging.WARNING, logger="edgee"), warnings.catch_warnings():
        warnings.simplefilter("error")
        observer.request_sent(chat(), 0)
    assert ran == [] and observer.pending == []
    assert "does not await hooks" in caplog.text


def test_async_observer_awaits_async_hooks_and_logs_their_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    async def good(event: object) -> None:
        await asyncio.sleep(0)
        ran.append(type(event).__name__)

    async def bad(event: object) -> None:
        raise ValueError("async hook bug")

    def plain(event: object) -> None:
        ran.append("plain")

    obs = resolve_observability({"request": [good, bad, plain], "response": [good]})
    observer = start_call(obs, chat(), is_async=True)
    assert observer is not None

    async def drive() -> None:
        observer.request_sent(chat(), 0)
        assert ran == ["plain"] and len(observer.pending) == 2
        await observer.flush()
        observer.response_received(200, HEADERS)
        await observer.flush()

    with caplog.at_level(logging.WARNING, logger="edgee"):
        asyncio.run(drive())
    assert ran == ["plain", "RequestEvent", "ResponseEvent"]
    assert observer.pending == []
    assert "async hook bug" in caplog.text


def test_discard_closes_pending_coroutines() -> None:
    async def hook(event: object) -> None:
        raise AssertionError("never runs")

    observer = start_call(resolve_observability({"stream_end": [hook]}), chat(), is_async=True)
    assert observer is not None
    observer.stream_finished("closed", 0)
    assert len(observer.pending) == 1
    observer.discard()  # no "never awaited" RuntimeWarning (an error in this module)
    assert observer.pending == []


# --- spans and metrics --------------------------------------------------------------------


def test_chat_span_attributes(otel: Otel) -> None:
    request = chat(
        temperature=0.2,
        top_p=0.9,
        max_tokens=64,
        stop=["\n\n", "END"],
        seed=7,
        frequency_penalty=0.5,
        presence_penalty=-0.5,
        n=2,
        tags=["team-a", "prod"],
        session_id="sess-42",
        response_format={"type": "json_object"},
    )
    observer = start_call(otel.observability(), request)
    assert observer is not None
    observer.request_sent(request, 0)
    observer.response_received(
        200, {**HEADERS, "x-edgee-fallback-used": "1", "x-request-id": "req-9"}
    )
    observer.succeeded(
        completion(compression={"saved_tokens": 40, "reduction": 48.5, "time_ms": 3})
    )

    span = otel.span()
    assert span.name == "chat openai/gpt-4o"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "openai/gpt-4o",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.stop_sequences": ("\n\n", "END"),
        "gen_ai.request.seed": 7,
        "gen_ai.request.frequency_penalty": 0.5,
        "gen_ai.request.presence_penalty": -0.5,
        "gen_ai.request.choice.count": 2,
        "gen_ai.output.type": "json",
        "gen_ai.conversation.id": "sess-42",
        "gen_ai.response.id": "chatcmpl-1",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 11,
        "gen_ai.usage.output_tokens": 7,
        "server.address": "127.0.0.1",
        "server.port": 8123,
        "edgee.tags": ("team-a", "prod"),
        "edgee.fallback_used": True,
        "edgee.request_id": "req-9",
        "edgee.compression.saved_tokens": 40,
        "edgee.compression.reduction": 48.5,
    }
    (event,) = span.events
    assert event.name == "edgee.attempt"
    assert dict(event.attributes or {}) == {"edgee.attempt": 1, "http.response.status_code": 200}
    assert KEY not in dump(span) and PROMPT not in dump(span) and ANSWER not in dump(span)

    metric_attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "openai/gpt-4o",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "server.address": "127.0.0.1",
        "server.port": 8123,
    }
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert dict(duration.attributes) == metric_attrs and duration.count == 1
    tokens = {
        p.attributes["gen_ai.token.type"]: p for p in otel.points("gen_ai.client.token.usage")
    }
    assert set(tokens) == {"input", "output"}
    assert tokens["input"].sum == 11 and tokens["output"].sum == 7
    assert dict(tokens["input"].attributes) == {**metric_attrs, "gen_ai.token.type": "input"}
    assert otel.points("gen_ai.client.operation.time_to_first_chunk") == []


def test_defaults_without_gateway_headers(otel: Otel) -> None:
    request = build_chat_request(
        resolve_options(api_key=KEY, base_url="https://gw.example", environ={}),
        "m",
        PROMPT,
        stream=False,
        n=1,
    )
    observer = start_call(otel.observability(), request)
    assert observer is not None
    observer.request_sent(request, 0)
    observer.response_received(200, {"content-type": "application/json"})
    observer.succeeded(b"not json")
    attributes = dict(otel.span().attributes or {})
    assert attributes["gen_ai.provider.name"] == "edgee"
    assert attributes["edgee.fallback_used"] is False
    assert attributes["server.port"] == 443 and attributes["server.address"] == "gw.example"
    assert "gen_ai.request.choice.count" not in attributes  # n == 1 is the default
    assert "gen_ai.response.id" not in attributes


def test_retries_are_span_events_and_failure_sets_error_type(otel: Otel) -> None:
    request = chat()
    observer = start_call(otel.observability(), request)
    assert observer is not None
    observer.request_sent(request, 0)
    observer.retry_scheduled(0, 0.5, APIConnectionError("refused"))
    observer.request_sent(request, 1)
    observer.response_received(503, {"x-edgee-provider": "anthropic"})
    observer.retry_scheduled(1, 1.0, 503)
    observer.request_sent(request, 2)
    observer.response_received(500, {})
    observer.failed(_ISE("API error 500: boom", status_code=500, headers={}, body=None))

    span = otel.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"] == "500"
    assert [dict(e.attributes or {}) for e in span.events] == [
        {"edgee.attempt": 1, "error.type": "APIConnectionError", "edgee.retry.delay": 0.5},
        {
            "edgee.attempt": 2,
            "http.response.status_code": 503,
            "error.type": "503",
            "edgee.retry.delay": 1.0,
        },
        {"edgee.attempt": 3, "http.response.status_code": 500},
    ]
    assert {e.name for e in span.events} == {"edgee.attempt"}
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "500"
    assert duration.attributes["gen_ai.provider.name"] == "edgee"  # the last answer named none
    assert otel.points("gen_ai.client.token.usage") == []


def stream_response() -> SendResponse:
    return SendResponse(
        id="chatcmpl-s",
        object="chat.completion",
        created=1,
        model="gpt-4o-mini",
        choices=[
            Choice(
                index=0,
                message=ResponseMessage(role="assistant", content=ANSWER),
                finish_reason="stop",
            )
        ],
        usage=Usage(prompt_tokens=5, completion_tokens=3, total_tokens=8),
    )


@pytest.mark.parametrize("outcome", ["done", "closed", "error"])
def test_stream_span_ends_with_the_stream(otel: Otel, outcome: Any) -> None:
    request = build_chat_request(OPTIONS, "openai/gpt-4o", PROMPT, stream=True)
    observer = start_call(otel.observability(), request)
    assert observer is not None
    observer.request_sent(request, 0)
    observer.response_received(200, {"content-type": "text/event-stream", **HEADERS})
    observer.stream_started()
    assert otel.spans() == []  # open while the stream is
    observer.first_chunk()
    error = IncompleteStreamError("cut", chunks_received=3) if outcome == "error" else None
    observer.stream_finished(outcome, 3, stream_response(), error)

    span = otel.span()
    attributes = dict(span.attributes or {})
    assert attributes["edgee.stream.outcome"] == outcome
    assert attributes["edgee.stream.chunks"] == 3
    assert attributes["edgee.time_to_first_chunk"] >= 0
    assert attributes["gen_ai.response.model"] == "gpt-4o-mini"
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["gen_ai.usage.output_tokens"] == 3
    if outcome == "error":
        assert attributes["error.type"] == "IncompleteStreamError"
        assert span.status.status_code is StatusCode.ERROR
    else:
        assert "error.type" not in attributes
        assert span.status.status_code is StatusCode.UNSET
    (ttfc,) = otel.points("gen_ai.client.operation.time_to_first_chunk")
    assert ttfc.count == 1
    assert len(otel.points("gen_ai.client.operation.duration")) == 1


def test_message_content_only_when_asked(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "True")
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": PROMPT},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
    ]
    request = build_chat_request(OPTIONS, "m", messages, stream=False)
    observer = start_call(otel.observability(), request)
    assert observer is not None
    run_success(observer, request, completion())
    span = otel.span()
    attributes = dict(span.attributes or {})
    assert json.loads(str(attributes["gen_ai.input.messages"])) == [
        {"role": "system", "parts": [{"type": "text", "content": "be brief"}]},
        {"role": "user", "parts": [{"type": "text", "content": PROMPT}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "c1", "name": "f", "arguments": {}}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "result": "42"}]},
    ]
    assert json.loads(str(attributes["gen_ai.output.messages"])) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": ANSWER}],
            "finish_reason": "stop",
        }
    ]
    assert KEY not in dump(span)  # content capture never includes the key


def test_other_operations(otel: Otel) -> None:
    cases = [
        (build_models_request(OPTIONS, "openai"), "edgee.models", b'{"object":"list","data":[]}'),
        (
            build_input_request(OPTIONS, COUNT_TOKENS_PATH, "m", PROMPT),
            "edgee.count_tokens m",
            b'{"input_tokens": 12}',
        ),
        (
            build_input_request(OPTIONS, COMPRESS_PATH, "m", PROMPT),
            "edgee.compress m",
            json.dumps(
                {
                    "messages": [],
                    "compression": {
                        "compression_rate": 0.25,
                        "uncompressed_input_tokens": 100,
                        "compressed_input_tokens": 75,
                    },
                }
            ).encode(),
        ),
    ]
    for request, _name, body in cases:
        observer = start_call(otel.observability(), request)
        assert observer is not None
        run_success(observer, request, body)
    models, count, compress = otel.spans()
    assert [s.name for s in otel.spans()] == [name for _, name, _ in cases]
    assert models.attributes is not None and "gen_ai.request.model" not in models.attributes
    assert (
        count.attributes is not None and count.attributes["edgee.count_tokens.input_tokens"] == 12
    )
    assert compress.attributes is not None
    assert compress.attributes["edgee.compression.saved_tokens"] == 25
    assert compress.attributes["edgee.compression.reduction"] == 25.0
    operations = {
        p.attributes["gen_ai.operation.name"]
        for p in otel.points("gen_ai.client.operation.duration")
    }
    assert operations == {"edgee.models", "edgee.count_tokens", "edgee.compress"}
    assert otel.points("gen_ai.client.token.usage") == []  # counts are not usage


def test_global_instrument_and_client_providers(otel: Otel) -> None:
    other = Otel()
    edgee.instrument(otel.tracer_provider, otel.meter_provider)
    assert _observe.is_instrumented()
    observer = start_call(None, chat())  # a client without settings: the global providers
    assert observer is not None
    run_success(observer, chat(), completion())
    # Its own providers win over the global ones; hooks-only clients use the global ones.
    own = start_call(other.observability(), chat())
    assert own is not None
    run_success(own, chat(), completion())
    hooked = start_call(resolve_observability({"request": [len]}), chat())
    assert hooked is not None
    run_success(hooked, chat(), completion())
    assert len(otel.spans()) == 2 and len(other.spans()) == 1
    edgee.uninstrument()
    assert start_call(None, chat()) is None


def test_a_failing_exporter_never_breaks_the_call(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def start_call(self, request: PreparedRequest) -> Any:
            raise RuntimeError("exporter bug")

    observability = _observe.Observability(None, Broken())  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="edgee"):
        observer = start_call(observability, chat())
        assert observer is not None
        run_success(observer, chat(), completion())
    assert "starting a span failed" in caplog.text


def test_tool_run_spans(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> None:
    obs = otel.observability()
    run = start_run(obs, "openai/gpt-4o")
    assert run is not None
    with run.current():
        observer = start_call(obs, chat())
    assert observer is not None
    run_success(observer, chat(), completion())
    call = ToolCall.from_dict(
        {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a":1}'}}
    )
    token = run.tool_started(call)
    run.tool_finished(token, "2", None)
    bad = run.tool_started(call)
    run.tool_finished(bad, None, "Error: ValueError: nope")
    unknown = run.tool_started(call)
    run.tool_finished(unknown, None, "Error: no tool named 'x'")
    result = edgee.tools.ToolRunResult(
        response=SendResponse.from_dict(json.loads(completion())),
        messages=[],
        usage=Usage(prompt_tokens=30, completion_tokens=9, total_tokens=39),
        iterations=2,
        tool_results=[],
    )
    run.finished(result)
    run.finished(result)  # once only

    spans = {s.name: s for s in otel.spans()}
    chat_span = otel.spans()[0]
    run_span = spans["invoke_agent"]
    tools = [s for s in otel.spans() if s.name == "execute_tool add"]
    assert len(otel.spans()) == 5 and len(tools) == 3
    assert run_span.kind is SpanKind.INTERNAL
    assert chat_span.parent is not None
    assert chat_span.parent.span_id == run_span.context.span_id
    for tool in tools:
        assert tool.parent is not None and tool.parent.span_id == run_span.context.span_id
        assert tool.attributes is not None
        assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
        assert tool.attributes["gen_ai.tool.call.id"] == "call_1"
        assert "gen_ai.tool.call.arguments" not in tool.attributes
    assert [t.attributes.get("error.type") for t in tools if t.attributes] == [
        None,
        "ValueError",
        "unknown_tool",
    ]
    assert run_span.attributes is not None
    assert run_span.attributes["gen_ai.usage.input_tokens"] == 30
    assert run_span.attributes["edgee.tool_run.iterations"] == 2


# --- free when off -----------------------------------------------------------------------


def test_import_edgee_does_not_import_opentelemetry() -> None:
    code = textwrap.dedent(
        """
        import sys
        import edgee
        from edgee import _observe
        obs = _observe.resolve_observability({"request": [print]})
        assert obs is not None
        assert not [m for m in sys.modules if m.startswith("opentelemetry")], "imported"
        edgee.instrument()
        assert "opentelemetry.trace" in sys.modules
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# --- the stream wrappers ------------------------------------------------------------------


def _stream_observer(seen: list[StreamEndEvent], is_async: bool = False) -> CallObserver:
    observer = start_call(
        resolve_observability({"stream_end": [seen.append]}), chat(), is_async=is_async
    )
    assert observer is not None
    return observer


def _chunks(n: int, fail: BaseException | None = None) -> Iterator[int]:
    yield from range(n)
    if fail is not None:
        raise fail


def test_observed_chunks_done_error_closed_and_collected() -> None:
    seen: list[StreamEndEvent] = []
    done = ObservedChunks(_chunks(3), _stream_observer(seen), lambda: None)
    assert list(done) == [0, 1, 2]
    with pytest.raises(StopIteration):
        next(done)  # iterating again reports nothing new
    cut = IncompleteStreamError("cut", chunks_received=2)
    failing = ObservedChunks(_chunks(2, cut), _stream_observer(seen), lambda: None)
    with pytest.raises(IncompleteStreamError):
        list(failing)
    broken_off = ObservedChunks(_chunks(5), _stream_observer(seen), lambda: None)
    next(broken_off)
    broken_off.close()
    ObservedChunks(_chunks(5), _stream_observer(seen), lambda: None).close()  # never started
    dropped = ObservedChunks(_chunks(5), _stream_observer(seen), lambda: None)
    next(dropped)
    del dropped  # collected by reference counting
    assert [(e.outcome, e.chunks, e.error) for e in seen] == [
        ("done", 3, None),
        ("error", 2, cut),
        ("closed", 1, None),
        ("closed", 0, None),
        ("closed", 1, None),
    ]
    assert seen[0].time_to_first_chunk is not None and seen[3].time_to_first_chunk is None


def test_observed_chunks_report_the_response_folded_so_far(otel: Otel) -> None:
    request = build_chat_request(OPTIONS, "m", PROMPT, stream=True)
    observer = start_call(otel.observability(), request)
    assert observer is not None

    def response() -> SendResponse:
        raise ValueError("cannot fold")  # a failing fold does not lose the end

    assert list(ObservedChunks(_chunks(2), observer, response)) == [0, 1]
    assert otel.span().attributes is not None
    assert otel.span().attributes["edgee.stream.outcome"] == "done"


def test_async_observed_chunks_await_hooks_and_report_cancellation() -> None:
    ran: list[tuple[str, int]] = []

    async def hook(event: StreamEndEvent) -> None:
        await asyncio.sleep(0)
        ran.append((event.outcome, event.chunks))

    async def agen(n: int, fail: BaseException | None = None) -> Any:
        for i in range(n):
            await asyncio.sleep(0)
            yield i
        if fail is not None:
            raise fail
        await asyncio.Event().wait()  # then hang (the cancellation case below)

    def observed(n: int, fail: BaseException | None = None) -> AsyncObservedChunks:
        observer = start_call(resolve_observability({"stream_end": [hook]}), chat(), is_async=True)
        assert observer is not None
        return AsyncObservedChunks(agen(n, fail), observer, lambda: None)

    async def main() -> None:
        failing = observed(2, IncompleteStreamError("cut", chunks_received=2))
        with pytest.raises(IncompleteStreamError):
            async for _ in failing:
                pass
        early = observed(3)
        await early.__anext__()
        await early.aclose()

        await cancel_consumer(observed(1), turns=5)

    asyncio.run(main())
    assert ran == [("error", 2), ("closed", 1), ("closed", 1)]


# --- the attempt flow's failure, with_options(hooks=), tool runs -------------------------


def test_observe_flow_reports_the_failure_but_not_an_abandoned_flow(otel: Otel) -> None:
    def flow() -> Iterator[str]:
        yield "send"
        raise APIConnectionError("refused")

    observer = start_call(otel.observability(), chat())
    assert observer is not None
    wrapped = _observe.observe_flow(flow(), observer)  # type: ignore[arg-type]
    assert next(wrapped) == "send"
    with pytest.raises(APIConnectionError):
        wrapped.send(None)
    assert attrs_of(otel.span())["error.type"] == "APIConnectionError"

    streaming = start_call(otel.observability(), chat())
    assert streaming is not None
    abandoned = _observe.observe_flow(flow(), streaming)  # type: ignore[arg-type]
    next(abandoned)
    abandoned.close()  # the driver left it after its answer: the stream goes on
    assert len(otel.spans()) == 1


def test_with_hooks_of_a_client_without_observability() -> None:
    assert _observe.with_hooks(None, None) is None
    obs = _observe.with_hooks(None, {"retry": [len]})
    assert obs is not None and obs.hooks == Hooks(retry=(len,))
    with pytest.raises(ConfigurationError):
        _observe.with_hooks(None, {"nope": []})


def test_run_observer_ends_with_an_escaping_error(otel: Otel) -> None:
    run = start_run(otel.observability(), "m")
    assert run is not None
    with pytest.raises(ValueError), run.observing():
        raise ValueError("boom")
    span = otel.span()
    assert span.name == "invoke_agent"
    assert attrs_of(span)["error.type"] == "ValueError"
    assert span.status.status_code is StatusCode.ERROR


def test_run_observer_events_closed_early_is_no_error(otel: Otel) -> None:
    run = start_run(otel.observability(), "m")
    assert run is not None
    events = run.events(iter_generator(3))
    assert next(events) == 0
    events.close()
    assert "error.type" not in attrs_of(otel.span())

    async def agen() -> Any:
        yield 1
        await asyncio.Event().wait()

    async def main() -> None:
        arun = start_run(otel.observability(), "m")
        assert arun is not None
        await cancel_consumer(arun.events_async(agen()), turns=3)

    asyncio.run(main())
    spans = otel.spans()
    assert len(spans) == 2 and "error.type" not in attrs_of(spans[1])


async def cancel_consumer(source: Any, *, turns: int) -> None:
    """Iterate `source` in a task, let the loop turn `turns` times, then cancel the task
    (which must end cancelled)."""

    async def consume() -> None:
        async for _ in source:
            pass

    task = asyncio.ensure_future(consume())
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def iter_generator(n: int) -> Any:
    yield from range(n)


def attrs_of(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})
