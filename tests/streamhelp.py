"""Stream test helpers: chunk payloads, and the pull parser (`ChunkParser`) taken as the
transports take it.

Shared by ``tests/core/`` and ``tests/hardening/``; importable as ``streamhelp`` because
pytest puts ``tests/`` (the home of the root ``conftest.py``) on ``sys.path``.
"""

from __future__ import annotations

from typing import Any

from edgee._streaming import DONE as DONE_EVENT
from edgee._streaming import NEED_DATA, ChunkParser
from edgee.errors import StreamError
from edgee.models import StreamChunk


def chunk(
    content: str | None = None,
    *,
    index: int = 0,
    role: str | None = None,
    finish: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    refusal: str | None = None,
    **top: Any,
) -> dict[str, Any]:
    """A chat.completion.chunk payload with one choice."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    if refusal is not None:
        delta["refusal"] = refusal
    payload: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
    }
    payload.update(top)
    return payload


def feed(parser: ChunkParser, data: bytes) -> list[StreamChunk]:
    """Give ``data`` (if any) and take every chunk it completed.

    An error met after some chunks is left for the next call (it is sticky),
    as a transport delivers those chunks before raising it.
    """
    if data:
        parser.receive_data(data)
    chunks: list[StreamChunk] = []
    while True:
        try:
            event = parser.next_event()
        except StreamError:
            if chunks:
                return chunks
            raise
        if event is NEED_DATA or event is DONE_EVENT:
            return chunks
        assert isinstance(event, StreamChunk)
        chunks.append(event)


def finish(parser: ChunkParser) -> list[StreamChunk]:
    """End of input, then the chunks still to take."""
    parser.receive_data(b"")
    return feed(parser, b"")
