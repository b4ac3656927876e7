"""Reading HTTP/1.1 requests off an `asyncio.StreamReader` (the server's receiving half).

Two steps, so the connection can answer ``Expect: 100-continue`` in between: `read_head`
parses the request line and headers, `read_body` reads the body the headers announce
(Content-Length or chunked). Anything unacceptable raises `BadRequestError` with the status
to answer; the connection then closes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from edgee.testing._headers import Headers

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_HEAD_BYTES",
    "BadRequestError",
    "RequestHead",
    "read_body",
    "read_head",
]

_CRLF = b"\r\n"
# Headers bigger than this are refused with 431; also the StreamReader buffer limit.
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024


class BadRequestError(Exception):
    """The request bytes are not acceptable HTTP; answer with `status` and close."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class RequestHead:
    """The request line and headers of one request."""

    method: str
    target: str
    version: str
    headers: Headers

    @property
    def http11(self) -> bool:
        return self.version == "HTTP/1.1"

    @property
    def wants_close(self) -> bool:
        """Whether the connection ends after this exchange (RFC 9112 9.3 persistence)."""
        connection = self.headers.get("connection", "").lower()
        return "close" in connection or (not self.http11 and "keep-alive" not in connection)

    @property
    def expects_continue(self) -> bool:
        return self.headers.get("expect", "").lower() == "100-continue"


async def read_head(reader: asyncio.StreamReader) -> RequestHead | None:
    """Read one request head; ``None`` on a clean end of the connection between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        raise BadRequestError(431, "Request header fields too large") from None
    # RFC 9112 2.2: ignore empty lines before the request line.
    lines = head.lstrip(b"\r\n").decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequestError(400, "Malformed request line")
    method, target, version = parts
    items: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequestError(400, "Malformed header line")
        items.append((name, value.strip(" \t")))
    return RequestHead(method, target, version, Headers(items))


async def read_body(reader: asyncio.StreamReader, headers: Headers) -> bytes:
    """Read the body `headers` announce: chunked, Content-Length, or none."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader)
    length = headers.get("content-length")
    if length is None:
        return b""
    try:
        size = int(length)
    except ValueError:
        raise BadRequestError(400, "Malformed Content-Length") from None
    if size < 0:
        raise BadRequestError(400, "Malformed Content-Length")
    if size > MAX_BODY_BYTES:
        raise BadRequestError(413, "Request body too large")
    return await reader.readexactly(size) if size else b""


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(_CRLF)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadRequestError(400, "Malformed chunk size") from None
        if size == 0:
            # Trailers, up to the empty line.
            while (await reader.readuntil(_CRLF)) != _CRLF:
                pass
            return b"".join(parts)
        total += size
        if total > MAX_BODY_BYTES:
            raise BadRequestError(413, "Request body too large")
        data = await reader.readexactly(size + 2)
        parts.append(data[:-2])
