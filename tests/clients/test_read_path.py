"""The stream read path on both clients, over real HTTP: the framings a gateway may
use (chunked with extensions and trailers, events cut across HTTP chunks,
Content-Length, close-delimited), bad chunked framing, a body cut short, and
connection reuse after each."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from edgee import Timeout
from edgee.errors import APITimeoutError, IncompleteStreamError
from edgee.testing import FakeGateway

MakeClient = Callable[..., Any]


def _event(text: str | None, finish: str | None = None) -> bytes:
    delta = {"role": "assistant"} if text is None else {"content": text}
    chunk = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


EVENTS = [
    _event(None),
    _event("one"),
    _event(" two"),
    _event(" three", "stop"),
    b"data: [DONE]\n\n",
]
TEXT = "one two three"


def _head(framing: str, length: int = 0) -> bytes:
    lines = ["HTTP/1.1 200 OK", "Content-Type: text/event-stream", "x-request-id: req-read"]
    if framing == "chunked":
        lines.append("Transfer-Encoding: chunked")
    elif framing == "length":
        lines.append(f"Content-Length: {length}")
    else:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _chunk(data: bytes, ext: str = "") -> bytes:
    return f"{len(data):x}{ext}\r\n".encode() + data + b"\r\n"


def _text(stream: Any) -> str:
    return "".join(chunk.text or "" for chunk in stream)


def test_chunked_stream_with_extensions_trailers_and_cut_events_is_read_and_reused(
    make_client: MakeClient, gateway: FakeGateway
) -> None:
    body = b"".join(EVENTS)
    # HTTP chunks that cut events anywhere, one with an extension, trailers at the end.
    pieces = [body[:7], body[7:100], body[100:101], body[101:]]
    wire = (
        _head("chunked")
        + _chunk(pieces[0], ";note=1")
        + b"".join(_chunk(p) for p in pieces[1:])
        + b"0\r\nX-Trailer: yes\r\n\r\n"
    )
    gateway.reply_raw(wire, close=False)
    client = make_client()
    assert _text(client.stream("gpt-4o", "x")) == TEXT
    assert client.send("gpt-4o", "again").text == "again"
    assert gateway.connections_opened == 1  # the stream's connection went back to the pool


def test_one_chunk_per_event_written_byte_by_byte_is_read(
    make_client: MakeClient, gateway: FakeGateway
) -> None:
    wire = _head("chunked") + b"".join(_chunk(e) for e in EVENTS) + b"0\r\n\r\n"
    gateway.reply_raw(wire, close=False, drip=0.0005)
    client = make_client()
    assert _text(client.stream("gpt-4o", "x")) == TEXT
    assert client.send("gpt-4o", "again").text == "again"
    assert gateway.connections_opened == 1


@pytest.mark.parametrize("framing", ["length", "close"])
def test_content_length_and_close_delimited_streams_are_read(
    make_client: MakeClient, gateway: FakeGateway, framing: str
) -> None:
    body = b"".join(EVENTS)
    gateway.reply_raw(_head(framing, len(body)) + body, close=framing == "close")
    client = make_client()
    assert _text(client.stream("gpt-4o", "x")) == TEXT
    assert client.send("gpt-4o", "again").text == "again"


@pytest.mark.parametrize("bad", [b"0x10\r\n", b"zz\r\n", b"5\r\nabcdefgh\r\n", b"1" * 17 + b"\r\n"])
def test_bad_chunked_framing_mid_stream_ends_the_stream_with_an_error(
    make_client: MakeClient, gateway: FakeGateway, kind: str, bad: bytes
) -> None:
    wire = _head("chunked") + _chunk(EVENTS[0]) + _chunk(EVENTS[1]) + bad + b"\r\n" * 4
    gateway.reply_raw(wire, drip=0.0003)  # the good chunks arrive before the bad size
    client = make_client(timeout=Timeout(connect=2.0, read=0.5))
    got = []
    # The sync client sees the bad framing itself (edgee._chunked). aiohttp 3.14.5
    # closes the connection on a bad chunk size mid-body but never wakes the
    # reader, so there the read timeout ends the stream.
    expected = IncompleteStreamError if kind == "sync" else APITimeoutError
    with pytest.raises(expected) as info:
        for chunk in client.stream("gpt-4o", "x"):
            got.append(chunk)
    assert len(got) == 2
    assert info.value.request_id == "req-read"
    if kind == "sync":
        assert isinstance(info.value, IncompleteStreamError)
        assert info.value.chunks_received == 2
        assert "chunk" in str(info.value)  # names the bad framing
    assert client.send("gpt-4o", "still alive").text == "still alive"


def test_a_chunked_body_cut_inside_a_chunk_is_an_incomplete_stream(
    make_client: MakeClient, gateway: FakeGateway
) -> None:
    wire = _head("chunked") + _chunk(EVENTS[0]) + _chunk(EVENTS[1])[:-10]
    gateway.reply_raw(wire)
    client = make_client()
    got = []
    with pytest.raises(IncompleteStreamError) as info:
        for chunk in client.stream("gpt-4o", "x"):
            got.append(chunk)
    assert len(got) == 1 and info.value.chunks_received == 1
    assert client.send("gpt-4o", "still alive").text == "still alive"


def test_bytes_after_the_chunked_body_do_not_poison_the_next_request(
    make_client: MakeClient, gateway: FakeGateway
) -> None:
    wire = _head("chunked") + _chunk(b"".join(EVENTS)) + b"0\r\n\r\nHTTP/1.1 999 JUNK\r\n\r\n"
    gateway.reply_raw(wire, close=False)
    client = make_client()
    assert _text(client.stream("gpt-4o", "x")) == TEXT
    assert client.send("gpt-4o", "clean").text == "clean"


def test_a_slow_but_steady_stream_does_not_time_out(
    make_client: MakeClient, gateway: FakeGateway
) -> None:
    # Each event comes well within the read timeout; the whole stream takes longer.
    wire = _head("chunked") + b"".join(_chunk(e) for e in EVENTS) + b"0\r\n\r\n"
    gateway.reply_raw(wire, close=False, drip=0.0015)  # about 0.9 s in all
    client = make_client(timeout=Timeout(connect=2.0, read=0.4))
    assert _text(client.stream("gpt-4o", "x")) == TEXT
    assert client.send("gpt-4o", "again").text == "again"


def test_a_reader_pausing_longer_than_the_read_timeout_is_not_a_stall(
    make_client: MakeClient, gateway: FakeGateway
) -> None:
    gateway.reply_text(chunks=["a", "b", "c"])
    client = make_client(timeout=Timeout(connect=2.0, read=0.2))
    stream = client.stream("gpt-4o", "x")
    first = next(stream)
    time.sleep(0.6)  # the rest of the body waits in buffers meanwhile
    rest = "".join(chunk.text or "" for chunk in stream)
    assert first.text is None and rest == "abc"
    assert client.send("gpt-4o", "again").text == "again"


def test_a_stall_after_done_before_the_body_ends_is_bounded_by_the_read_timeout(
    make_client: MakeClient, gateway: FakeGateway
) -> None:
    # [DONE] arrives, the body's last chunk never does: the stream still ends.
    wire = _head("chunked") + b"".join(_chunk(e) for e in EVENTS)
    gateway.reply_raw(wire, stall=5.0)
    client = make_client(timeout=Timeout(connect=2.0, read=0.3))
    started = time.monotonic()
    assert _text(client.stream("gpt-4o", "x")) == TEXT
    assert time.monotonic() - started < 3.0
    assert client.send("gpt-4o", "again").text == "again"
