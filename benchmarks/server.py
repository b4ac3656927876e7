"""The benchmark's loopback HTTP/1.1 server, run in a process of its own.

Built to cost the client as little CPU as possible: every response is built
once (head and chunked body in one ``bytes``) and sent with one
``transport.write``; requests are parsed just enough to route them. It is not
a general HTTP server.

* ``POST /v1/chat/completions`` with ``"model": "bench/<chunks>/<framing>"``:
  with ``"stream": true`` an SSE stream of ``<chunks>`` chunk events (see
  ``_wire.py``'s ``FRAMINGS``; ``paced`` streams are written one HTTP chunk
  every ``PACE_S``, on a loop timer), otherwise one fixed chat completion
  (``Content-Length`` body).
* ``GET /stats``: ``{"connections": n, "requests": n, "cpu": seconds}``, where
  ``connections`` counts the connections that carried at least one chat
  request (the stats connections themselves are not counted) and ``cpu`` is
  this process's CPU time, so the runner can report the server's share.

Run ``python benchmarks/server.py``: it prints ``PORT <n>`` and serves until
its standard input closes (so it never outlives the runner).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _wire import COMPLETION, PACE_S, stream_pieces

_HEAD_END = b"\r\n\r\n"


class _Stats:
    connections = 0
    requests = 0


_responses: dict[tuple[int, str], list[bytes]] = {}


def _stream_response(n: int, framing: str) -> list[bytes]:
    """Head and body of a stream response, in the pieces to write one by one."""
    key = (n, framing)
    response = _responses.get(key)
    if response is None:
        coding = (
            b"Content-Length: %d\r\n" % len(stream_pieces(n, framing)[0])
            if framing == "length"
            else b"Transfer-Encoding: chunked\r\n"
        )
        head = (
            b"HTTP/1.1 200 OK\r\n"
            b"Content-Type: text/event-stream\r\n"
            b"Cache-Control: no-cache\r\n" + coding + b"x-request-id: req-bench\r\n"
            b"x-edgee-provider: bench\r\n"
            b"\r\n"
        )
        pieces = stream_pieces(n, framing)
        response = _responses[key] = [head + pieces[0], *pieces[1:]]
    return response


_COMPLETION_RESPONSE = (
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    f"Content-Length: {len(COMPLETION)}\r\n"
    "x-request-id: req-bench\r\n"
    "x-edgee-provider: bench\r\n"
    "\r\n"
).encode() + COMPLETION


def _simple(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.counted = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(_HEAD_END)
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            lines = head.split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            start = end + 4
            if len(self.buffer) < start + length:
                return
            body = self.buffer[start : start + length]
            self.buffer = self.buffer[start + length :]
            self.respond(method, path, body)

    def respond(self, method: str, path: str, body: bytes) -> None:
        assert self.transport is not None
        if method == "GET" and path == "/stats":
            stats = {
                "connections": _Stats.connections,
                "requests": _Stats.requests,
                "cpu": time.process_time(),
            }
            self.transport.write(_simple("200 OK", json.dumps(stats).encode()))
            return
        if method != "POST" or path != "/v1/chat/completions":
            self.transport.write(_simple("404 Not Found", b'{"error":{"message":"not found"}}'))
            return
        if not self.counted:
            self.counted = True
            _Stats.connections += 1
        _Stats.requests += 1
        request = json.loads(body)
        _, chunks, framing = request["model"].split("/")
        if request.get("stream"):
            pieces = _stream_response(int(chunks), framing)
            self.transport.write(pieces[0])
            if len(pieces) > 1:
                asyncio.get_running_loop().create_task(_paced(self.transport, pieces))
        else:
            self.transport.write(_COMPLETION_RESPONSE)


async def _paced(transport: asyncio.Transport, pieces: list[bytes]) -> None:
    # At least PACE_S between two writes, never a catch-up burst: every event
    # should reach the client on its own, as a model's tokens do.
    for piece in pieces[1:]:
        await asyncio.sleep(PACE_S)
        if transport.is_closing():
            return
        transport.write(piece)


def _exit_when_stdin_closes(loop: asyncio.AbstractEventLoop) -> None:
    sys.stdin.buffer.read()
    os._exit(0)


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Protocol, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    threading.Thread(target=_exit_when_stdin_closes, args=(loop,), daemon=True).start()
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_serve())
