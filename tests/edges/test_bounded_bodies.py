"""Issue 16 item 8: error bodies and JSON-instead-of-stream bodies are read up to a cap.

The pages here are made as they are sent (never held in memory by the test);
the server counts what it managed to send before the client stopped reading.
A client that reads the whole page lets the server send all of it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from rawserver import Conn, RawServer, chunk, head, lazy_bytes

from edgee import APIStatusError, EventTooLargeError, InternalServerError
from edgee._framing import ERROR_BODY_CAP, JSON_INSTEAD_OF_STREAM_CAP

MiB = 1024 * 1024
# "Huge" and "endless" pages stop here so a client that reads them whole still ends;
# the 256 MiB page behaves the same, only slower and costlier on a shared machine.
PAGE_LIMIT = 64 * MiB
HTML = "Content-Type: text/html"


def page(head_bytes: bytes, pieces: Any) -> tuple[Callable[[Conn], None], list[Conn]]:
    served: list[Conn] = []

    def handler(conn: Conn) -> None:
        if conn.read_request() is None:
            return
        served.append(conn)
        conn.send(head_bytes)
        conn.send_iter(pieces)

    return handler, served


def check_error(err: APIStatusError) -> None:
    assert err.status_code == 502
    body = err.body if isinstance(err.body, str) else str(err.body)
    assert 0 < len(body) <= ERROR_BODY_CAP


@pytest.mark.parametrize("framing", ["content-length", "chunked", "close"])
def test_huge_error_page_is_read_up_to_the_cap(
    raw: RawServer, edge_client: Callable[..., Any], framing: str
) -> None:
    if framing == "content-length":
        handler, served = page(
            head(502, HTML, f"Content-Length: {PAGE_LIMIT}"), lazy_bytes(PAGE_LIMIT)
        )
    elif framing == "chunked":
        handler, served = page(
            head(502, HTML, "Transfer-Encoding: chunked"),
            (chunk(p) for p in lazy_bytes(PAGE_LIMIT)),
        )
    else:
        handler, served = page(head(502, HTML, "Connection: close"), lazy_bytes(PAGE_LIMIT))
    raw.script(handler)
    with pytest.raises(InternalServerError) as info:
        edge_client().send("gpt-4o", "hi")
    check_error(info.value)
    # Socket buffers hold a few MiB; reading it whole would let all 64 MiB through.
    assert served[0].sent < 16 * MiB


def test_dripping_error_page_is_cut_at_the_time_budget(
    raw: RawServer, edge_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("edgee._framing.ERROR_BODY_SECONDS", 0.5)
    finished = threading.Event()

    def drip() -> Any:
        for _ in range(60):  # 60 bytes, one every 0.05 s: 3 s in all
            yield b"x"
            finished.wait(0.05)
        finished.set()

    handler, _ = page(head(502, HTML, "Connection: close"), drip())
    raw.script(handler)
    with pytest.raises(InternalServerError) as info:
        edge_client().send("gpt-4o", "hi")
    assert not finished.is_set()  # the client gave up on the page before its end
    check_error(info.value)


@pytest.mark.parametrize("framing", ["content-length", "close"])
def test_json_answer_to_a_stream_is_capped_like_an_event(
    raw: RawServer, edge_client: Callable[..., Any], framing: str
) -> None:
    total = JSON_INSTEAD_OF_STREAM_CAP + 32 * MiB
    prefix = b'{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"content":"'
    extra = (
        f"Content-Length: {len(prefix) + total}"
        if framing == "content-length"
        else ("Connection: close")
    )

    def body() -> Any:
        yield prefix
        yield from lazy_bytes(total)

    handler, served = page(head(200, "Content-Type: application/json", extra), body())
    raw.script(handler)
    with pytest.raises(EventTooLargeError), edge_client().stream("gpt-4o", "hi") as stream:
        list(stream)
    # Loopback socket buffers (send and receive, autotuned) hold up to ~10 MiB more.
    assert served[0].sent < JSON_INSTEAD_OF_STREAM_CAP + 12 * MiB


def test_silent_error_page_keeps_what_came_within_the_budget(
    raw: RawServer, edge_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page starts, then the server goes quiet for longer than the time budget
    # (but not the read timeout): the budget ends the wait, and what came is the body.
    monkeypatch.setattr("edgee._framing.ERROR_BODY_SECONDS", 0.3)
    quiet = threading.Event()

    def silent() -> Any:
        yield b"<html><title>502 Bad Gateway</title>partial"
        quiet.wait(5)

    handler, _ = page(head(502, HTML, "Connection: close"), silent())
    raw.script(handler)
    try:
        with pytest.raises(InternalServerError) as info:
            edge_client().send("gpt-4o", "hi")
    finally:
        quiet.set()
    assert "partial" in str(info.value.body)
    assert "502 Bad Gateway" in str(info.value)
