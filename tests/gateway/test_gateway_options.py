"""FakeGateway's wire options: content codings, TLS, interim responses, structured answers
and refusals. Checked with raw sockets, `requests` and the standard library only."""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import urllib.request
import zlib
from typing import Any

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
from hypothesis import given, settings
from hypothesis import strategies as st

from edgee.testing import FakeGateway

CHAT = "/v1/chat/completions"
SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "Answer", "schema": {"type": "object"}, "strict": True},
}


def decoder(coding: str) -> Any:
    return zlib.decompressobj(wbits=31 if coding == "gzip" else 15)


def post(gw: FakeGateway, body: Any) -> requests.Response:
    return requests.post(gw.url + CHAT, json=body, headers=AUTH, timeout=5)


# --------------------------------------------------------------------------------------
# Content codings


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_whole_json_answer_is_compressed(edgee_gateway: FakeGateway, coding: str) -> None:
    edgee_gateway.reply_text("squeezed answer", content_encoding=coding)
    response = raw_exchange(edgee_gateway, request_bytes("POST", CHAT, chat_body()))
    assert response.headers["content-encoding"] == coding
    assert int(response.headers["content-length"]) == len(response.body)
    data = json.loads(decoder(coding).decompress(response.body))
    assert data["choices"][0]["message"]["content"] == "squeezed answer"
    if coding == "gzip":
        assert gzip.decompress(response.body) == json.dumps(data, separators=(",", ":")).encode()


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_stream_is_compressed_event_by_event(edgee_gateway: FakeGateway, coding: str) -> None:
    edgee_gateway.reply_text(chunks=["one", " two", " three"], content_encoding=coding)
    response = raw_exchange(edgee_gateway, request_bytes("POST", CHAT, chat_body(stream=True)))
    assert response.headers["content-encoding"] == coding
    assert response.headers["transfer-encoding"] == "chunked"
    # Each HTTP chunk but the last decodes, on its own and in order, to exactly one event:
    # an incremental decoder has every event as soon as its chunk arrived.
    d = decoder(coding)
    decoded = [d.decompress(chunk) for chunk in response.chunks]
    tail = decoded.pop()
    assert tail == b"" and d.eof
    assert all(event.endswith(b"\n\n") and event.count(b"\n\n") == 1 for event in decoded)
    events = sse_data(b"".join(decoded))
    assert [e["choices"][0]["delta"].get("content") for e in events[:4]] == [
        "",
        "one",
        " two",
        " three",
    ]
    assert events[-1] == "[DONE]"


def test_requests_decodes_a_compressed_stream(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_tool_calls([{"name": "f", "arguments": {"a": 1}}], content_encoding="gzip")
    events = sse_data(post(edgee_gateway, chat_body(stream=True)).content)
    assert events[-1] == "[DONE]"
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"


def test_gateway_wide_coding_and_identity_override() -> None:
    with FakeGateway(content_encoding="deflate") as gw:
        models = raw_exchange(gw, request_bytes("GET", "/v1/models"))
        assert models.headers["content-encoding"] == "deflate"
        assert json.loads(zlib.decompress(models.body))["object"] == "list"
        denied = raw_exchange(gw, request_bytes("GET", "/v1/models", auth=False))
        assert denied.status == 401 and denied.headers["content-encoding"] == "deflate"
        echo = raw_exchange(gw, request_bytes("POST", CHAT, chat_body("hi", stream=True)))
        assert echo.headers["content-encoding"] == "deflate"
        assert sse_data(zlib.decompress(echo.body))[-1] == "[DONE]"
        gw.reply_error(500, content_encoding="identity")
        plain = raw_exchange(gw, request_bytes("POST", CHAT, chat_body()))
        assert "content-encoding" not in plain.headers
        assert json.loads(plain.body)["error"]["type"] == "server_error"
        gw.reply_error(429, content_encoding="gzip")
        zipped = raw_exchange(gw, request_bytes("POST", CHAT, chat_body()))
        assert json.loads(gzip.decompress(zipped.body))["error"]["type"] == "rate_limit_error"


def test_unknown_codings_are_refused() -> None:
    with pytest.raises(ValueError, match="content_encoding"):
        FakeGateway(content_encoding="br")
    gw = FakeGateway()
    with pytest.raises(ValueError, match="content_encoding"):
        gw.reply_text("x", content_encoding="compress")


# --------------------------------------------------------------------------------------
# TLS


def test_tls_serves_https_with_a_throwaway_ca() -> None:
    with FakeGateway(tls=True) as gw:
        assert gw.tls and gw.url.startswith("https://127.0.0.1:")
        response = requests.get(gw.url + "/v1/models", headers=AUTH, verify=gw.ca_path, timeout=5)
        assert response.status_code == 200
        gw.reply_text(chunks=["secure", " words"])
        stream = requests.post(
            gw.url + CHAT, json=chat_body(stream=True), headers=AUTH, verify=gw.ca_path, timeout=5
        )
        assert sse_data(stream.content)[1]["choices"][0]["delta"]["content"] == "secure"
        context = gw.client_ssl_context()
        assert isinstance(context, ssl.SSLContext) and context.check_hostname
        request = urllib.request.Request(gw.url + "/v1/models", headers=AUTH)
        with urllib.request.urlopen(request, context=context, timeout=5) as answer:
            assert json.loads(answer.read())["object"] == "list"
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(gw.url + "/v1/models", headers=AUTH, timeout=5)  # CA not trusted
        # the gateway survives a failed handshake
        assert requests.get(gw.url + "/v1/models", headers=AUTH, verify=gw.ca_path).ok


def test_tls_reset_and_keep_alive() -> None:
    with FakeGateway(tls=True) as gw, requests.Session() as session:
        # verify per call: requests lets REQUESTS_CA_BUNDLE override a session's verify
        for word in ("a", "b"):
            response = session.post(
                gw.url + CHAT, json=chat_body(word), headers=AUTH, verify=gw.ca_path
            )
            assert response.ok
        assert gw.connections_opened == 1
        gw.reply_reset(after=1)
        with pytest.raises(requests.exceptions.RequestException):
            _ = session.post(
                gw.url + CHAT, json=chat_body(stream=True), headers=AUTH, verify=gw.ca_path
            ).content


def test_ca_path_only_with_tls(edgee_gateway: FakeGateway) -> None:
    assert not edgee_gateway.tls and edgee_gateway.url.startswith("http://")
    with pytest.raises(RuntimeError, match="tls=True"):
        _ = edgee_gateway.ca_path
    with pytest.raises(RuntimeError, match="tls=True"):
        edgee_gateway.client_ssl_context()


# --------------------------------------------------------------------------------------
# Interim (1xx) responses


def read_interims(stream: Any) -> list[tuple[str, list[str]]]:
    """Status lines and header lines of the 1xx responses before the final one."""
    interims = []
    while True:
        status = stream.peek(12)[:12]
        if not status.startswith(b"HTTP/1.1 1"):
            return interims
        line = stream.readline().decode("latin-1").strip()
        headers = []
        while (header := stream.readline()) != b"\r\n":
            headers.append(header.decode("latin-1").strip())
        interims.append((line, headers))


@pytest.mark.parametrize("stream", [False, True])
def test_interim_responses_come_before_the_final_one(
    edgee_gateway: FakeGateway, stream: bool
) -> None:
    edgee_gateway.reply_text("after hints", interim=[103, 100])
    with socket.create_connection(("127.0.0.1", edgee_gateway.port), timeout=5) as sock:
        sock.sendall(request_bytes("POST", CHAT, chat_body(stream=stream)))
        with sock.makefile("rb") as reader:
            interims = read_interims(reader)
            final = read_response(reader)
    assert interims == [
        ("HTTP/1.1 103 Early Hints", ["Link: </style.css>; rel=preload; as=style"]),
        ("HTTP/1.1 100 Continue", []),
    ]
    assert final.status == 200
    assert b"after" in final.body


def test_interim_on_errors_and_not_to_http10(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_error(503, interim=[102])
    with socket.create_connection(("127.0.0.1", edgee_gateway.port), timeout=5) as sock:
        sock.sendall(request_bytes("POST", CHAT, chat_body()))
        with sock.makefile("rb") as reader:
            assert read_interims(reader) == [("HTTP/1.1 102 Processing", [])]
            assert read_response(reader).status == 503
    edgee_gateway.reply_text("old client", interim=[103])
    old = raw_exchange(edgee_gateway, request_bytes("POST", CHAT, chat_body(), version="HTTP/1.0"))
    assert old.status == 200  # the first status line is the final one
    for bad in ([101], [200], [99]):
        with pytest.raises(ValueError, match="interim"):
            edgee_gateway.reply_text("x", interim=bad)


# --------------------------------------------------------------------------------------
# Structured outputs and refusals


def test_structured_answer_whole_and_streamed(edgee_gateway: FakeGateway) -> None:
    value = {"city": "Paris", "temps": [12, 14.5], "sunny": True, "note": None}
    edgee_gateway.reply_structured(value)
    edgee_gateway.reply_structured(value, fragments=4)
    whole = post(edgee_gateway, chat_body(response_format=SCHEMA_FORMAT)).json()
    message = whole["choices"][0]["message"]
    assert json.loads(message["content"]) == value
    events = sse_data(post(edgee_gateway, chat_body(stream=True)).content)
    pieces = [e["choices"][0]["delta"]["content"] for e in events[1:-2]]
    assert len(pieces) == 4 and json.loads("".join(pieces)) == value
    recorded = edgee_gateway.requests
    assert recorded[0].json_schema == SCHEMA_FORMAT["json_schema"]
    assert recorded[0].response_format == SCHEMA_FORMAT
    assert recorded[1].json_schema is None and recorded[1].response_format is None


def test_structured_raw_text_chunks_and_length_cut(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_structured('{"city": "Par', finish_reason="length")
    edgee_gateway.reply_structured({"a": 1}, chunks=['{"a"', ":1}"])
    choice = post(edgee_gateway, chat_body()).json()["choices"][0]
    assert choice["message"]["content"] == '{"city": "Par'
    assert choice["finish_reason"] == "length"
    events = sse_data(post(edgee_gateway, chat_body(stream=True)).content)
    assert [e["choices"][0]["delta"]["content"] for e in events[1:3]] == ['{"a"', ":1}"]
    with pytest.raises(ValueError, match="chunks"):
        edgee_gateway.reply_structured({"a": 1}, chunks=["{}"])


@pytest.mark.parametrize(
    "response_format",
    [
        None,
        {"type": "json_object"},
        {"type": "json_schema"},
        {"type": "json_schema", "json_schema": {"name": "A"}},
        {"type": "json_schema", "json_schema": {"schema": {}}},
    ],
)
def test_require_schema_answers_400_without_a_json_schema_format(
    edgee_gateway: FakeGateway, response_format: Any
) -> None:
    edgee_gateway.reply_structured({"a": 1}, require_schema=True)
    extra = {} if response_format is None else {"response_format": response_format}
    response = post(edgee_gateway, chat_body(stream=True, **extra))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == "response_format"
    assert edgee_gateway.pending_replies == 0  # the scripted answer was used up


def test_require_schema_accepts_a_json_schema_format(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_structured({"a": 1}, require_schema=True)
    response = post(edgee_gateway, chat_body(response_format=SCHEMA_FORMAT))
    assert response.status_code == 200
    assert json.loads(response.json()["choices"][0]["message"]["content"]) == {"a": 1}


def test_refusal_whole_and_streamed(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_refusal("No can do.")
    edgee_gateway.reply_refusal("No can do.", chunks=["No ", "can do."])
    message = post(edgee_gateway, chat_body()).json()["choices"][0]["message"]
    assert message == {"role": "assistant", "content": None, "refusal": "No can do."}
    response = requests.post(
        edgee_gateway.url + CHAT, json=chat_body(stream=True), headers=AUTH, timeout=5
    )
    events = sse_data(response.content)
    deltas = [e["choices"][0]["delta"] for e in events[:-1]]
    assert deltas[0] == {"role": "assistant", "content": None}
    assert [d["refusal"] for d in deltas[1:-1]] == ["No ", "can do."]
    assert all("content" not in d for d in deltas[1:])
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert sse_events(response.content)[-1] == b"data: [DONE]"
    with pytest.raises(ValueError, match="refusal"):
        edgee_gateway.reply_refusal("a", chunks=["b"])


def test_key_is_still_required_with_options() -> None:
    with FakeGateway(tls=True, content_encoding="gzip") as gw:
        denied = requests.get(gw.url + "/v1/models", verify=gw.ca_path, timeout=5)
        assert denied.status_code == 401 and denied.headers["Content-Encoding"] == "gzip"
        assert denied.json()["error"]["type"] == "authentication_error"
        ok = requests.get(
            gw.url + "/v1/models", headers={"Authorization": f"Bearer {KEY}"}, verify=gw.ca_path
        )
        assert ok.status_code == 200


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.text(alphabet="ab \u00e9\u4e16\n", min_size=1, max_size=40), max_size=6),
    st.sampled_from(["gzip", "deflate"]),
)
def test_every_coded_stream_chunk_is_one_whole_event(chunks: list[str], coding: str) -> None:
    with FakeGateway() as gw:
        gw.reply_text(chunks=chunks, content_encoding=coding)
        response = raw_exchange(gw, request_bytes("POST", CHAT, chat_body(stream=True)))
    d = decoder(coding)
    decoded = [d.decompress(chunk) for chunk in response.chunks]
    assert decoded.pop() == b"" and d.eof
    assert all(event.count(b"\n\n") == 1 and event.endswith(b"\n\n") for event in decoded)
    contents = [e["choices"][0]["delta"].get("content") for e in sse_data(b"".join(decoded))[1:-2]]
    assert contents == chunks


def test_close_delimited_coded_stream(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_text("no chunks", chunked=False, content_encoding="gzip")
    response = raw_exchange(edgee_gateway, request_bytes("POST", CHAT, chat_body(stream=True)))
    assert "transfer-encoding" not in response.headers
    assert response.headers["connection"] == "close"
    events = sse_data(gzip.decompress(response.body))
    assert [e["choices"][0]["delta"].get("content") for e in events[1:3]] == ["no", " chunks"]
