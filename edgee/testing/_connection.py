"""The server side of one TCP connection: reading requests, writing framed responses,
pausing while watching for the client to leave, and aborting with a TCP reset.

Replies are built from these primitives; the byte formats live in `_readers` and
`_writers`, so this module only holds connection state (keep-alive, the current body's
framing) and does the I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections.abc import Iterable

from edgee.testing._codings import Compressor, compress_piece, compress_whole, new_compressor
from edgee.testing._headers import HeaderList
from edgee.testing._readers import RequestHead, read_body, read_head
from edgee.testing._writers import LAST_CHUNK, frame_chunk, head_bytes, interim_bytes

__all__ = ["Connection", "PeerGoneError"]

# How often a pause re-checks whether the peer went away (so closed clients are noticed).
_PAUSE_SLICE = 0.05
# After the last chunk before a reset, give the client a moment to read what was sent, so
# "reset after N chunks" reliably means the client saw N chunks first.
_RESET_GRACE = 0.05


class PeerGoneError(Exception):
    """The client closed the connection; stop working on it."""


class Connection:
    """One client connection; the reply being sent decides the framing of each body."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.must_close = False  # close after the current response
        self.http11 = True
        self._framing = "length"  # "chunked" | "close" | "length" for the current response
        self._compressor: Compressor | None = None  # the current body's content coding

    # -- reading ------------------------------------------------------------------------

    async def read_request(self) -> tuple[RequestHead, bytes] | None:
        """Read one request; ``None`` on a clean end of the connection between requests."""
        head = await read_head(self.reader)
        if head is None:
            return None
        self.http11 = head.http11
        self.must_close = head.wants_close
        if head.expects_continue:
            await self.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return head, await read_body(self.reader, head.headers)

    # -- writing ------------------------------------------------------------------------

    async def write(self, data: bytes) -> None:
        if self.writer.transport.is_closing():
            raise PeerGoneError
        self.writer.write(data)
        await self.writer.drain()

    async def send_interim(self, statuses: Iterable[int]) -> None:
        """Send 1xx interim responses (never to an HTTP/1.0 client, RFC 9110 15.2)."""
        if self.http11:
            for status in statuses:
                await self.write(interim_bytes(status))

    async def send_head(
        self,
        status: int,
        headers: HeaderList,
        *,
        content_type: str | None,
        chunked: bool,
        content_length: int | None = None,
        coding: str | None = None,
    ) -> None:
        """Send the status line and headers; the body framing follows from the arguments.

        With `coding` (``gzip``/``deflate``), the body sent by `send_piece` is compressed
        piece by piece; `send_full` compresses a whole body itself.
        """
        if content_length is not None:
            self._framing = "length"
        elif chunked and self.http11:
            self._framing = "chunked"
        else:
            # Close-delimited body: the end of the body is the end of the connection.
            self._framing = "close"
            self.must_close = True
        self._compressor = None
        if coding is not None and coding != "identity":
            if not any(name.lower() == "content-encoding" for name, _ in headers):
                headers = [("Content-Encoding", coding), *headers]
            if content_length is None:
                self._compressor = new_compressor(coding)
        await self.write(
            head_bytes(
                status,
                headers,
                content_type=content_type,
                framing=self._framing,
                content_length=content_length,
                keep_alive=not self.must_close,
            )
        )

    async def send_piece(self, data: bytes) -> None:
        """Send part of the body (compressed and flushed when coded), framed as one HTTP
        chunk when the body is chunked."""
        if self._compressor is not None:
            data = compress_piece(self._compressor, data)
        if self._framing == "chunked":
            data = frame_chunk(data)
        await self.write(data)

    async def end_body(self) -> None:
        if self._compressor is not None:
            tail, self._compressor = self._compressor.flush(), None
            if tail:
                await self.write(frame_chunk(tail) if self._framing == "chunked" else tail)
        if self._framing == "chunked":
            await self.write(LAST_CHUNK)

    async def send_full(
        self,
        status: int,
        headers: HeaderList,
        body: bytes,
        *,
        content_type: str | None = "application/json",
        close_delimited: bool = False,
        coding: str | None = None,
    ) -> None:
        """Send a whole response: Content-Length body, or close-delimited when asked;
        compressed at once with `coding`."""
        if coding is not None and coding != "identity":
            body = compress_whole(body, coding)
        length = None if close_delimited else len(body)
        await self.send_head(
            status,
            headers,
            content_type=content_type,
            chunked=False,
            content_length=length,
            coding=coding,
        )
        self._compressor = None  # the body is already coded as a whole
        await self.write(body)

    # -- time and failures --------------------------------------------------------------

    def peer_gone(self) -> bool:
        return self.writer.transport.is_closing() or self.reader.at_eof()

    async def pause(self, seconds: float) -> None:
        """Sleep, but notice (and raise `PeerGoneError`) when the client goes away."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, _PAUSE_SLICE))
            if self.peer_gone():
                raise PeerGoneError

    async def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0) instead of an orderly FIN."""
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()
        await asyncio.sleep(_RESET_GRACE)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()
        self.must_close = True
