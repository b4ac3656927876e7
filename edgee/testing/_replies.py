"""Scripted replies: what the gateway sends for one chat-completions request.

Each reply is a frozen dataclass queued by a ``FakeGateway.reply_*`` method; `respond`
writes it on a `Connection` for one `Exchange`. A successful answer (`CompletionReply`)
is streamed or whole as the request asked; the others misbehave on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from edgee.testing._bodies import DONE_EVENT, data_event, dumps
from edgee.testing._connection import Connection
from edgee.testing._exchange import Exchange
from edgee.testing._headers import merge_headers
from edgee.testing._text import count_words, echo_text, fragment, prompt_words, split_words

__all__ = ["BrokenStreamReply", "CompletionReply", "FullReply", "RawReply", "Reply", "ToolCallSpec"]


class Reply:
    """One queued answer to the next chat-completions request."""

    async def respond(self, conn: Connection, ex: Exchange) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class ToolCallSpec:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class CompletionReply(Reply):
    """A successful answer: text and/or tool calls, streamed or whole."""

    pieces: tuple[str, ...] | None = None  # None: echo the request
    tool_calls: tuple[ToolCallSpec, ...] = ()
    fragments: int = 3
    finish_reason: str | None = None  # None: "tool_calls" if there are calls, else "stop"
    usage: Mapping[str, Any] | None = None  # None: computed from word counts
    compression: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None
    delay: float = 0.0
    chunked: bool = True

    def _pieces(self, ex: Exchange) -> list[str]:
        if self.pieces is None:
            return split_words(echo_text(ex.body))
        return list(self.pieces)

    def _usage(self, ex: Exchange, text: str) -> dict[str, Any]:
        if self.usage is not None:
            return dict(self.usage)
        completion = count_words(text) + sum(
            count_words(call.arguments) for call in self.tool_calls
        )
        prompt = prompt_words(ex.body)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _finish_reason(self) -> str:
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"

    async def respond(self, conn: Connection, ex: Exchange) -> None:
        pieces = self._pieces(ex)
        text = "".join(pieces)
        usage = self._usage(ex, text)
        headers = merge_headers(ex.base_headers(), self.headers)
        if not ex.stream:
            await conn.pause(self.delay)
            message: dict[str, Any] = {
                "role": "assistant",
                "content": text if (text or not self.tool_calls) else None,
            }
            if self.tool_calls:
                message["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments},
                    }
                    for call in self.tool_calls
                ]
            completion: dict[str, Any] = {
                "id": ex.completion_id,
                "object": "chat.completion",
                "created": ex.created,
                "model": ex.model,
                "choices": [
                    {"index": 0, "message": message, "finish_reason": self._finish_reason()}
                ],
                "usage": usage,
            }
            if self.compression is not None:
                completion["compression"] = dict(self.compression)
            await conn.send_full(200, headers, dumps(completion), close_delimited=not self.chunked)
            return

        events = [ex.role_chunk()]
        events.extend(ex.delta_chunk({"content": piece}) for piece in pieces)
        for index, call in enumerate(self.tool_calls):
            first = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            events.append(ex.delta_chunk({"tool_calls": [first]}))
            events.extend(
                ex.delta_chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
                for part in fragment(call.arguments, self.fragments)
            )
        trailer: dict[str, Any] = {"usage": usage}
        if self.compression is not None:
            trailer["compression"] = dict(self.compression)
        finish = {"index": 0, "delta": {}, "finish_reason": self._finish_reason()}
        if ex.include_usage:
            # OpenAI's stream_options.include_usage: usage travels on an extra chunk whose
            # "choices" is empty, after the finish chunk.
            events.append(data_event(ex.chunk([finish])))
            events.append(data_event(ex.chunk([], **trailer)))
        else:
            events.append(data_event(ex.chunk([finish], **trailer)))
        events.append(DONE_EVENT)

        await conn.send_head(200, headers, content_type="text/event-stream", chunked=self.chunked)
        for i, event in enumerate(events):
            if i and self.delay > 0:
                await conn.pause(self.delay)
            await conn.send_piece(event)
        await conn.end_body()


@dataclass(frozen=True)
class FullReply(Reply):
    """A fixed body with a status: HTTP errors and `reply_json`."""

    status: int
    body: bytes
    headers: Mapping[str, str] | None = None

    async def respond(self, conn: Connection, ex: Exchange) -> None:
        headers = merge_headers(ex.base_headers(), self.headers)
        await conn.send_full(self.status, headers, self.body)


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
        await conn.send_head(200, ex.base_headers(), content_type="text/event-stream", chunked=True)
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
            await conn.send_full(502, ex.base_headers(), self.payload)
        elif self.action == "malformed":
            await conn.send_full(200, ex.base_headers(), self.payload)
        elif self.action == "reset":
            await conn.reset()
        else:
            conn.must_close = True
            await conn.pause(self.seconds)
