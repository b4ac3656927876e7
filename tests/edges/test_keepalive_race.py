"""Issue 16 item 9: a pooled connection that dies as it is reused costs nothing.

A request that fails on a reused connection before any byte of the response
arrived is sent again at once on a new connection: not counted as a retry,
no backoff sleep (so it works with ``max_retries=0`` and logs no "retrying").
On a fresh connection the normal retry policy applies.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from rawserver import Conn, RawServer, answer_completion, stream_events

from edgee import APIConnectionError


def serve_then(after: str, done: threading.Event | None = None) -> Callable[[Conn], None]:
    """Answer one request (keep-alive), then fail the connection's reuse as ``after`` says."""

    def handler(conn: Conn) -> None:
        request = conn.read_request()
        if request is None:
            return
        conn.send(answer_completion(request))
        if after == "idle-close":  # the server's keep-alive timeout fires before reuse
            conn.close()
            if done is not None:
                done.set()
            return
        if conn.read_request() is None:
            return
        if after == "read-then-close":
            conn.close()
        elif after == "read-then-reset":
            conn.reset()

    return handler


@pytest.mark.parametrize("after", ["read-then-close", "read-then-reset"])
def test_reused_connection_closed_as_it_is_reused(
    raw: RawServer,
    edge_client: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    after: str,
) -> None:
    raw.script(serve_then(after))
    client = edge_client(max_retries=0)
    assert client.send("gpt-4o", "one").text == "echo:one"
    with caplog.at_level(logging.INFO, logger="edgee"):
        assert client.send("gpt-4o", "two").text == "echo:two"
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]
    assert [r.text for r in raw.requests] == ["one", "two", "two"]
    assert raw.requests[2].conn != raw.requests[0].conn


def test_stream_on_a_reused_connection_closed_as_it_is_reused(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:
    raw.script(serve_then("read-then-close"))

    def sse(conn: Conn) -> None:
        if conn.read_request() is None:
            return
        body = b"".join(stream_events(["s"]))
        conn.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
        )
        conn.wait_closed(3)

    raw.script(sse)
    client = edge_client(max_retries=0)
    client.send("gpt-4o", "one")
    with client.stream("gpt-4o", "two") as stream:
        assert [c.text for c in stream] == ["s"]


def test_idle_connection_closed_before_reuse(
    raw: RawServer,
    edge_client: Callable[..., Any],
    kind: str,
    loop: asyncio.AbstractEventLoop,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Whether aiohttp has read the FIN before the next request is picked is a race
    # (when it has not, it is the read-then-close case above); let its loop see it.
    closed = threading.Event()
    raw.script(serve_then("idle-close", closed))
    client = edge_client(max_retries=0)
    assert client.send("gpt-4o", "one").text == "echo:one"
    assert closed.wait(5)
    if kind == "async":
        loop.run_until_complete(asyncio.sleep(0.1))
    with caplog.at_level(logging.INFO, logger="edgee"):
        assert client.send("gpt-4o", "two").text == "echo:two"
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]


def test_fresh_connection_failure_follows_the_retry_policy(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:
    def read_then_close(conn: Conn) -> None:
        conn.read_request()

    raw.script(read_then_close, read_then_close)
    with pytest.raises(APIConnectionError):
        edge_client(max_retries=0).send("gpt-4o", "one")
    assert len(raw.requests) == 1  # no silent replay on a connection that was never reused
