"""The client suite: every behaviour of contract sections 2, 5 and 6, over real loopback HTTP.

Each test runs twice, against ``Edgee`` and against ``AsyncEdgee`` (see conftest).
"""

from __future__ import annotations

import gc
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

import edgee
from edgee import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChunkDecodeError,
    ConfigurationError,
    ConflictError,
    EdgeeConfig,
    IncompleteStreamError,
    InputObject,
    InternalServerError,
    Message,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamAPIError,
    StreamChunk,
    Timeout,
    Tool,
    UnprocessableEntityError,
)
from edgee.testing import FakeGateway

MakeClient = Callable[..., Any]

USER_AGENT = f"edgee-python/{edgee.__version__}"


# --- construction -------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["key", "config", "dict", "kwargs", "env"])
def test_every_construction_form_reaches_the_gateway(
    form: str, make_client: MakeClient, gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGEE_BASE_URL", gateway.url)
    monkeypatch.delenv("EDGEE_API_KEY", raising=False)
    if form == "key":
        client = make_client(gateway.api_key)
    elif form == "config":
        client = make_client(EdgeeConfig(api_key=gateway.api_key, base_url=gateway.url + "/"))
    elif form == "dict":
        client = make_client({"api_key": gateway.api_key, "base_url": gateway.url})
    elif form == "kwargs":
        client = make_client(api_key=gateway.api_key, base_url=gateway.url + "//")
    else:
        monkeypatch.setenv("EDGEE_API_KEY", gateway.api_key)
        client = make_client(api_key=None, base_url=None)
    assert client.send("gpt-4o", "hello there").text == "hello there"
    req = gateway.requests[-1]
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {gateway.api_key}"
    assert client.api_key == gateway.api_key
    assert client.base_url == gateway.url


def test_missing_key_is_a_configuration_error(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDGEE_API_KEY", raising=False)
    monkeypatch.setenv("EDGEE_API_KEY", "")
    with pytest.raises(ConfigurationError, match="EDGEE_API_KEY is not set") as info:
        make_client(api_key=None)
    assert isinstance(info.value, ValueError)


def test_repr_and_str_never_show_the_key(make_client: MakeClient, gateway: FakeGateway) -> None:
    client = make_client()
    for text in (repr(client), str(client)):
        assert gateway.api_key not in text
        assert gateway.url in text


# --- send ---------------------------------------------------------------------------------


def test_send_returns_a_typed_response_with_headers(client: Any, gateway: FakeGateway) -> None:
    r = client.send("gpt-4o", "hello edgee world")
    assert r.text == "hello edgee world"
    assert r.finish_reason == "stop"
    assert r.message["content"] == "hello edgee world"
    assert r.usage.completion_tokens == 3
    assert r.usage.total_tokens == r.usage.prompt_tokens + 3
    assert r.provider == "openai"
    assert r.headers["x-request-id"].startswith("req_")
    assert "headers" not in r.to_dict()


def test_send_body_and_headers_are_exact(client: Any, gateway: FakeGateway) -> None:
    client.send(
        "gpt-4o",
        InputObject(
            messages=[Message.system("be brief"), Message.user("hi")],
            tags=["a"],
            tool_result_trimming=True,
            output_brevity=False,
        ),
        temperature=0.5,
        max_tokens=10,
        extra_headers={"X-Trace": "t1"},
    )
    req = gateway.requests[-1]
    assert req.body == (
        b'{"model":"gpt-4o","messages":[{"role":"system","content":"be brief"},'
        b'{"role":"user","content":"hi"}],"tags":["a"],"temperature":0.5,"max_tokens":10}'
    )
    h = req.headers
    assert h["user-agent"] == USER_AGENT
    assert h["accept"] == "application/json"
    assert h["content-type"] == "application/json"
    assert h["x-edgee-compression-tool-result-trimming"] == "true"
    assert h["x-edgee-compression-brevity"] == "false"
    assert "x-edgee-compression-tool-surface-reduction" not in h
    assert h["x-trace"] == "t1"


@pytest.mark.parametrize(
    "input_value",
    [
        "what is up",
        [Message.user("what is up")],
        [{"role": "system", "content": "x"}, {"role": "user", "content": "what is up"}],
        [Message.system("x"), {"role": "user", "content": "what is up"}],
        InputObject(messages=[Message.user("what is up")]),
        {"messages": [{"role": "user", "content": "what is up"}]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "what is up"}]}]},
    ],
    ids=["str", "messages", "dicts", "mixed", "input-object", "dict", "content-parts"],
)
def test_every_input_form(client: Any, gateway: FakeGateway, input_value: Any) -> None:
    assert client.send("gpt-4o", input_value).text == "what is up"
    assert gateway.requests[-1].json["messages"][-1]["role"] == "user"


def test_tools_and_tool_choice_are_sent(client: Any, gateway: FakeGateway) -> None:
    tool = Tool.function("get_weather", "Weather", {"type": "object", "properties": {}})
    client.send(
        "gpt-4o",
        {"messages": [{"role": "user", "content": "x"}], "tools": [tool], "tool_choice": "auto"},
    )
    body = gateway.requests[-1].json
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]
    assert body["tool_choice"] == "auto"
    assert list(body) == ["model", "messages", "tools", "tool_choice"]


def test_invalid_input_fails_before_any_request(client: Any, gateway: FakeGateway) -> None:
    with pytest.raises(TypeError, match="unknown option"):
        client.send("gpt-4o", "x", temprature=1)
    with pytest.raises(ValueError, match="role"):
        client.send("gpt-4o", [{"role": "wizard", "content": "x"}])
    with pytest.raises(ValueError, match="messages"):
        client.stream("gpt-4o", {"tools": []})
    with pytest.raises(ValueError, match="empty"):
        client.send("gpt-4o", [])
    assert gateway.requests == []


# --- stream -------------------------------------------------------------------------------


def test_text_stream_yields_chunks_in_order(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_text(chunks=["Hel", "lo", ", ", "world"])
    with client.stream("gpt-4o", "x") as stream:
        assert stream.provider == "openai"
        assert stream.headers["content-type"].startswith("text/event-stream")
        chunks = list(stream)
    assert all(isinstance(c, StreamChunk) for c in chunks)
    assert chunks[0].role == "assistant"
    assert [c.text for c in chunks[1:-1]] == ["Hel", "lo", ", ", "world"]
    assert chunks[-1].finish_reason == "stop"
    req = gateway.requests[-1]
    assert req.json["stream"] is True
    assert req.headers["accept"] == "text/event-stream"
    assert list(req.json)[:3] == ["model", "messages", "stream"]


def test_send_stream_true_returns_a_stream(client: Any) -> None:
    stream = client.send("gpt-4o", "one two three", stream=True)
    assert "".join(stream.text_stream) == "one two three"


def test_final_response_after_partial_iteration(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_text(chunks=["a", "b", "c", "d"])
    stream = client.stream("gpt-4o", "x")
    first = [next(stream), next(stream)]
    assert first[1].text == "a"
    final = stream.final_response()
    assert final.text == "abcd"
    assert final.finish_reason == "stop"
    assert final.message.role == "assistant"
    assert final.provider == "openai"
    assert final.usage is not None


def test_tool_call_stream_merges_fragments(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_tool_calls(
        [
            {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "c"}', "id": "call_a"},
            {"name": "get_time", "arguments": '{"tz": "Europe/Paris"}', "id": "call_b"},
        ],
        fragments=4,
    )
    stream = client.stream("gpt-4o", "x", tools=None)
    fragments = [c for c in stream if c.tool_calls]
    assert len(fragments) >= 8
    final = stream.final_response()
    assert final.finish_reason == "tool_calls"
    calls = final.tool_calls
    assert [c.id for c in calls] == ["call_a", "call_b"]
    assert calls[0].function.name == "get_weather"
    assert calls[0].arguments_json() == {"city": "Paris", "unit": "c"}
    assert calls[1]["function"]["arguments"] == '{"tz": "Europe/Paris"}'


def test_usage_and_compression_arrive_on_an_empty_choices_chunk(
    client: Any, gateway: FakeGateway
) -> None:
    gateway.reply_text(
        "ok then",
        usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        compression={"saved_tokens": 7, "cost_savings": 12, "reduction": 41.5, "time_ms": 2},
    )
    stream = client.stream("gpt-4o", "x", include_usage=True)
    chunks = list(stream)
    assert gateway.requests[-1].json["stream_options"] == {"include_usage": True}
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == [] and usage_chunk.text is None
    assert usage_chunk.usage.total_tokens == 5
    final = stream.final_response()
    assert final.text == "ok then"
    assert final.usage.total_tokens == 5
    assert final.compression.reduction == 41.5


# --- errors -------------------------------------------------------------------------------

STATUS_ERRORS = [
    (400, BadRequestError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (500, InternalServerError),
    (503, InternalServerError),
    (418, APIStatusError),
]


@pytest.mark.parametrize(("status", "cls"), STATUS_ERRORS)
@pytest.mark.parametrize("mode", ["send", "stream"])
def test_status_errors_raise_before_any_chunk(
    client: Any, gateway: FakeGateway, status: int, cls: type, mode: str
) -> None:
    gateway.reply_error(status, "model is on fire", code="fire", param="model")
    with pytest.raises(cls) as info:
        if mode == "send":
            client.send("gpt-4o", "x")
        else:
            client.stream("gpt-4o", "x")  # raises here, not during iteration
    err = info.value
    assert type(err) is cls
    assert isinstance(err, RuntimeError)  # code written for the official SDK still catches it
    assert err.status_code == status
    assert str(err).startswith(f"API error {status}: model is on fire")
    assert err.message == "model is on fire"
    assert err.code == "fire" and err.param == "model"
    assert err.request_id is not None and err.request_id.startswith("req_")
    assert err.body["error"]["message"] == "model is on fire"


def test_bad_key_is_an_authentication_error(make_client: MakeClient, gateway: FakeGateway) -> None:
    client = make_client(api_key="wrong-key")
    for call in (lambda: client.send("gpt-4o", "x"), lambda: client.stream("gpt-4o", "x")):
        with pytest.raises(AuthenticationError) as info:
            call()
        assert info.value.status_code == 401
        assert "Invalid API key" in str(info.value)
        assert "wrong-key" not in str(info.value) + repr(info.value)


def test_rate_limit_error_carries_retry_after(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_error(429, "slow down", headers={"Retry-After": "120"})
    with pytest.raises(RateLimitError) as info:
        client.send("gpt-4o", "x")
    assert info.value.retry_after == 120.0


def test_error_object_inside_the_stream(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_stream_error(after=2, message="upstream exploded", code="provider_down")
    stream = client.stream("gpt-4o", "x")
    got = []
    with pytest.raises(StreamAPIError) as info:
        for chunk in stream:
            got.append(chunk)
    assert len(got) == 3  # role chunk + 2 content chunks, then the error
    assert info.value.message == "upstream exploded"
    assert info.value.code == "provider_down"
    assert "upstream exploded" in info.value.data
    assert info.value.request_id == stream.headers["x-request-id"]


def test_error_event_inside_the_stream(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_stream_error(after=0, message="bad things", as_event=True)
    with pytest.raises(StreamAPIError, match="bad things"):
        list(client.stream("gpt-4o", "x"))


def test_malformed_chunk_raises_with_the_raw_payload(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_malformed(after=1, payload=b'{"choices": [oops')
    with pytest.raises(ChunkDecodeError) as info:
        list(client.stream("gpt-4o", "x"))
    assert info.value.raw == '{"choices": [oops'


def test_reset_mid_stream_is_an_incomplete_stream(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_reset(after=2)
    got = []
    with pytest.raises(IncompleteStreamError) as info:
        for chunk in client.stream("gpt-4o", "x"):
            got.append(chunk)
    assert info.value.chunks_received == len(got) == 3
    # The next request on the same client works.
    assert client.send("gpt-4o", "still alive").text == "still alive"


def test_stalled_stream_times_out_within_the_read_timeout(
    make_client: MakeClient, gateway: FakeGateway
) -> None:
    client = make_client(timeout=Timeout(connect=2.0, read=0.4))
    gateway.reply_stall(10.0, after=1)
    stream = client.stream("gpt-4o", "x")
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        list(stream)
    assert time.monotonic() - started < 3.0
    assert client.send("gpt-4o", "after stall").text == "after stall"


def test_per_request_timeout(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_stall(10.0, after=0)
    stream = client.stream("gpt-4o", "x", timeout=0.3)
    with pytest.raises(APITimeoutError):
        next(stream)


def test_connection_refused_is_a_connection_error(make_client: MakeClient) -> None:
    with FakeGateway() as gw:
        url = gw.url
    client = make_client(base_url=url, max_retries=0)
    with pytest.raises(APIConnectionError) as info:
        client.send("gpt-4o", "x")
    assert not isinstance(info.value, APITimeoutError)


# --- retries ------------------------------------------------------------------------------


def test_retries_honour_retry_after(make_client: MakeClient, gateway: FakeGateway) -> None:
    client = make_client(max_retries=2)
    gateway.reply_error(503, "busy", headers={"retry-after-ms": "10"})
    gateway.reply_error(429, "busy", headers={"Retry-After": "0.01"})
    assert client.send("gpt-4o", "third time lucky").text == "third time lucky"
    assert len(gateway.requests) == 3


def test_retries_stop_at_max_retries(make_client: MakeClient, gateway: FakeGateway) -> None:
    client = make_client(max_retries=1)
    for _ in range(3):
        gateway.reply_error(500, "down", headers={"retry-after-ms": "1"})
    with pytest.raises(InternalServerError):
        client.stream("gpt-4o", "x")
    assert len(gateway.requests) == 2


def test_spend_cap_429_is_not_retried(make_client: MakeClient, gateway: FakeGateway) -> None:
    client = make_client(max_retries=3)
    gateway.reply_error(429, "monthly cap reached", code="usage_limit_exceeded")
    with pytest.raises(RateLimitError) as info:
        client.send("gpt-4o", "x")
    assert info.value.code == "usage_limit_exceeded"
    assert len(gateway.requests) == 1


def test_non_retryable_status_is_not_retried(make_client: MakeClient, gateway: FakeGateway) -> None:
    client = make_client(max_retries=3)
    gateway.reply_error(400, "bad")
    with pytest.raises(BadRequestError):
        client.send("gpt-4o", "x")
    assert len(gateway.requests) == 1


def test_a_stream_is_never_retried_after_its_first_chunk(
    make_client: MakeClient, gateway: FakeGateway
) -> None:
    client = make_client(max_retries=3)
    gateway.reply_reset(after=1)
    with pytest.raises(IncompleteStreamError):
        list(client.stream("gpt-4o", "x"))
    assert len(gateway.requests) == 1


def test_per_request_max_retries(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_error(502, "bad gateway", headers={"retry-after-ms": "1"})
    assert client.send("gpt-4o", "ok", max_retries=1).text == "ok"
    assert len(gateway.requests) == 2


# --- connections --------------------------------------------------------------------------


def test_sequential_calls_reuse_one_connection(client: Any, gateway: FakeGateway) -> None:
    for i in range(5):
        assert "".join(client.stream("gpt-4o", f"stream {i}").text_stream) == f"stream {i}"
        assert client.send("gpt-4o", f"send {i}").text == f"send {i}"
    assert gateway.connections_opened == 1


def test_with_options_shares_the_pool(client: Any, gateway: FakeGateway) -> None:
    client.send("gpt-4o", "a")
    other = client.with_options(timeout=30.0, max_retries=1, default_headers={"X-Team": "core"})
    assert other.send("gpt-4o", "b").text == "b"
    assert gateway.requests[-1].headers["x-team"] == "core"
    assert "x-team" not in gateway.requests[0].headers
    assert gateway.connections_opened == 1


def _wait_for(predicate: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        gc.collect()
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_abandoned_streams_release_their_connections(client: Any, gateway: FakeGateway) -> None:
    gateway.set_default_delay(0.01)
    long_prompt = " ".join(f"w{i}" for i in range(200))
    for i in range(50):
        if i % 3 == 0:
            with client.stream("gpt-4o", long_prompt) as stream:
                next(stream)
        elif i % 3 == 1:
            for _chunk in client.stream("gpt-4o", long_prompt):
                break
        else:
            stream = client.stream("gpt-4o", long_prompt)
            next(stream)
            stream.close()
    assert _wait_for(lambda: gateway.open_connections <= 1), gateway.open_connections
    gateway.set_default_delay(0.0)
    assert client.send("gpt-4o", "fine").text == "fine"


# --- secrets in logs ----------------------------------------------------------------------


def test_the_key_never_reaches_logs_or_errors(
    make_client: MakeClient, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-edgee-SECRET-0123456789"
    caplog.set_level(logging.DEBUG)
    for name in ("edgee", "urllib3", "aiohttp", "asyncio"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    good = make_client(api_key=gateway.api_key)
    good.send("gpt-4o", "hi")
    list(good.stream("gpt-4o", "hi"))
    bad = make_client(api_key=secret, max_retries=1)
    texts = [repr(bad), str(bad)]
    with pytest.raises(AuthenticationError) as info:
        bad.send("gpt-4o", "x")
    texts += [str(info.value), repr(info.value), repr(info.value.args), json.dumps(info.value.body)]
    texts += [str(info.value.headers)]
    texts += [r.getMessage() for r in caplog.records]
    assert caplog.records, "debug logging produced nothing to scan"
    assert any("/v1/chat/completions" in t for t in texts)
    for text in texts:
        assert secret not in text
        assert gateway.api_key not in text


def test_a_close_delimited_stream_arrives_event_by_event(client: Any, gateway: FakeGateway) -> None:
    """No Transfer-Encoding, no Content-Length (common behind proxies): each event must be
    handed over as it arrives, not when the connection closes."""
    gateway.reply_text(chunks=["one", " two", " three", " four"], delay=0.3, chunked=False)
    stream = client.stream("gpt-4o", "x")
    started = time.monotonic()
    next(stream)  # role chunk
    first = next(stream)
    first_at = time.monotonic() - started
    rest = list(stream)
    total = time.monotonic() - started
    assert first.text == "one"
    assert "".join(c.text or "" for c in rest) == " two three four"
    assert "transfer-encoding" not in stream.headers
    # Four more pauses of 0.3 s follow the first word: it cannot have waited for the end.
    assert total - first_at > 0.8
