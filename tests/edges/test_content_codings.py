"""Issue 16 item 1: every advertised content coding is decoded, incrementally, on both clients."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from rawserver import (
    LAST_CHUNK,
    Conn,
    RawServer,
    chunk,
    completion_body,
    compressed_pieces,
    gzip_body,
    head,
    once,
    response,
    stream_events,
)

from edgee import APIError
from edgee._content_coding import ACCEPT_ENCODING, ContentDecodingError

WIRE_NAME = {"gzip": "gzip", "deflate": "deflate", "raw-deflate": "deflate"}
SSE = "Content-Type: text/event-stream"


def compressed_stream(
    coding: str, texts: list[str], gate: threading.Event | None, waited: list[bool]
):
    """A chunked event stream, each event compressed and flushed as its own chunk.

    With a ``gate``, the server sends the first event and waits until the test
    has received it before sending the rest: a client that holds decoded
    events back never lets the gate open (``waited`` records it).
    """

    def handler(conn: Conn) -> None:
        if conn.read_request() is None:
            return
        conn.send(
            head(200, SSE, f"Content-Encoding: {WIRE_NAME[coding]}", "Transfer-Encoding: chunked")
        )
        pieces = list(compressed_pieces(stream_events(texts), coding))
        conn.send(chunk(pieces[0]))
        if gate is not None:
            waited.append(gate.wait(3))
        for piece in pieces[1:]:
            if piece:
                conn.send(chunk(piece))
        conn.send(LAST_CHUNK)
        conn.wait_closed(2)

    return handler


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_stream_delivers_each_event_when_it_arrives(
    raw: RawServer, edge_client: Callable[..., Any], coding: str
) -> None:
    gate, waited = threading.Event(), []
    raw.script(compressed_stream(coding, ["Hel", "lo", "!"], gate, waited))
    client = edge_client()
    with client.stream("gpt-4o", "hi") as stream:
        first = next(iter(stream))
        gate.set()
        rest = [c.text for c in stream]
    assert first.text == "Hel" and rest == ["lo", "!"]
    assert waited == [True]  # the first event arrived while the server still held the rest


def test_raw_deflate_stream_is_decoded(raw: RawServer, edge_client: Callable[..., Any]) -> None:
    raw.script(compressed_stream("raw-deflate", ["a", "b"], None, []))
    with edge_client().stream("gpt-4o", "hi") as stream:
        assert [c.text for c in stream] == ["a", "b"]


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_whole_body_is_decoded(
    raw: RawServer, edge_client: Callable[..., Any], coding: str
) -> None:
    import zlib

    body = completion_body("squeezed")
    data = gzip_body(body) if coding == "gzip" else zlib.compress(body)
    raw.script(once(response(200, data, f"Content-Encoding: {coding}")))
    assert edge_client().send("gpt-4o", "hi").text == "squeezed"


def test_only_decodable_codings_are_advertised(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:
    client = edge_client()
    client.send("gpt-4o", "hi")
    with client.stream("gpt-4o", "hi") as stream:
        list(stream)  # a JSON answer to a stream request: one chunk
    advertised = {r.header("accept-encoding") for r in raw.requests}
    assert advertised == {ACCEPT_ENCODING}


def test_undecodable_coding_is_a_clear_error(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:
    raw.script(once(response(200, b"\x8b\x05\x80not-really-brotli", "Content-Encoding: br")))
    with pytest.raises(ContentDecodingError, match="'br'"):
        edge_client().send("gpt-4o", "hi")


def test_corrupt_compressed_stream_is_the_same_error_on_both(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:

    def handler(conn: Conn) -> None:
        conn.read_request()
        good = next(compressed_pieces(stream_events(["ok"]), "gzip"))
        conn.send(head(200, SSE, "Content-Encoding: gzip", "Transfer-Encoding: chunked"))
        conn.send(chunk(good[:12] + b"\xff" * 40) + LAST_CHUNK)
        conn.wait_closed(2)

    raw.script(handler)
    with pytest.raises(APIError) as info, edge_client().stream("gpt-4o", "hi") as stream:
        list(stream)
    assert type(info.value) is ContentDecodingError
    assert "gzip" in str(info.value)
