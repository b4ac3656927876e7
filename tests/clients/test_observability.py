"""Hooks and OpenTelemetry on both clients, over loopback HTTP (FakeGateway).

Spans and metrics go to the OpenTelemetry SDK's in-memory exporter and reader,
through each client's own ``tracer_provider=`` / ``meter_provider=`` (and once
through ``edgee.instrument()``). Every test runs on ``Edgee`` and ``AsyncEdgee``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode
from otelhelp import InMemoryOtel

import edgee
from edgee import (
    AsyncEdgee,
    IncompleteStreamError,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    StreamAPIError,
    StreamEndEvent,
)
from edgee.errors import BadRequestError
from edgee.testing import FakeGateway
from edgee.tools import tool

MODEL = "openai/gpt-4o"
PROMPT = "tell me a secret about the llamas of Lima"
ANSWER = "The llamas hum quietly at dawn"
CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


class Otel(InMemoryOtel):
    """The in-memory providers, as the client tests hand them over and read them."""

    @property
    def kwargs(self) -> dict[str, Any]:
        return {"tracer_provider": self.tracer_provider, "meter_provider": self.meter_provider}

    def span(self) -> ReadableSpan:
        spans = self.spans()
        assert len(spans) == 1, [s.name for s in spans]
        return spans[0]

    def dump(self) -> str:
        return "\n".join(span.to_json() for span in self.spans())


@pytest.fixture
def otel() -> Iterator[Otel]:
    yield Otel()
    edgee.uninstrument()


def attrs_of(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


# --- success, error, retry -----------------------------------------------------------------


def test_send_success_span_metrics_and_hooks(
    make_client: Any, gateway: FakeGateway, otel: Otel
) -> None:
    seen: list[Any] = []
    hooks = {"request": [seen.append], "response": [seen.append]}
    client = make_client(hooks=hooks, **otel.kwargs)
    gateway.reply_text(
        ANSWER,
        usage={"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15},
        compression={"saved_tokens": 12, "cost_savings": 30, "reduction": 33.3, "time_ms": 2},
        headers={"X-Edgee-Fallback-Used": "1"},
    )
    response = client.send(MODEL, PROMPT, temperature=0.3, max_tokens=50, tags=["t1"])
    assert response.text == ANSWER

    span = otel.span()
    attributes = attrs_of(span)
    port = int(gateway.url.rsplit(":", 1)[1])
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.request.model"] == MODEL
    assert attributes["gen_ai.request.temperature"] == 0.3
    assert attributes["gen_ai.request.max_tokens"] == 50
    assert attributes["gen_ai.response.id"] == response.id
    assert attributes["gen_ai.response.model"] == response.model
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["gen_ai.usage.input_tokens"] == 9
    assert attributes["gen_ai.usage.output_tokens"] == 6
    assert attributes["server.address"] == "127.0.0.1" and attributes["server.port"] == port
    assert attributes["edgee.fallback_used"] is True
    assert attributes["edgee.compression.saved_tokens"] == 12
    assert attributes["edgee.compression.reduction"] == 33.3
    assert attributes["edgee.tags"] == ("t1",)
    assert attributes["edgee.request_id"] == response.headers["x-request-id"]
    assert "error.type" not in attributes
    assert [e.name for e in span.events] == ["edgee.attempt"]

    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.attributes["gen_ai.provider.name"] == "openai"
    assert duration.attributes["gen_ai.response.model"] == response.model
    tokens = {
        p.attributes["gen_ai.token.type"]: p.sum for p in otel.points("gen_ai.client.token.usage")
    }
    assert tokens == {"input": 9, "output": 6}

    request, answer = seen
    assert isinstance(request, RequestEvent) and isinstance(answer, ResponseEvent)
    assert request.url == gateway.url + "/v1/chat/completions" and request.attempt == 1
    assert "authorization" not in {k.lower() for k in request.headers}
    assert gateway.last_request.headers["authorization"].endswith(gateway.api_key)
    assert answer.status == 200 and answer.headers["x-edgee-provider"] == "openai"


def test_http_error(make_client: Any, gateway: FakeGateway, otel: Otel) -> None:
    seen: list[Any] = []
    client = make_client(hooks={"response": [seen.append]}, **otel.kwargs)
    gateway.reply_error(400, "bad things")
    with pytest.raises(BadRequestError):
        client.send(MODEL, PROMPT)
    span = otel.span()
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span)["error.type"] == "400"
    assert [dict(e.attributes or {}) for e in span.events] == [
        {"edgee.attempt": 1, "http.response.status_code": 400}
    ]
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "400"
    assert [e.status for e in seen] == [400]


def test_retry_events_and_hooks(make_client: Any, gateway: FakeGateway, otel: Otel) -> None:
    seen: list[Any] = []
    hooks = {"request": [seen.append], "retry": [seen.append]}
    client = make_client(max_retries=2, hooks=hooks, **otel.kwargs)
    gateway.reply_error(503, headers={"retry-after-ms": "1"})
    gateway.reply_reset(after=-1)
    gateway.reply_text(ANSWER)
    assert client.send(MODEL, PROMPT).text == ANSWER

    assert [type(e).__name__ for e in seen] == [
        "RequestEvent",
        "RetryEvent",
        "RequestEvent",
        "RetryEvent",
        "RequestEvent",
    ]
    retries = [e for e in seen if isinstance(e, RetryEvent)]
    assert [(r.attempt, r.reason) for r in retries] == [(1, "503"), (2, "APIConnectionError")]
    assert retries[0].delay == pytest.approx(0.001)
    assert [e.attempt for e in seen if isinstance(e, RequestEvent)] == [1, 2, 3]

    span = otel.span()  # one span for the logical call
    events = [dict(e.attributes or {}) for e in span.events]
    assert events[0] == {
        "edgee.attempt": 1,
        "http.response.status_code": 503,
        "error.type": "503",
        "edgee.retry.delay": pytest.approx(0.001),
    }
    assert events[1]["edgee.attempt"] == 2 and events[1]["error.type"] == "APIConnectionError"
    assert events[2] == {"edgee.attempt": 3, "http.response.status_code": 200}
    assert "error.type" not in attrs_of(span)


def test_a_raising_hook_never_breaks_the_call(
    make_client: Any, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: object) -> None:
        raise RuntimeError("hook exploded")

    hooks = {name: [broken] for name in ("request", "response", "retry", "stream_end")}
    client = make_client(max_retries=1, hooks=hooks)
    gateway.reply_error(500, headers={"retry-after-ms": "1"})
    gateway.reply_text(ANSWER)
    with caplog.at_level(logging.WARNING, logger="edgee"):
        assert client.send(MODEL, PROMPT).text == ANSWER
        with client.stream(MODEL, PROMPT) as stream:
            assert "".join(stream.text_stream) == PROMPT  # nothing scripted: the echo
    messages = [r.getMessage() for r in caplog.records if "hook" in r.getMessage()]
    assert any("request hook" in m for m in messages)
    assert any("response hook" in m for m in messages)
    assert any("retry hook" in m for m in messages)
    assert any("stream_end hook" in m for m in messages)
    assert gateway.api_key not in caplog.text


def test_with_options_hooks(make_client: Any, gateway: FakeGateway) -> None:
    first: list[Any] = []
    second: list[Any] = []
    client = make_client(hooks={"request": [first.append], "response": [first.append]})
    copy = client.with_options(hooks={"request": [second.append]})
    copy.send(MODEL, PROMPT)
    assert [type(e).__name__ for e in first] == ["ResponseEvent"]  # kept
    assert [type(e).__name__ for e in second] == ["RequestEvent"]  # replaced
    client.send(MODEL, PROMPT)
    assert len(first) == 3 and len(second) == 1  # the original is unchanged
    with pytest.raises(edgee.ConfigurationError):
        client.with_options(hooks={"on_request": []})
    with pytest.raises(edgee.ConfigurationError):
        make_client(hooks={"bogus": [print]})


# --- streams -------------------------------------------------------------------------------


def test_stream_done(make_client: Any, gateway: FakeGateway, otel: Otel) -> None:
    ends: list[StreamEndEvent] = []
    client = make_client(hooks={"stream_end": [ends.append]}, **otel.kwargs)
    gateway.reply_text(
        ANSWER, usage={"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9}
    )
    with client.stream(MODEL, PROMPT, include_usage=True) as stream:
        chunks = list(stream)
    span = otel.span()
    attributes = attrs_of(span)
    assert attributes["edgee.stream.outcome"] == "done"
    assert attributes["edgee.stream.chunks"] == len(chunks)
    assert attributes["edgee.time_to_first_chunk"] > 0
    assert attributes["gen_ai.usage.output_tokens"] == 5
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["gen_ai.response.model"] == chunks[0].model
    assert span.status.status_code is StatusCode.UNSET
    (ttfc,) = otel.points("gen_ai.client.operation.time_to_first_chunk")
    assert ttfc.count == 1
    (end,) = ends
    assert (end.outcome, end.chunks, end.error) == ("done", len(chunks), None)
    assert end.time_to_first_chunk is not None
    assert end.time_to_first_chunk == pytest.approx(attributes["edgee.time_to_first_chunk"])


def test_stream_open_until_it_ends(make_client: Any, gateway: FakeGateway, otel: Otel) -> None:
    client = make_client(**otel.kwargs)
    gateway.reply_text(ANSWER)
    stream = client.stream(MODEL, PROMPT)
    next(iter(stream))
    assert otel.spans() == []
    stream.close()
    assert attrs_of(otel.span())["edgee.stream.outcome"] == "closed"


def test_stream_left_by_break(make_client: Any, gateway: FakeGateway, otel: Otel) -> None:
    ends: list[StreamEndEvent] = []
    client = make_client(hooks={"stream_end": [ends.append]}, **otel.kwargs)
    gateway.reply_text(ANSWER)
    with client.stream(MODEL, PROMPT) as stream:
        for _ in stream:
            break
    span = otel.span()
    assert attrs_of(span)["edgee.stream.outcome"] == "closed"
    assert attrs_of(span)["edgee.stream.chunks"] == 1
    assert span.status.status_code is StatusCode.UNSET
    assert [(e.outcome, e.chunks) for e in ends] == [("closed", 1)]


def test_stream_broken_off_by_a_server_reset(
    make_client: Any, gateway: FakeGateway, otel: Otel
) -> None:
    ends: list[StreamEndEvent] = []
    client = make_client(hooks={"stream_end": [ends.append]}, **otel.kwargs)
    gateway.reply_reset(after=2)
    with client.stream(MODEL, PROMPT) as stream, pytest.raises(IncompleteStreamError):
        for _ in stream:
            pass
    span = otel.span()
    attributes = attrs_of(span)
    assert attributes["edgee.stream.outcome"] == "error"
    assert attributes["error.type"] == "IncompleteStreamError"
    assert span.status.status_code is StatusCode.ERROR
    (end,) = ends
    assert end.outcome == "error" and isinstance(end.error, IncompleteStreamError)
    assert end.chunks >= 2


def test_stream_error_mid_way(make_client: Any, gateway: FakeGateway, otel: Otel) -> None:
    ends: list[StreamEndEvent] = []
    client = make_client(hooks={"stream_end": [ends.append]}, **otel.kwargs)
    gateway.reply_stream_error(after=2, message="provider melted")
    with client.stream(MODEL, PROMPT) as stream, pytest.raises(StreamAPIError):
        for _ in stream:
            pass
    attributes = attrs_of(otel.span())
    assert attributes["edgee.stream.outcome"] == "error"
    assert attributes["error.type"] == "StreamAPIError"
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "StreamAPIError"
    assert [e.outcome for e in ends] == ["error"]


def test_stream_http_error_ends_the_span_at_once(
    make_client: Any, gateway: FakeGateway, otel: Otel
) -> None:
    client = make_client(**otel.kwargs)
    gateway.reply_error(400)
    with pytest.raises(BadRequestError):
        client.stream(MODEL, PROMPT)
    assert attrs_of(otel.span())["error.type"] == "400"


def test_async_stream_cancelled(gateway: FakeGateway, otel: Otel) -> None:
    ends: list[StreamEndEvent] = []

    async def async_hook(event: StreamEndEvent) -> None:
        await asyncio.sleep(0)
        ends.append(event)

    async def main() -> None:
        async with AsyncEdgee(
            api_key=gateway.api_key,
            base_url=gateway.url,
            max_retries=0,
            hooks={"stream_end": [async_hook]},
            **otel.kwargs,
        ) as client:
            gateway.reply_stall(30, after=1)
            stream = await client.stream(MODEL, PROMPT)
            got: list[Any] = []

            async def consume() -> None:
                async for chunk in stream:
                    got.append(chunk)

            task = asyncio.ensure_future(consume())
            while len(got) < 2:  # the role chunk and the first content chunk
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await stream.aclose()

    asyncio.run(main())
    span = otel.span()
    assert attrs_of(span)["edgee.stream.outcome"] == "closed"
    assert span.status.status_code is StatusCode.UNSET
    assert [(e.outcome, e.chunks) for e in ends] == [("closed", 2)]


def test_async_client_awaits_async_hooks_in_order(gateway: FakeGateway) -> None:
    order: list[str] = []

    async def on_request(event: RequestEvent) -> None:
        await asyncio.sleep(0.01)
        order.append(f"hook {len(gateway.requests)}")  # before the request reached it

    async def main() -> None:
        async with AsyncEdgee(
            api_key=gateway.api_key, base_url=gateway.url, hooks={"request": [on_request]}
        ) as client:
            await client.send(MODEL, PROMPT)

    asyncio.run(main())
    assert order == ["hook 0"]


# --- secrets and content ----------------------------------------------------------------


@pytest.mark.parametrize("capture", [False, True])
def test_key_never_and_content_only_when_asked(
    make_client: Any,
    gateway: FakeGateway,
    otel: Otel,
    monkeypatch: pytest.MonkeyPatch,
    capture: bool,
) -> None:
    if capture:
        monkeypatch.setenv(CONTENT_ENV, "true")
    else:
        monkeypatch.delenv(CONTENT_ENV, raising=False)
    client = make_client(**otel.kwargs)
    gateway.reply_text(ANSWER)
    client.send(MODEL, PROMPT)
    gateway.reply_text(ANSWER)
    with client.stream(MODEL, PROMPT) as stream:
        list(stream)
    gateway.reply_error(401, "invalid key")
    with pytest.raises(edgee.AuthenticationError):
        client.send(MODEL, PROMPT)
    dump = otel.dump()
    assert len(otel.spans()) == 3
    assert gateway.api_key not in dump
    assert "Bearer" not in dump
    assert (PROMPT in dump) is capture
    assert (ANSWER.split()[-1] in dump) is capture
    if capture:
        for span in otel.spans()[:2]:
            assert "gen_ai.input.messages" in attrs_of(span)
            assert ANSWER in str(attrs_of(span)["gen_ai.output.messages"])


# --- other endpoints, the tool runner, global instrumentation ---------------------------


def test_other_endpoints(make_client: Any, gateway: FakeGateway, otel: Otel) -> None:
    client = make_client(**otel.kwargs)
    client.models()
    client.count_tokens(MODEL, PROMPT)
    client.compress(MODEL, PROMPT)
    assert [s.name for s in otel.spans()] == [
        "edgee.models",
        f"edgee.count_tokens {MODEL}",
        f"edgee.compress {MODEL}",
    ]
    count = attrs_of(otel.spans()[1])
    assert isinstance(count["edgee.count_tokens.input_tokens"], int)
    operations = sorted(
        p.attributes["gen_ai.operation.name"]
        for p in otel.points("gen_ai.client.operation.duration")
    )
    assert operations == ["edgee.compress", "edgee.count_tokens", "edgee.models"]


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
def explode() -> str:
    """Always fails."""
    raise ValueError("no")


@pytest.mark.parametrize("streaming", [False, True])
def test_tool_run_spans(
    make_client: Any, gateway: FakeGateway, otel: Otel, streaming: bool
) -> None:
    client = make_client(**otel.kwargs)
    gateway.reply_tool_calls(
        [
            {"name": "add", "arguments": {"a": 2, "b": 3}, "id": "c1"},
            {"name": "explode", "id": "c2"},
        ]
    )
    gateway.reply_text("five")
    if streaming:
        run = client.run_tools_stream(MODEL, PROMPT, tools=[add, explode])
        list(run)
        result = run.result
    else:
        result = client.run_tools(MODEL, PROMPT, tools=[add, explode])
    assert result.iterations == 2

    spans = otel.spans()
    (agent,) = [s for s in spans if s.name == "invoke_agent"]
    chats = [s for s in spans if s.name == f"chat {MODEL}"]
    tools = {s.name: s for s in spans if s.name.startswith("execute_tool")}
    assert len(chats) == 2 and set(tools) == {"execute_tool add", "execute_tool explode"}
    assert agent.kind is SpanKind.INTERNAL
    for child in (*chats, *tools.values()):
        assert child.parent is not None and child.parent.span_id == agent.context.span_id
        assert child.context.trace_id == agent.context.trace_id
    assert attrs_of(tools["execute_tool add"])["gen_ai.tool.call.id"] == "c1"
    assert "error.type" not in attrs_of(tools["execute_tool add"])
    assert attrs_of(tools["execute_tool explode"])["error.type"] == "ValueError"
    assert attrs_of(agent)["edgee.tool_run.iterations"] == 2
    assert attrs_of(agent)["gen_ai.usage.input_tokens"] == result.usage.prompt_tokens


def test_global_instrument(make_client: Any, gateway: FakeGateway, otel: Otel) -> None:
    client = make_client()  # made before instrument(): still traced once it is on
    client.send(MODEL, PROMPT)
    edgee.instrument(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    client.send(MODEL, PROMPT)
    edgee.uninstrument()
    client.send(MODEL, PROMPT)
    assert [s.name for s in otel.spans()] == [f"chat {MODEL}"]


def test_no_observer_when_off(make_client: Any, gateway: FakeGateway) -> None:
    # Off: the stream is the plain one (no wrapper around its chunks).
    client = make_client()
    gateway.reply_text(ANSWER)
    with client.stream(MODEL, PROMPT) as stream:
        inner = getattr(stream, "_stream", stream)
        assert "Observed" not in type(inner._iterator).__name__
        assert "".join(stream.text_stream) == ANSWER


def test_demo_trace_prints_the_spans_of_its_run() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDGEE_", "OTEL_"))}
    result = subprocess.run(
        [sys.executable, "-m", "edgee", "demo", "--trace"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    spans = out.split("Spans (OpenTelemetry console exporter", 1)[1]
    lines = [line.strip() for line in spans.splitlines()[1:] if line.strip()]
    names = [line.split("  ")[0] for line in lines if not line.startswith("All ")]
    assert names.count("chat openai/gpt-4o") == 7  # every HTTP request of the demo
    assert names.count("execute_tool convert") == 2 and names.count("invoke_agent") == 1
    assert "edgee.stream.outcome=done" in spans and "edgee.compression.saved_tokens=830" in spans
    assert "All 5 steps worked" in out


def test_a_whole_answer_to_a_stream_request_ends_with_the_stream(
    make_client: Any, gateway: FakeGateway, otel: Otel
) -> None:
    body = json.dumps(
        {
            "id": "chatcmpl-w",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": ANSWER},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        }
    ).encode()
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    gateway.reply_raw(head.encode() + body)
    stream = make_client(**otel.kwargs).stream(MODEL, PROMPT)
    assert otel.spans() == []  # open until the stream is read
    assert "".join(stream.text_stream) == ANSWER
    stream.close()
    attributes = attrs_of(otel.span())
    assert attributes["edgee.stream.outcome"] == "done"
    assert attributes["edgee.stream.chunks"] == 1
    assert attributes["gen_ai.response.id"] == "chatcmpl-w"
    assert attributes["gen_ai.usage.output_tokens"] == 4
