"""Issue 16 item 10: Retry-After syntax, sync pool size, Timeout(total=, pool=).

Also the pool-exhaustion scenario: more concurrent callers than pooled
connections must neither churn connections nor wait for ever.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from rawserver import (
    API_KEY,
    Conn,
    RawServer,
    answer_completion,
    head,
    once,
    response,
    stream_events,
)

from edgee import APITimeoutError, AsyncEdgee, Edgee, RateLimitError, Timeout

RATE_LIMITED = b'{"error":{"message":"slow down","type":"rate_limit_error"}}'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10", 10.0),
        ("0", 0.0),
        ("1_0", None),
        ("+5", None),
        ("1e1", None),
        ("nan", None),
        ("5.5", None),
    ],
)
def test_retry_after_accepts_only_ascii_digits_or_a_date(
    raw: RawServer, edge_client: Callable[..., Any], value: str, expected: float | None
) -> None:
    raw.script(once(response(429, RATE_LIMITED, f"Retry-After: {value}")))
    with pytest.raises(RateLimitError) as info:
        edge_client().send("gpt-4o", "hi")
    assert info.value.retry_after == expected


def test_retry_after_http_date(raw: RawServer, edge_client: Callable[..., Any]) -> None:
    raw.script(once(response(429, RATE_LIMITED, "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT")))
    with pytest.raises(RateLimitError) as info:
        edge_client().send("gpt-4o", "hi")
    assert info.value.retry_after == 0.0  # a date in the past: retry now


def holding(release: threading.Event, active: list[int], peak: list[int]) -> Callable[[Conn], None]:
    """Keep-alive answers, each held until ``release`` (or 0.2 s): callers pile up."""
    lock = threading.Lock()

    def handler(conn: Conn) -> None:
        while (request := conn.read_request()) is not None:
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            release.wait(0.2)
            with lock:
                active[0] -= 1
            if not conn.send(answer_completion(request)):
                return

    return handler


def test_pool_exhaustion_neither_churns_nor_exceeds_the_limit(
    raw: RawServer,
    kind: str,
    loop: asyncio.AbstractEventLoop,
    caplog: pytest.LogCaptureFixture,
) -> None:
    limit, callers, calls = 4, 8, 3
    release, active, peak = threading.Event(), [0], [0]
    raw.default = holding(release, active, peak)
    texts = [f"{c}-{i}" for c in range(callers) for i in range(calls)]
    with caplog.at_level(logging.WARNING):
        if kind == "sync":
            client = Edgee(api_key=API_KEY, base_url=raw.url, max_retries=0, connection_limit=limit)
            answers: dict[str, str] = {}

            def run(c: int) -> None:
                for i in range(calls):
                    answers[f"{c}-{i}"] = client.send("gpt-4o", f"{c}-{i}").text

            threads = [threading.Thread(target=run, args=(c,)) for c in range(callers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            client.close()
            got = [answers.get(t) for t in texts]
        else:

            async def run_all() -> list[str]:
                async with AsyncEdgee(
                    api_key=API_KEY, base_url=raw.url, max_retries=0, connection_limit=limit
                ) as client:
                    results = await asyncio.gather(*(client.send("gpt-4o", t) for t in texts))
                    return [r.text for r in results]

            got = loop.run_until_complete(run_all())
    assert got == [f"echo:{t}" for t in texts]
    assert raw.accepted <= limit  # connections were reused, never churned
    assert peak[0] <= limit
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]


def test_wait_for_a_pooled_connection_is_bounded(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:
    released = threading.Event()

    def open_stream(conn: Conn) -> None:
        if conn.read_request() is None:
            return
        events = stream_events(["held"])
        conn.send(head(200, "Content-Type: text/event-stream", "Connection: close") + events[0])
        released.wait(10)

    raw.script(open_stream)
    client = edge_client(connection_limit=1, timeout=Timeout(connect=2, read=5, pool=0.3))
    stream = client.stream("gpt-4o", "hold")
    assert next(iter(stream)).text == "held"  # the only connection is busy
    try:
        with pytest.raises(APITimeoutError, match="pool"):
            client.send("gpt-4o", "second")
    finally:
        released.set()
        stream.close()


def test_total_timeout_bounds_a_dripping_response(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:
    finished = threading.Event()

    def drip(conn: Conn) -> None:
        if conn.read_request() is None:
            return
        body = b"".join(stream_events(["slow"]))
        conn.send(head(200, "Content-Type: application/json", "Connection: close"))
        for byte in body:
            if not conn.send(bytes([byte])) or finished.wait(0.1):
                return
        finished.set()

    raw.script(drip)
    client = edge_client(timeout=Timeout(connect=2, read=2, total=1.0))
    with pytest.raises(APITimeoutError, match="total"):
        client.send("gpt-4o", "hi")
    assert not finished.is_set()
    finished.set()


def test_total_timeout_bounds_a_stream(raw: RawServer, edge_client: Callable[..., Any]) -> None:
    stop = threading.Event()

    def lively(conn: Conn) -> None:
        if conn.read_request() is None:
            return
        conn.send(head(200, "Content-Type: text/event-stream", "Connection: close"))
        for _ in range(100):  # an event every 0.05 s: lively, never idle
            if not conn.send(stream_events(["tick"])[0]) or stop.wait(0.05):
                return

    raw.script(lively)
    client = edge_client(timeout=Timeout(connect=2, read=2, total=0.5))
    got = []
    with pytest.raises(APITimeoutError), client.stream("gpt-4o", "hi") as stream:
        got.extend(c.text for c in stream)
    stop.set()
    assert 0 < len(got) < 100
