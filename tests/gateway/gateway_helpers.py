"""Helpers for the FakeGateway tests: raw HTTP over sockets and a tiny SSE splitter.

These helpers deliberately avoid every edgee client: the gateway is checked with plain
sockets, `requests` and `aiohttp` only.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from edgee.testing import FakeGateway

KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@dataclass
class RawResponse:
    """A response read off a raw socket, with its exact framing kept."""

    status: int
    reason: str
    headers: dict[str, str]  # lower-case names
    header_names: list[str]  # as sent
    body: bytes  # de-chunked body
    wire_body: bytes  # body bytes exactly as sent (chunk framing included)
    chunks: list[bytes] = field(default_factory=list)  # HTTP chunks, when chunked


def request_bytes(
    method: str,
    path: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    version: str = "HTTP/1.1",
    auth: bool = True,
) -> bytes:
    """Serialise one HTTP request; `body` may be bytes or a JSON-able object."""
    payload = (
        body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    )
    lines = [f"{method} {path} {version}", "Host: 127.0.0.1"]
    if auth:
        lines.append(f"Authorization: Bearer {KEY}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body is not None:
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def read_response(stream: BinaryIO) -> RawResponse:
    """Read one response: Content-Length, chunked, or close-delimited body."""
    status_line = stream.readline().decode("latin-1")
    if not status_line:
        raise EOFError("connection closed before a response")
    _, status, reason = status_line.rstrip("\r\n").split(" ", 2)
    headers: dict[str, str] = {}
    names: list[str] = []
    while True:
        line = stream.readline().decode("latin-1").rstrip("\r\n")
        if not line:
            break
        name, _, value = line.partition(":")
        names.append(name)
        headers[name.lower()] = value.strip()
    if "content-length" in headers:
        body = stream.read(int(headers["content-length"]))
        return RawResponse(int(status), reason, headers, names, body, body)
    if headers.get("transfer-encoding") == "chunked":
        wire = b""
        chunks: list[bytes] = []
        while True:
            size_line = stream.readline()
            wire += size_line
            size = int(size_line.strip(), 16)
            data = stream.read(size + 2)
            wire += data
            assert data.endswith(b"\r\n"), data
            if size == 0:
                break
            chunks.append(data[:-2])
        return RawResponse(int(status), reason, headers, names, b"".join(chunks), wire, chunks)
    body = stream.read()
    return RawResponse(int(status), reason, headers, names, body, body)


def raw_exchange(gateway: FakeGateway, data: bytes, timeout: float = 5.0) -> RawResponse:
    """Send `data` on a fresh connection and read one response."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=timeout) as sock:
        sock.sendall(data)
        with sock.makefile("rb") as stream:
            return read_response(stream)


def sse_events(body: bytes) -> list[bytes]:
    """Split an SSE body into events (blank-line separated), without the separators."""
    assert body.endswith(b"\n\n"), body[-40:]
    return body[:-2].split(b"\n\n")


def sse_data(body: bytes) -> list[Any]:
    """The data payloads of an SSE body: parsed JSON, or the string ``"[DONE]"``."""
    out: list[Any] = []
    for event in sse_events(body):
        assert event.startswith(b"data: "), event
        payload = event[len(b"data: ") :]
        out.append("[DONE]" if payload == b"[DONE]" else json.loads(payload))
    return out


def chat_body(text: str = "hello world", *, stream: bool = False, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}
    if stream:
        body["stream"] = True
    body.update(extra)
    return body
