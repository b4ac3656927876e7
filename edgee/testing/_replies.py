"""Scripted replies: what the gateway sends for one chat-completions request.

Each reply is a frozen dataclass queued by a ``FakeGateway.reply_*`` method; `respond`
writes it on a `Connection` for one `Exchange`. The successful answer lives in
`_completion`; here are the fixed bodies (errors, `reply_json`) and the replies that
misbehave on purpose (raw bytes, broken streams).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from edgee.testing._bodies import DONE_EVENT
from edgee.testing._connection import Connection
from edgee.testing._exchange import Exchange
from edgee.testing._headers import HeaderList, merge_headers

__all__ = ["BrokenStreamReply", "Delivery", "FullReply", "RawReply", "Reply"]


class Reply:
    """One queued answer to the next chat-completions request."""

    async def respond(self, conn: Connection, ex: Exchange) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Delivery:
    """How a scripted reply goes on the wire, whatever it says."""

    headers: Mapping[str, str] | None = None  # added to (or replacing) the gateway's
    interim: tuple[int, ...] = ()  # 1xx responses sent before the final one
    coding: str | None = None  # content coding; None: the gateway's default
    chunked: bool = True  # False: a close-delimited body
    delay: float = 0.0  # between stream chunks, or before a whole body


@dataclass(frozen=True)
class FullReply(Reply):
    """A fixed body with a status: HTTP errors and `reply_json`."""

    status: int
    body: bytes
    delivery: Delivery = field(default_factory=Delivery)

    async def respond(self, conn: Connection, ex: Exchange) -> None:
        await self.send(conn, ex.base_headers(), ex.coding(self.delivery.coding))

    async def send(self, conn: Connection, base: HeaderList, coding: str | None) -> None:
        """Send this reply after `base` headers (any endpoint can answer with it)."""
        await conn.send_interim(self.delivery.interim)
        headers = merge_headers(base, self.delivery.headers)
        await conn.send_full(self.status, headers, self.body, coding=coding)


@dataclass(frozen=True)
class RawReply(Reply):
    """Bytes written verbatim as the whole response (pieces of an iterable in turn)."""

    data: bytes | Iterable[bytes]
    close: bool = True
    drip: float = 0.0
    reset: bool = False
    stall: float = 0.0

    async def respond(self, conn: Connection, ex: Exchange) -> None:
        if self.close:
            conn.must_close = True
        pieces = [self.data] if isinstance(self.data, bytes) else self.data
        in_head = True
        for piece in pieces:
            if self.drip and in_head:
                # The head goes at once; the body one byte at a time.
                end = piece.find(b"\r\n\r\n")
                if end < 0:
                    await conn.write(piece)
                    continue
                await conn.write(piece[: end + 4])
                piece, in_head = piece[end + 4 :], False
            if not self.drip:
                await conn.write(piece)
                continue
            for i in range(len(piece)):
                await conn.pause(self.drip)
                await conn.write(piece[i : i + 1])
        if self.stall:
            await conn.pause(self.stall)
        if self.reset:
            await conn.reset()


@dataclass(frozen=True)
class BrokenStreamReply(Reply):
    """A stream that goes wrong after `after` content chunks.

    `action` is "error" (an error event, then a clean end), "malformed" (an undecodable
    data payload, then ``[DONE]``), "reset" (TCP RST) or "stall" (silence, then close).
    The role chunk is sent with the first content chunk, so ``after=0`` means "right
    after the headers".
    """

    action: str
    after: int = 1
    payload: bytes = b""
    as_event: bool = False
    seconds: float = 0.0

    async def respond(self, conn: Connection, ex: Exchange) -> None:
        if not ex.stream:
            await self._respond_whole(conn, ex)
            return
        if self.action == "reset" and self.after < 0:
            await conn.reset()
            return
        if self.action == "stall" and self.after < 0:
            conn.must_close = True
            await conn.pause(self.seconds)
            return
        await conn.send_head(
            200,
            ex.base_headers(),
            content_type="text/event-stream",
            chunked=True,
            coding=ex.coding(None),
        )
        if self.after > 0:
            await conn.send_piece(ex.role_chunk())
            for piece in ex.prefix_pieces(self.after):
                await conn.send_piece(ex.delta_chunk({"content": piece}))
        if self.action == "error":
            prefix = b"event: error\n" if self.as_event else b""
            await conn.send_piece(prefix + b"data: " + self.payload + b"\n\n")
            await conn.end_body()
        elif self.action == "malformed":
            await conn.send_piece(b"data: " + self.payload + b"\n\n")
            await conn.send_piece(DONE_EVENT)
            await conn.end_body()
        elif self.action == "reset":
            await conn.reset()
        else:  # stall: the body is never finished
            conn.must_close = True
            await conn.pause(self.seconds)

    async def _respond_whole(self, conn: Connection, ex: Exchange) -> None:
        # What each failure means for a request that did not ask for a stream.
        if self.action == "error":
            await conn.send_full(502, ex.base_headers(), self.payload, coding=ex.coding(None))
        elif self.action == "malformed":
            await conn.send_full(200, ex.base_headers(), self.payload, coding=ex.coding(None))
        elif self.action == "reset":
            await conn.reset()
        else:
            conn.must_close = True
            await conn.pause(self.seconds)
