"""The successful chat answer: text, tool calls, structured JSON or a refusal, streamed
or whole as the request asked.

Streamed, an answer is a role chunk, the content (or refusal) pieces, each tool call as a
header delta then argument fragments, a finish chunk, the usage (on the finish chunk, or
on a chunk of its own with empty ``choices`` when ``stream_options.include_usage`` was
set), then ``data: [DONE]``. Whole, it is one ``chat.completion`` that always has
``usage``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from edgee.testing._bodies import DONE_EVENT, data_event, dumps, error_body
from edgee.testing._connection import Connection
from edgee.testing._exchange import Exchange, json_schema_of
from edgee.testing._headers import merge_headers
from edgee.testing._replies import Delivery, Reply
from edgee.testing._text import count_words, echo_text, fragment, prompt_words, split_words

__all__ = ["CompletionReply", "ToolCallSpec"]


@dataclass(frozen=True)
class ToolCallSpec:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class CompletionReply(Reply):
    """A successful answer: text, tool calls or a refusal, streamed or whole."""

    pieces: tuple[str, ...] | None = None  # None: echo the request
    tool_calls: tuple[ToolCallSpec, ...] = ()
    fragments: int = 3
    finish_reason: str | None = None  # None: "tool_calls" if there are calls, else "stop"
    usage: Mapping[str, Any] | None = None  # None: computed from word counts
    compression: Mapping[str, Any] | None = None
    refusal: tuple[str, ...] | None = None  # pieces of a refusal (then no content)
    require_schema: bool = False  # 400 unless the request carried a json_schema format
    delivery: Delivery = field(default_factory=Delivery)

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
        if self.refusal is not None:
            completion += count_words("".join(self.refusal))
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

    def _message(self, text: str) -> dict[str, Any]:
        if self.refusal is not None:
            return {"role": "assistant", "content": None, "refusal": "".join(self.refusal)}
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
        return message

    def _events(self, ex: Exchange, pieces: list[str], usage: dict[str, Any]) -> list[bytes]:
        if self.refusal is not None:
            events = [ex.delta_chunk({"role": "assistant", "content": None})]
            events.extend(ex.delta_chunk({"refusal": piece}) for piece in self.refusal)
        else:
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
        return events

    async def respond(self, conn: Connection, ex: Exchange) -> None:
        d = self.delivery
        coding = ex.coding(d.coding)
        headers = merge_headers(ex.base_headers(), d.headers)
        if self.require_schema and json_schema_of(ex.body) is None:
            message = (
                "this scripted answer requires response_format "
                '{"type": "json_schema", "json_schema": {"name", "schema"}}'
            )
            envelope = error_body(
                message, "invalid_request_error", "invalid_value", "response_format"
            )
            # The gateway's own refusal: none of the scripted answer's headers.
            await conn.send_full(400, ex.base_headers(), dumps(envelope), coding=coding)
            return
        await conn.send_interim(d.interim)
        pieces = self._pieces(ex)
        text = "".join(pieces)
        usage = self._usage(ex, text)
        if not ex.stream:
            await conn.pause(d.delay)
            completion: dict[str, Any] = {
                "id": ex.completion_id,
                "object": "chat.completion",
                "created": ex.created,
                "model": ex.model,
                "choices": [
                    {
                        "index": 0,
                        "message": self._message(text),
                        "finish_reason": self._finish_reason(),
                    }
                ],
                "usage": usage,
            }
            if self.compression is not None:
                completion["compression"] = dict(self.compression)
            await conn.send_full(
                200, headers, dumps(completion), close_delimited=not d.chunked, coding=coding
            )
            return
        events = self._events(ex, pieces, usage)
        await conn.send_head(
            200, headers, content_type="text/event-stream", chunked=d.chunked, coding=coding
        )
        for i, event in enumerate(events):
            if i and d.delay > 0:
                await conn.pause(d.delay)
            await conn.send_piece(event)
        await conn.end_body()
