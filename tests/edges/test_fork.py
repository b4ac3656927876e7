"""Issue 16 item 3: fork safety.

A sync client used before ``os.fork()`` must never reuse, in the child, a
connection the parent opened: the child's calls open connections of their own
and work, and parent and child never receive each other's answers. The async
client keeps refusing use from another process's event loop with a clear
``ClientStateError``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest
from rawserver import API_KEY, EDGE_TIMEOUT, Conn, RawServer, answer_completion

from edgee import APIConnectionError, AsyncEdgee, ClientStateError, Edgee

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")

CALLS = 15


def in_child(work: Callable[[], Any]) -> tuple[int, Callable[[], Any]]:
    """Fork; the child runs ``work`` and reports its result (or error) through a pipe."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 0
        try:
            os.close(read_end)
            try:
                result: Any = {"ok": work()}
            except BaseException as exc:  # reported to the parent
                result = {"error": type(exc).__name__, "message": str(exc)}
            os.write(write_end, json.dumps(result).encode())
        except BaseException:
            status = 1
        finally:
            sys.stdout.flush()
            os._exit(status)
    os.close(write_end)

    def collect() -> Any:
        chunks = []
        while data := os.read(read_end, 65536):
            chunks.append(data)
        os.close(read_end)
        os.waitpid(pid, 0)
        return json.loads(b"".join(chunks) or b"null")

    return pid, collect


def sync_client(raw: RawServer) -> Edgee:
    return Edgee(api_key=API_KEY, base_url=raw.url, max_retries=0, timeout=EDGE_TIMEOUT)


def test_sync_child_opens_its_own_connections(raw: RawServer) -> None:
    client = sync_client(raw)
    try:
        assert client.send("gpt-4o", "before").text == "echo:before"
        pooled = raw.requests[-1].conn
        _, collect = in_child(
            lambda: [client.send("gpt-4o", f"child-{i}").text for i in range(CALLS)]
        )
        child = collect()
        # The parent's pooled connection still works for the parent afterwards.
        assert client.send("gpt-4o", "after").text == "echo:after"
    finally:
        client.close()
    assert child == {"ok": [f"echo:child-{i}" for i in range(CALLS)]}
    child_conns = {r.conn for r in raw.requests if r.text.startswith("child")}
    assert pooled not in child_conns  # the child never wrote on the parent's socket


def hold_then_answer(conn: Conn) -> None:
    """The pooled connection: answer "before", then gather what arrives within 1 s and
    answer it all in one write, so that processes sharing the socket must cross answers."""
    request = conn.read_request()
    if request is None:
        return
    conn.send(answer_completion(request))
    while True:
        held = [r for r in [conn.read_request()] if r is not None]
        if not held:
            return
        if (second := conn.read_request(timeout=1.0)) is not None:
            held.append(second)
        if not conn.send(b"".join(answer_completion(r) for r in held)):
            return


def test_parent_and_child_at_once_never_get_each_others_answers(raw: RawServer) -> None:
    raw.script(hold_then_answer)
    client = sync_client(raw)
    try:
        client.send("gpt-4o", "before")
        _, collect = in_child(lambda: client.send("gpt-4o", "child").text)
        try:
            parent: Any = client.send("gpt-4o", "parent").text
        except APIConnectionError as exc:  # the child took the parent's answer
            parent = repr(exc)
        child = collect()
    finally:
        client.close()
    assert (parent, child) == ("echo:parent", {"ok": "echo:child"})


def test_async_client_in_a_child_is_a_clear_client_state_error(
    raw: RawServer, loop: asyncio.AbstractEventLoop
) -> None:
    client = AsyncEdgee(api_key=API_KEY, base_url=raw.url, max_retries=0, timeout=EDGE_TIMEOUT)
    answer = loop.run_until_complete(client.send("gpt-4o", "before"))
    assert answer.text == "echo:before"

    def child_work() -> Any:
        return asyncio.run(client.send("gpt-4o", "child")).text

    _, collect = in_child(child_work)
    result = collect()
    loop.run_until_complete(client.close())
    assert result["error"] == ClientStateError.__name__
    assert "event loop" in result["message"]
    assert not [r for r in raw.requests if r.text == "child"]
