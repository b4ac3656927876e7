"""Serialising HTTP/1.1 responses (the server's sending half), as plain bytes.

Pure functions with no I/O: the status line and headers for each body framing
(Content-Length, chunked, close-delimited), one HTTP chunk, and the last chunk. The
connection decides which framing applies and writes what these return.
"""

from __future__ import annotations

import http
from collections.abc import Iterable

__all__ = ["LAST_CHUNK", "frame_chunk", "head_bytes", "interim_bytes", "phrase"]

LAST_CHUNK = b"0\r\n\r\n"


def phrase(status: int) -> str:
    """The reason phrase for `status` (``"Unknown"`` for codes Python does not name)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def head_bytes(
    status: int,
    headers: Iterable[tuple[str, str]],
    *,
    content_type: str | None,
    framing: str,
    content_length: int | None = None,
    keep_alive: bool,
) -> bytes:
    """The status line and header block of a response, blank line included.

    `framing` is ``"length"`` (with `content_length`), ``"chunked"`` or ``"close"``; the
    ``Connection`` header follows `keep_alive`. Scripted `headers` come last, so they can
    add to what the gateway sends (they were checked against injection when scripted).
    """
    lines = [f"HTTP/1.1 {status} {phrase(status)}"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    if framing == "length":
        lines.append(f"Content-Length: {content_length}")
    elif framing == "chunked":
        lines.append("Transfer-Encoding: chunked")
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def frame_chunk(data: bytes) -> bytes:
    """`data` as one HTTP/1.1 chunk (size line, data, CRLF)."""
    return b"%x\r\n%b\r\n" % (len(data), data)


def interim_bytes(status: int) -> bytes:
    """A 1xx interim response (RFC 9110 15.2); ``103 Early Hints`` carries a ``Link``."""
    lines = [f"HTTP/1.1 {status} {phrase(status)}"]
    if status == 103:
        lines.append("Link: </style.css>; rel=preload; as=style")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
