"""Issue 16 item 7: ambiguous framing is refused the same way on both clients, never reused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rawserver import (
    LAST_CHUNK,
    Conn,
    RawServer,
    chunk,
    completion_body,
    head,
    response,
)

from edgee._framing import FramingError

BODY = completion_body("framed")
JSON = "Content-Type: application/json"

AMBIGUOUS = {
    "content-length-and-chunked": head(
        200, JSON, f"Content-Length: {len(BODY)}", "Transfer-Encoding: chunked"
    )
    + chunk(BODY)
    + LAST_CHUNK,
    "conflicting-content-lengths": head(
        200, JSON, f"Content-Length: {len(BODY)}", f"Content-Length: {len(BODY) + 5}"
    )
    + BODY
    + b"xxxxx",
    "negative-content-length": head(200, JSON, "Content-Length: -1") + BODY,
    "content-length-list": head(200, JSON, f"Content-Length: {len(BODY)}, 7") + BODY,
}


def then_serve(first: bytes) -> Callable[[Conn], None]:
    """Answer the first request with ``first``, later ones (if the client dares) normally."""

    def handler(conn: Conn) -> None:
        if conn.read_request() is None:
            return
        conn.send(first)
        while conn.read_request() is not None:
            conn.send(response(200, completion_body("reused")))

    return handler


@pytest.mark.parametrize("name", list(AMBIGUOUS))
def test_ambiguous_framing_is_refused_and_not_reused(
    raw: RawServer, edge_client: Callable[..., Any], name: str
) -> None:
    raw.script(then_serve(AMBIGUOUS[name]))
    client = edge_client()
    with pytest.raises(FramingError, match="ambiguous framing"):
        client.send("gpt-4o", "hi")
    assert client.send("gpt-4o", "again").text == "echo:again"
    assert raw.requests[-1].conn != raw.requests[0].conn  # a new connection


@pytest.mark.parametrize("mode", ["send", "stream"])
def test_ambiguous_stream_framing_is_refused(
    raw: RawServer, edge_client: Callable[..., Any], mode: str
) -> None:
    events = b"data: [DONE]\n\n"
    raw.script(
        then_serve(
            head(
                200,
                "Content-Type: text/event-stream",
                "Content-Length: 3",
                "Transfer-Encoding: chunked",
            )
            + chunk(events)
            + LAST_CHUNK
        )
    )
    with pytest.raises(FramingError):
        if mode == "send":
            edge_client().send("gpt-4o", "hi", stream=True)
        else:
            edge_client().stream("gpt-4o", "hi")


def test_bytes_beyond_content_length_never_become_the_next_answer(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:
    smuggled = response(200, completion_body("smuggled"))
    raw.script(then_serve(response(200, BODY) + smuggled))
    client = edge_client()
    assert client.send("gpt-4o", "hi").text == "framed"
    assert client.send("gpt-4o", "again").text in {"echo:again", "reused"}
