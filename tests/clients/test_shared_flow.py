"""Behaviours decided once in the core, seen identically through both clients.

The attempt flow (``_attempts``), the header decoding (``_headers``) and the
official signature of ``send`` (``stream`` positional) run under each client
over real loopback HTTP; raw replies carry bytes FakeGateway would not send.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from edgee import AuthenticationError, SendResponse
from edgee.testing import FakeGateway

# A request id that is not UTF-8: latin-1 (HTTP's own decoding) reads it as "caf\xe9-1".
RAW_ID = b"caf\xe9-1"
LATIN1_ID = "caf\xe9-1"


def raw(status: int, content_type: str, body: bytes, *extra: bytes) -> bytes:
    head = [b"HTTP/1.1 %d X" % status, b"Content-Type: " + content_type.encode(), *extra]
    head.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def completion(text: str) -> bytes:
    return json.dumps(
        {
            "id": "c1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
        }
    ).encode()


def test_stream_can_be_passed_positionally(client: Any) -> None:
    # The official SDK's signature is send(model, input, stream=False).
    stream = client.send("gpt-4o", "one two three", True)
    with stream:
        assert "".join(stream.text_stream) == "one two three"
    assert isinstance(client.send("gpt-4o", "four five", False), SendResponse)


def test_a_non_utf8_request_id_reads_the_same_on_both_clients(
    client: Any, gateway: FakeGateway
) -> None:
    gateway.reply_raw(raw(200, "application/json", completion("hi"), b"x-request-id: " + RAW_ID))
    response = client.send("gpt-4o", "hi")
    assert response.text == "hi"
    assert response.request_id == LATIN1_ID


def test_a_non_utf8_request_id_on_an_error(client: Any, gateway: FakeGateway) -> None:
    body = json.dumps({"error": {"message": "bad key", "type": "authentication_error"}}).encode()
    gateway.reply_raw(raw(401, "application/json", body, b"X-Request-Id: " + RAW_ID))
    with pytest.raises(AuthenticationError) as info:
        client.send("gpt-4o", "hi")
    assert info.value.request_id == LATIN1_ID
    assert info.value.headers["x-request-id"] == LATIN1_ID


def test_a_non_utf8_header_on_a_stream(client: Any, gateway: FakeGateway) -> None:
    events = b'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\n'
    events += b"data: [DONE]\n\n"
    gateway.reply_raw(
        raw(200, "text/event-stream", events, b"x-request-id: " + RAW_ID, b"X-Edgee-Provider: \xfc")
    )
    with client.stream("gpt-4o", "hi") as stream:
        assert stream.request_id == LATIN1_ID
        assert stream.provider == "\xfc"
        assert [c.text for c in stream] == ["ok"]
        assert stream.final_response().request_id == LATIN1_ID


def test_a_redirect_then_an_error_then_success_with_retries(
    make_client: Any, gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One attempt flow for both clients: a redirect is followed within the same
    # attempt, a 503 is retried after the (shortened) backoff, the 200 is returned.
    monkeypatch.setattr("edgee._retry.INITIAL_DELAY", 0.001)
    client = make_client(max_retries=1)
    moved = (
        b"HTTP/1.1 307 Moved\r\nLocation: /v1/chat/completions?again=1\r\nContent-Length: 0\r\n\r\n"
    )
    gateway.reply_raw(moved, close=False)
    gateway.reply_raw(raw(503, "text/plain", b"busy"))
    gateway.reply_raw(raw(200, "application/json", completion("at last")))
    assert client.send("gpt-4o", "hi").text == "at last"
    paths = [r.path for r in gateway.requests[-3:]]
    assert paths == [
        "/v1/chat/completions",
        "/v1/chat/completions?again=1",
        "/v1/chat/completions?again=1",
    ]
