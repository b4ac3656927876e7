"""Tests of edgee.testing.FakeGateway, driven with raw sockets, requests and aiohttp only."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from typing import Any

import aiohttp
import pytest
import requests
from gateway_helpers import (
    AUTH,
    KEY,
    chat_body,
    raw_exchange,
    read_response,
    request_bytes,
    sse_data,
    sse_events,
)
from hypothesis import given
from hypothesis import strategies as st

from edgee.testing import FakeGateway, Headers, RecordedRequest, split_words

CHAT = "/v1/chat/completions"


def post(gw: FakeGateway, body: Any, **kwargs: Any) -> requests.Response:
    headers = kwargs.pop("headers", AUTH)
    return requests.post(gw.url + CHAT, json=body, headers=headers, timeout=5, **kwargs)


def stream_data(gw: FakeGateway, body: dict[str, Any]) -> list[Any]:
    response = post(gw, body)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/event-stream"
    return sse_data(response.content)


def contents(events: list[Any]) -> list[str]:
    return [
        e["choices"][0]["delta"]["content"]
        for e in events
        if isinstance(e, dict) and e.get("choices") and "content" in e["choices"][0]["delta"]
    ]


# --------------------------------------------------------------------------------------
# Lifecycle


def test_start_and_stop_are_fast_and_idempotent() -> None:
    gw = FakeGateway()
    with pytest.raises(RuntimeError):
        _ = gw.url
    began = time.perf_counter()
    gw.start()
    started = time.perf_counter() - began
    assert gw.url == f"http://127.0.0.1:{gw.port}"
    assert not gw.url.endswith("/")
    assert gw.api_key == "test-key"
    with pytest.raises(RuntimeError):
        gw.start()
    began = time.perf_counter()
    gw.stop()
    stopped = time.perf_counter() - began
    gw.stop()  # second stop is a no-op
    assert started < 0.5 and stopped < 0.5, (started, stopped)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", gw.port), timeout=1):
        pass


def test_context_manager_and_custom_key() -> None:
    with FakeGateway("sk-other", model="mistral/mistral-large") as gw:
        assert "running" in repr(gw) and "sk-other" not in repr(gw)
        r = requests.get(gw.url + "/v1/models", headers={"Authorization": "Bearer sk-other"})
        assert r.status_code == 200
        assert r.json()["data"][0]["id"] == "mistral/mistral-large"
    assert "stopped" in repr(gw)


def test_pytest_fixture_gives_a_running_gateway(edgee_gateway: FakeGateway) -> None:
    assert isinstance(edgee_gateway, FakeGateway)
    assert post(edgee_gateway, chat_body("fixture works")).json()["choices"][0]["message"][
        "content"
    ] == ("fixture works")


# --------------------------------------------------------------------------------------
# Echo model


def test_echo_non_stream_is_a_whole_chat_completion(edgee_gateway: FakeGateway) -> None:
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "be brief please"},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "an answer"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "hello"},
                    {"type": "image_url", "image_url": {"url": "data:x"}},
                    {"type": "text", "text": "big world"},
                ],
            },
        ],
    }
    response = post(edgee_gateway, body)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["x-request-id"] == "req_1"
    assert response.headers["X-Edgee-Provider"] == "openai"
    data = response.json()
    assert data["id"].startswith("chatcmpl-")
    assert isinstance(data["created"], int)
    assert data == {
        "id": data["id"],
        "object": "chat.completion",
        "created": data["created"],
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hello big world"},
                "finish_reason": "stop",
            }
        ],
        # prompt: 3 + 2 + 2 + 3 words; completion: 3 words
        "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
    }


def test_echo_stream_word_by_word(edgee_gateway: FakeGateway) -> None:
    response = post(edgee_gateway, chat_body("hello world", stream=True, model="anthropic/claude"))
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert response.headers["X-Edgee-Provider"] == "anthropic"
    assert response.headers["x-request-id"] == "req_1"
    events = sse_data(response.content)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["id"] == chunks[0]["id"] and chunk["id"].startswith("chatcmpl-")
        assert chunk["model"] == "anthropic/claude"
        assert isinstance(chunk["created"], int)
    assert [c["choices"] for c in chunks] == [
        [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
        [{"index": 0, "delta": {"content": "hello"}, "finish_reason": None}],
        [{"index": 0, "delta": {"content": " world"}, "finish_reason": None}],
        [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    ]
    assert chunks[-1]["usage"] == {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}
    assert all("usage" not in c for c in chunks[:-1])


def test_echo_stream_with_include_usage_puts_usage_on_its_own_chunk(
    edgee_gateway: FakeGateway,
) -> None:
    events = stream_data(
        edgee_gateway,
        chat_body("one two three", stream=True, stream_options={"include_usage": True}),
    )
    assert events[-1] == "[DONE]"
    finish, usage_chunk = events[-3], events[-2]
    assert finish["choices"][0]["finish_reason"] == "stop" and "usage" not in finish
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}
    assert contents(events) == ["", "one", " two", " three"]


def test_echo_without_user_message_and_default_model(edgee_gateway: FakeGateway) -> None:
    data = post(edgee_gateway, {"messages": [{"role": "system", "content": "x"}]}).json()
    assert data["model"] == "gpt-4o"
    assert data["choices"][0]["message"]["content"] == ""
    assert data["usage"] == {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1}


def test_default_delay_slows_the_echo(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.set_default_delay(0.05)
    began = time.perf_counter()
    events = stream_data(edgee_gateway, chat_body("a b c", stream=True))
    # role, 3 words, finish, [DONE]: 5 pauses between 6 events
    assert time.perf_counter() - began >= 0.24
    assert contents(events) == ["", "a", " b", " c"]


@given(st.text(alphabet=st.sampled_from("ab \t\n\u00e9\u2028"), max_size=30))
def test_split_words_keeps_every_character(text: str) -> None:
    pieces = split_words(text)
    assert "".join(pieces) == text
    assert len(pieces) == max(len(text.split()), 1 if text else 0)


def test_split_words_examples() -> None:
    assert split_words("hello world") == ["hello", " world"]
    assert split_words("  hi  there ") == ["  hi", "  there "]
    assert split_words("") == []


# --------------------------------------------------------------------------------------
# Scripted text


def test_reply_text_stream_exact_bytes(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_text(chunks=["Hel", "lo ", "\u00e9t\u00e9"], finish_reason="length")
    response = raw_exchange(edgee_gateway, request_bytes("POST", CHAT, chat_body(stream=True)))
    assert response.status == 200 and response.reason == "OK"
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.headers["connection"] == "keep-alive"
    assert response.headers["x-request-id"] == "req_1"
    assert "content-length" not in response.headers
    # one HTTP chunk per SSE event, and the body ends with the zero-size chunk
    assert response.wire_body.endswith(b"\r\n0\r\n\r\n")
    assert [c + b"" for c in response.chunks] == [e + b"\n\n" for e in sse_events(response.body)]
    events = sse_data(response.body)
    assert contents(events) == ["", "Hel", "lo ", "\u00e9t\u00e9"]
    assert "\u00e9t\u00e9".encode() in response.body  # raw UTF-8, not \u escapes
    assert events[-2]["choices"][0]["finish_reason"] == "length"
    assert events[-1] == "[DONE]"
    assert response.chunks[-1] == b"data: [DONE]\n\n"


def test_reply_text_usage_compression_headers_and_non_stream(edgee_gateway: FakeGateway) -> None:
    usage = {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}
    compression = {"saved_tokens": 5, "cost_savings": 120, "reduction": 12.5, "time_ms": 3}
    for _ in range(3):
        edgee_gateway.reply_text(
            "Hi there",
            usage=usage,
            compression=compression,
            headers={"X-Edgee-Provider": "mistral", "X-Edgee-Fallback-Used": "true"},
        )
    response = post(edgee_gateway, chat_body(stream=True))
    assert response.headers["X-Edgee-Provider"] == "mistral"
    assert response.headers["X-Edgee-Fallback-Used"] == "true"
    events = sse_data(response.content)
    assert contents(events) == ["", "Hi", " there"]
    assert events[-2]["usage"] == usage and events[-2]["compression"] == compression

    events = stream_data(
        edgee_gateway, chat_body(stream=True, stream_options={"include_usage": True})
    )
    assert events[-2]["choices"] == []
    assert events[-2]["usage"] == usage and events[-2]["compression"] == compression
    assert "usage" not in events[-3]

    data = post(edgee_gateway, chat_body()).json()
    assert data["choices"][0]["message"] == {"role": "assistant", "content": "Hi there"}
    assert data["usage"] == usage and data["compression"] == compression


def test_reply_text_without_text_echoes_and_computes_usage(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_text(finish_reason="length")
    data = post(edgee_gateway, chat_body("echo me")).json()
    assert data["choices"][0] == {
        "index": 0,
        "message": {"role": "assistant", "content": "echo me"},
        "finish_reason": "length",
    }
    assert data["usage"]["completion_tokens"] == 2
    with pytest.raises(ValueError):
        edgee_gateway.reply_text("abc", chunks=["x"])


def test_reply_text_delay_between_chunks(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_text(chunks=["a", "b"], delay=0.1)
    response = requests.post(
        edgee_gateway.url + CHAT, json=chat_body(stream=True), headers=AUTH, stream=True, timeout=5
    )
    arrivals = []
    began = time.perf_counter()
    for line in response.iter_lines():
        if line:
            arrivals.append(time.perf_counter() - began)
    assert len(arrivals) == 5  # role, a, b, finish, [DONE]
    assert arrivals[-1] - arrivals[0] >= 0.35
    assert arrivals[1] - arrivals[0] >= 0.08


def test_reply_text_close_delimited_stream(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_text("no chunking here", chunked=False)
    response = raw_exchange(edgee_gateway, request_bytes("POST", CHAT, chat_body(stream=True)))
    assert "transfer-encoding" not in response.headers
    assert "content-length" not in response.headers
    assert response.headers["connection"] == "close"
    events = sse_data(response.body)  # body read up to EOF
    assert contents(events) == ["", "no", " chunking", " here"]
    assert events[-1] == "[DONE]"

    edgee_gateway.reply_text("via requests", chunked=False)
    assert contents(stream_data(edgee_gateway, chat_body(stream=True))) == ["", "via", " requests"]

    edgee_gateway.reply_text("whole", chunked=False)
    response = raw_exchange(edgee_gateway, request_bytes("POST", CHAT, chat_body()))
    assert "content-length" not in response.headers
    assert json.loads(response.body)["choices"][0]["message"]["content"] == "whole"


def test_http10_client_gets_a_close_delimited_stream(edgee_gateway: FakeGateway) -> None:
    response = raw_exchange(
        edgee_gateway,
        request_bytes("POST", CHAT, chat_body("old", stream=True), version="HTTP/1.0"),
    )
    assert "transfer-encoding" not in response.headers
    assert response.headers["connection"] == "close"
    assert contents(sse_data(response.body)) == ["", "old"]


def test_replies_are_consumed_in_order_and_only_by_chat(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_text("first")
    edgee_gateway.reply_error(500)
    edgee_gateway.reply_text("third")
    assert edgee_gateway.pending_replies == 3
    assert requests.get(edgee_gateway.url + "/v1/models", headers=AUTH).status_code == 200
    assert requests.get(edgee_gateway.url + "/nope", headers=AUTH).status_code == 404
    assert edgee_gateway.pending_replies == 3
    assert post(edgee_gateway, chat_body()).json()["choices"][0]["message"]["content"] == "first"
    assert post(edgee_gateway, chat_body(stream=True)).status_code == 500
    assert contents(stream_data(edgee_gateway, chat_body(stream=True))) == ["", "third"]
    assert post(edgee_gateway, chat_body("echo")).json()["choices"][0]["message"]["content"] == (
        "echo"
    )
    assert edgee_gateway.pending_replies == 0


# --------------------------------------------------------------------------------------
# Tool calls


def test_reply_tool_calls_stream(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_tool_calls(
        [
            {"name": "get_weather", "arguments": '{"city": "Paris"}', "id": "call_w"},
            {"name": "get_time", "arguments": {"tz": "CET"}},
        ],
        text="Let me check.",
        fragments=4,
    )
    events = stream_data(edgee_gateway, chat_body(stream=True))
    assert events[-1] == "[DONE]"
    assert contents(events) == ["", "Let", " me", " check."]
    deltas = [
        tc
        for e in events[:-1]
        for tc in e["choices"][0]["delta"].get("tool_calls", [])
        if e["choices"]
    ]
    by_index: dict[int, list[dict[str, Any]]] = {}
    for delta in deltas:
        by_index.setdefault(delta["index"], []).append(delta)
    assert sorted(by_index) == [0, 1]
    first = by_index[0][0]
    assert first == {
        "index": 0,
        "id": "call_w",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert by_index[1][0]["id"].startswith("call_") and by_index[1][0]["function"]["name"] == (
        "get_time"
    )
    for index, frags in by_index.items():
        for later in frags[1:]:
            assert set(later) == {"index", "function"}
            assert set(later["function"]) == {"arguments"}
        assert len(frags) - 1 <= 4
        joined = "".join(f["function"]["arguments"] for f in frags)
        assert json.loads(joined) == [{"city": "Paris"}, {"tz": "CET"}][index]
    assert len(by_index[0]) == 5  # header + 4 fragments
    assert events[-2]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "tool_calls"}


def test_reply_tool_calls_non_stream(edgee_gateway: FakeGateway) -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    edgee_gateway.reply_tool_calls(
        [{"name": "lookup", "arguments": '{"q": 1}', "id": "c1"}], usage=usage
    )
    data = post(edgee_gateway, chat_body()).json()
    choice = data["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "lookup", "arguments": '{"q": 1}'},
            }
        ],
    }
    assert data["usage"] == usage
    with pytest.raises(ValueError):
        edgee_gateway.reply_tool_calls([{"arguments": "{}"}])
    with pytest.raises(ValueError):
        edgee_gateway.reply_tool_calls([{"name": "x"}], fragments=0)


# --------------------------------------------------------------------------------------
# HTTP errors


def test_reply_error_envelope_headers_and_request_id(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_error(
        429,
        "Slow down",
        type="rate_limit_error",
        code="rate_limited",
        param="model",
        headers={"Retry-After": "0"},
    )
    response = post(edgee_gateway, chat_body(stream=True))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "0"
    assert response.headers["x-request-id"] == "req_1"
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {
            "message": "Slow down",
            "type": "rate_limit_error",
            "code": "rate_limited",
            "param": "model",
        }
    }


def test_reply_error_defaults_and_raw_body(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_error(503)
    edgee_gateway.reply_error(502, body=b"<html>bad gateway</html>")
    response = post(edgee_gateway, chat_body())
    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "message": "Service Unavailable",
            "type": "server_error",
            "code": None,
            "param": None,
        }
    }
    response = post(edgee_gateway, chat_body())
    assert response.status_code == 502 and response.content == b"<html>bad gateway</html>"
    with pytest.raises(ValueError):
        edgee_gateway.reply_error(500, headers={"X-Bad": "a\r\nInjected: 1"})


# --------------------------------------------------------------------------------------
# Broken streams


def test_reply_stream_error_data_event(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_stream_error(after=2, message="upstream exploded", code="provider_error")
    response = raw_exchange(
        edgee_gateway, request_bytes("POST", CHAT, chat_body("alpha beta gamma", stream=True))
    )
    assert response.status == 200
    assert response.wire_body.endswith(b"0\r\n\r\n")  # the body ends cleanly
    events = sse_events(response.body)
    assert b"[DONE]" not in response.body
    data = sse_data(response.body)
    assert contents(data) == ["", "alpha", " beta"]
    assert data[-1] == {
        "error": {
            "message": "upstream exploded",
            "type": "provider_error",
            "code": "provider_error",
            "param": None,
        }
    }
    assert events[-1].startswith(b"data: {")


def test_reply_stream_error_as_event_and_padding(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_stream_error(after=3, as_event=True)
    response = post(edgee_gateway, chat_body("only", stream=True))
    events = sse_events(response.content)
    assert events[-1].startswith(b"event: error\ndata: ")
    payload = json.loads(events[-1].split(b"\ndata: ", 1)[1])
    assert payload["error"]["message"] == "provider failed"
    assert contents(sse_data(b"\n\n".join(events[:-1]) + b"\n\n")) == [
        "",
        "only",
        " chunk2",
        " chunk3",
    ]


def test_reply_stream_error_non_stream_is_502(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_stream_error(message="nope")
    response = post(edgee_gateway, chat_body())
    assert response.status_code == 502
    assert response.json()["error"]["message"] == "nope"


def test_reply_stream_error_after_zero(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_stream_error(after=0)
    data = sse_data(post(edgee_gateway, chat_body(stream=True)).content)
    assert len(data) == 1 and "error" in data[0]


def test_reply_malformed(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_malformed(after=1)
    body = post(edgee_gateway, chat_body("x y", stream=True)).content
    events = sse_events(body)
    assert events[-2] == b"data: {not json"
    assert events[-1] == b"data: [DONE]"
    assert b'"content":"x"' in events[1]

    edgee_gateway.reply_malformed(after=0, payload=b'{"choices": 7}')
    events = sse_events(post(edgee_gateway, chat_body(stream=True)).content)
    assert events == [b'data: {"choices": 7}', b"data: [DONE]"]

    edgee_gateway.reply_malformed()
    response = post(edgee_gateway, chat_body())
    assert response.status_code == 200 and response.content == b"{not json"


def test_reply_reset_mid_stream(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_reset(after=2)
    response = requests.post(
        edgee_gateway.url + CHAT,
        json=chat_body("a b c d", stream=True),
        headers=AUTH,
        stream=True,
        timeout=5,
    )
    assert response.status_code == 200
    lines = []
    with pytest.raises(requests.exceptions.ChunkedEncodingError) as info:
        for line in response.iter_lines():
            if line:
                lines.append(line)
    assert "reset" in str(info.value).lower()
    assert contents(sse_data(b"\n\n".join(lines) + b"\n\n")) == ["", "a", " b"]


def test_reply_reset_raw_socket_sees_rst(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_reset(after=1)
    with socket.create_connection(("127.0.0.1", edgee_gateway.port), timeout=5) as sock:
        sock.sendall(request_bytes("POST", CHAT, chat_body(stream=True)))
        received = b""
        with pytest.raises(ConnectionResetError):  # an RST, not an orderly EOF
            while True:
                data = sock.recv(65536)
                assert data, "orderly close instead of a reset"
                received += data
    assert received.count(b"data: ") == 2  # role chunk + 1 content chunk


def test_reply_reset_non_stream_and_before_headers(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_reset()
    with pytest.raises(requests.exceptions.ConnectionError):
        post(edgee_gateway, chat_body())
    edgee_gateway.reply_reset(after=-1)
    with pytest.raises(requests.exceptions.ConnectionError):
        post(edgee_gateway, chat_body(stream=True))
    # the gateway is still healthy afterwards
    assert post(edgee_gateway, chat_body("ok")).status_code == 200


def test_reply_stall_triggers_client_read_timeout(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_stall(10, after=1)
    response = requests.post(
        edgee_gateway.url + CHAT,
        json=chat_body("w1 w2", stream=True),
        headers=AUTH,
        stream=True,
        timeout=(2, 0.3),
    )
    lines = []
    began = time.perf_counter()
    with pytest.raises(requests.exceptions.ConnectionError, match="timed out"):
        for line in response.iter_lines():
            if line:
                lines.append(line)
    assert time.perf_counter() - began < 2
    assert len(lines) == 2  # role + one content chunk
    response.close()
    # the gateway notices the client left and frees the connection
    assert edgee_gateway.wait_until_idle(2.0)


def test_reply_stall_non_stream_read_timeout(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_stall(10)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(edgee_gateway.url + CHAT, json=chat_body(), headers=AUTH, timeout=(2, 0.2))


def test_stop_during_a_stall_is_quick() -> None:
    gw = FakeGateway().start()
    gw.reply_stall(30)
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
    try:
        sock.sendall(request_bytes("POST", CHAT, chat_body(stream=True)))
        with sock.makefile("rb") as stream:
            assert stream.readline().startswith(b"HTTP/1.1 200")
            while stream.readline() not in (b"\r\n", b""):
                pass
            began = time.perf_counter()
            gw.stop()
            assert time.perf_counter() - began < 1.0
            assert stream.read() == b""  # closed: no chunk terminator ever came
    finally:
        sock.close()
    assert gw.open_connections == 0


def test_reply_raw_verbatim(edgee_gateway: FakeGateway) -> None:
    raw = b"HTTP/1.1 418 I'm a teapot\r\nX-Odd: yes\r\nContent-Length: 5\r\n\r\nshort"
    edgee_gateway.reply_raw(raw)
    with socket.create_connection(("127.0.0.1", edgee_gateway.port), timeout=5) as sock:
        sock.sendall(request_bytes("POST", CHAT, chat_body()))
        received = b""
        while data := sock.recv(65536):
            received += data
    assert received == raw


def test_reply_raw_keep_open(edgee_gateway: FakeGateway) -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    edgee_gateway.reply_raw(raw, close=False)
    with socket.create_connection(("127.0.0.1", edgee_gateway.port), timeout=5) as sock:
        stream = sock.makefile("rb")
        sock.sendall(request_bytes("POST", CHAT, chat_body()))
        assert read_response(stream).body == b"{}"
        sock.sendall(request_bytes("POST", CHAT, chat_body("again")))
        second = json.loads(read_response(stream).body)
        assert second["choices"][0]["message"]["content"] == "again"
        stream.close()
    assert edgee_gateway.connections_opened == 1


def test_reply_json_even_for_a_stream_request(edgee_gateway: FakeGateway) -> None:
    completion = {"object": "chat.completion", "choices": [], "extra": {"kept": True}}
    edgee_gateway.reply_json(completion, headers={"X-Test": "1"})
    edgee_gateway.reply_json({"error": {"message": "teapot"}}, status=418)
    response = post(edgee_gateway, chat_body(stream=True))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Test"] == "1"
    assert response.json() == completion
    response = post(edgee_gateway, chat_body())
    assert response.status_code == 418 and response.json()["error"]["message"] == "teapot"


# --------------------------------------------------------------------------------------
# Auth, routing, bad requests


INVALID_KEY = {
    "error": {
        "message": "Invalid API key",
        "type": "authentication_error",
        "code": "invalid_api_key",
        "param": None,
    }
}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}, {"Authorization": "Basic x"}],
)
def test_auth_is_required_and_does_not_consume_replies(
    edgee_gateway: FakeGateway, headers: dict[str, str]
) -> None:
    edgee_gateway.reply_text("scripted")
    response = post(edgee_gateway, chat_body(stream=True), headers=headers)
    assert response.status_code == 401
    assert response.json() == INVALID_KEY
    assert response.headers["x-request-id"] == "req_1"
    assert "X-Edgee-Provider" in response.headers
    assert edgee_gateway.pending_replies == 1
    models = requests.get(edgee_gateway.url + "/v1/models", headers=headers, timeout=5)
    assert models.status_code == 401
    data = post(edgee_gateway, chat_body()).json()
    assert data["choices"][0]["message"]["content"] == "scripted"


def test_auth_can_be_disabled() -> None:
    with FakeGateway(require_auth=False) as gw:
        response = requests.post(gw.url + CHAT, json=chat_body("open"), timeout=5)
        assert response.status_code == 200


def test_models_endpoint(edgee_gateway: FakeGateway) -> None:
    response = requests.get(edgee_gateway.url + "/v1/models", headers=AUTH, timeout=5)
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req_1"
    data = response.json()
    assert data["object"] == "list"
    assert data["data"][0] == {
        "id": "openai/gpt-4o",
        "object": "model",
        "created": data["data"][0]["created"],
        "owned_by": "openai",
    }
    for model in data["data"]:
        assert model["owned_by"] == model["id"].split("/")[0]


def test_unknown_path_and_wrong_method(edgee_gateway: FakeGateway) -> None:
    response = requests.post(edgee_gateway.url + "/v2/whatever", headers=AUTH, json={}, timeout=5)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"
    assert set(response.json()["error"]) == {"message", "type", "code", "param"}
    response = requests.get(edgee_gateway.url + CHAT, headers=AUTH, timeout=5)
    assert response.status_code == 405 and response.headers["Allow"] == "POST"


@pytest.mark.parametrize(
    ("payload", "param"),
    [(b"{not json", None), (b"[1, 2]", None), (b"", None), (b'{"model": "m"}', "messages")],
)
def test_bad_request_body(edgee_gateway: FakeGateway, payload: bytes, param: str | None) -> None:
    edgee_gateway.reply_text("kept")
    response = requests.post(
        edgee_gateway.url + CHAT,
        data=payload,
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert edgee_gateway.pending_replies == 1


def test_malformed_http_gets_400_and_close(edgee_gateway: FakeGateway) -> None:
    response = raw_exchange(edgee_gateway, b"NONSENSE\r\n\r\n")
    assert response.status == 400 and response.headers["connection"] == "close"


# --------------------------------------------------------------------------------------
# Recorded requests


def test_recorded_requests(edgee_gateway: FakeGateway) -> None:
    post(edgee_gateway, chat_body("hi", stream=True), headers={**AUTH, "X-Custom-Thing": "v1"})
    requests.get(edgee_gateway.url + "/v1/models?limit=2", headers=AUTH, timeout=5)
    requests.post(edgee_gateway.url + CHAT, data=b"\xff\xfe", headers=AUTH, timeout=5)
    recorded = edgee_gateway.requests
    assert len(recorded) == 3
    first = recorded[0]
    assert isinstance(first, RecordedRequest)
    assert first.method == "POST" and first.path == CHAT
    assert isinstance(first.headers, Headers)
    assert first.headers["x-custom-thing"] == "v1"
    assert first.headers["X-CUSTOM-THING"] == "v1"
    assert "authorization" in first.headers
    assert first.headers.get("AUTHORIZATION") == f"Bearer {KEY}"
    assert first.json == chat_body("hi", stream=True)
    assert json.loads(first.body) == first.json
    assert first.stream is True
    assert recorded[1].method == "GET" and recorded[1].path == "/v1/models?limit=2"
    assert recorded[1].json is None and recorded[1].body == b""
    assert recorded[2].json is None and recorded[2].body == b"\xff\xfe"
    assert edgee_gateway.last_request == recorded[2]
    with pytest.raises(AttributeError):
        first.method = "PUT"  # type: ignore[misc]


def test_headers_mapping() -> None:
    headers = Headers([("Content-Type", "a"), ("X-Multi", "1"), ("x-multi", "2")])
    assert headers["content-type"] == "a"
    assert headers["X-MULTI"] == "1, 2"
    assert headers.get_all("x-multi") == ["1", "2"]
    assert list(headers) == ["Content-Type", "X-Multi"]
    not_a_name: object = 3
    assert len(headers) == 2 and "CONTENT-TYPE" in headers and not_a_name not in headers
    assert headers.raw[2] == ("x-multi", "2")


def test_chunked_request_body_and_expect_continue(edgee_gateway: FakeGateway) -> None:
    payload = json.dumps(chat_body("chunked upload")).encode()
    head = (
        f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
        "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    body = b"".join(b"%x\r\n%b\r\n" % (len(p), p) for p in (payload[:10], payload[10:])) + (
        b"0\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", edgee_gateway.port), timeout=5) as sock:
        stream = sock.makefile("rb")
        sock.sendall(head)
        assert stream.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert stream.readline() == b"\r\n"
        sock.sendall(body)
        response = read_response(stream)
        stream.close()
    assert json.loads(response.body)["choices"][0]["message"]["content"] == "chunked upload"
    assert edgee_gateway.last_request.json == chat_body("chunked upload")


# --------------------------------------------------------------------------------------
# Connections


def test_keep_alive_two_requests_on_one_socket(edgee_gateway: FakeGateway) -> None:
    with socket.create_connection(("127.0.0.1", edgee_gateway.port), timeout=5) as sock:
        stream = sock.makefile("rb")
        sock.sendall(request_bytes("POST", CHAT, chat_body("one", stream=True)))
        first = read_response(stream)
        sock.sendall(request_bytes("POST", CHAT, chat_body("two")))
        second = read_response(stream)
        sock.sendall(request_bytes("GET", "/v1/models", headers={"Connection": "close"}))
        third = read_response(stream)
        assert third.headers["connection"] == "close"
        assert stream.read() == b""  # the server closed after Connection: close
        stream.close()
    assert contents(sse_data(first.body)) == ["", "one"]
    assert json.loads(second.body)["choices"][0]["message"]["content"] == "two"
    assert first.headers["x-request-id"] == "req_1" and second.headers["x-request-id"] == "req_2"
    assert edgee_gateway.connections_opened == 1
    assert edgee_gateway.wait_until_idle(2.0)


def test_requests_session_reuses_the_connection(edgee_gateway: FakeGateway) -> None:
    with requests.Session() as session:
        for word in ("a", "b", "c"):
            response = session.post(
                edgee_gateway.url + CHAT, json=chat_body(word, stream=True), headers=AUTH
            )
            assert contents(sse_data(response.content)) == ["", word]
        assert edgee_gateway.open_connections == 1
    assert edgee_gateway.connections_opened == 1


def test_stop_with_an_idle_keep_alive_client() -> None:
    gw = FakeGateway().start()
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
    try:
        stream = sock.makefile("rb")
        sock.sendall(request_bytes("POST", CHAT, chat_body("idle")))
        assert read_response(stream).status == 200
        assert gw.open_connections == 1
        began = time.perf_counter()
        gw.stop()
        assert time.perf_counter() - began < 2.0
        assert gw.open_connections == 0
        assert stream.read() == b""
        stream.close()
    finally:
        sock.close()


def test_open_connections_counts_and_returns_to_zero(edgee_gateway: FakeGateway) -> None:
    socks = [socket.create_connection(("127.0.0.1", edgee_gateway.port)) for _ in range(5)]
    deadline = time.monotonic() + 2
    while edgee_gateway.open_connections < 5 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert edgee_gateway.open_connections == 5
    for sock in socks:
        sock.close()
    assert edgee_gateway.wait_until_idle(2.0)
    assert edgee_gateway.connections_opened == 5


def test_scripting_from_several_threads(edgee_gateway: FakeGateway) -> None:
    def script() -> None:
        for _ in range(50):
            edgee_gateway.reply_text("threaded")

    threads = [threading.Thread(target=script) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert edgee_gateway.pending_replies == 200


# --------------------------------------------------------------------------------------
# Load


def test_aiohttp_load_500_concurrent_streams(edgee_gateway: FakeGateway) -> None:
    streams, words = 500, 100

    async def one(session: aiohttp.ClientSession, n: int) -> None:
        text = " ".join(f"s{n}w{i}" for i in range(words))
        async with session.post(
            edgee_gateway.url + CHAT, json=chat_body(text, stream=True), headers=AUTH
        ) as response:
            assert response.status == 200
            body = await response.read()
        events = sse_data(body)
        assert events[-1] == "[DONE]"
        pieces = contents(events)
        assert len(pieces) == words + 1
        assert "".join(pieces) == text
        assert events[-2]["usage"]["completion_tokens"] == words

    async def main() -> None:
        connector = aiohttp.TCPConnector(limit=streams)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            await asyncio.gather(*(one(session, n) for n in range(streams)))

    began = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - began
    assert elapsed < 20, elapsed
    assert len(edgee_gateway.requests) == streams
    # every stream had its own connection: they really ran concurrently
    assert edgee_gateway.connections_opened >= streams * 0.9
    assert edgee_gateway.wait_until_idle(5.0)


def test_route_table_answers_each_endpoint_and_refuses_other_methods(
    edgee_gateway: FakeGateway,
) -> None:
    from edgee.testing._routes import ROUTES

    assert sorted(ROUTES) == [
        "/v1/chat/completions",
        "/v1/compress",
        "/v1/count_tokens",
        "/v1/models",
    ]
    for path, route in ROUTES.items():
        for method in ("GET", "POST", "DELETE"):
            if method in route.methods:
                continue
            response = requests.request(method, edgee_gateway.url + path, headers=AUTH, timeout=5)
            assert response.status_code == 405, (method, path)
            assert response.headers["Allow"] == ", ".join(route.methods)
            assert response.json()["error"]["type"] == "invalid_request_error"
    assert edgee_gateway.pending_replies == 0
