"""From server-sent events to chunks, and from chunks to one response.

Sans-IO, shared by both transports:

* :class:`ChunkParser` is the per-stream state machine. Bytes go in
  (through :class:`~edgee.sse.SSEDecoder`), :class:`StreamChunk` objects come
  out; ``[DONE]`` ends it; an error event, a payload that is not a chunk, or an
  end of input that comes too early raise the matching :class:`StreamError`.
* :class:`StreamAccumulator` folds chunks into the :class:`SendResponse` that
  ``final_response()`` returns.

This is the per-chunk hot path: one JSON parse and one structure call per
event, nothing else that allocates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

from edgee._convert import converter
from edgee.errors import (
    ChunkDecodeError,
    IncompleteStreamError,
    StreamAPIError,
    StreamError,
    stream_error_from_payload,
)
from edgee.models import (
    Choice,
    FunctionCall,
    ResponseMessage,
    Role,
    SendResponse,
    StreamChunk,
    ToolCall,
)
from edgee.sse import ServerSentEvent, SSEDecoder

__all__ = ["DONE", "ChunkParser", "StreamAccumulator"]

DONE = "[DONE]"

_structure_chunk = converter.get_structure_hook(StreamChunk)
_loads = json.loads
# The C scanner behind json.loads, called directly: json.loads adds two regex
# matches and two Python frames, about 40% of its time on a chunk-sized text.
# Whatever the scanner does not parse whole (leading or trailing whitespace,
# garbage) goes through json.loads, which gives the same value or error.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


class ChunkParser:
    """Turns the bytes of one chat-completions stream into :class:`StreamChunk` objects.

    ``feed(bytes)`` returns the chunks the bytes completed; after ``[DONE]``
    :attr:`done` is true and later input is ignored. ``close()`` is called at
    end of input and raises :class:`IncompleteStreamError` when the stream was
    cut before ``[DONE]`` while some choice had not finished.

    An error met after some chunks of the same piece is held back: those
    chunks are returned first and the error is raised by the next ``feed()``
    or ``close()``, so no chunk is lost and every split of the bytes gives the
    same chunks.
    """

    __slots__ = (
        "_decoder",
        "_finished",
        "_pending_error",
        "_seen",
        "chunks_received",
        "done",
        "request_id",
    )

    def __init__(
        self, *, request_id: str | None = None, max_event_bytes: int | None = None
    ) -> None:
        self._decoder = (
            SSEDecoder() if max_event_bytes is None else SSEDecoder(max_event_bytes=max_event_bytes)
        )
        self.request_id = request_id
        self.done = False
        self.chunks_received = 0
        self._seen: set[int] = set()
        self._finished: set[int] = set()
        self._pending_error: StreamError | None = None

    def _raise_pending(self) -> None:
        error = self._pending_error
        if error is not None:
            self._pending_error = None
            raise error

    def raise_pending(self) -> None:
        """Raise the error held back by the last :meth:`feed`, if any.

        A transport calls it after delivering that feed's chunks, so the error
        surfaces at once instead of waiting for more bytes. That includes a size
        error the SSE decoder held back after the events it returned.
        """
        self._raise_pending()
        if self._decoder._failed and not self.done:
            try:
                self._decoder.feed_messages(b"")  # a failed decoder raises its error again
            except StreamError as exc:
                exc.request_id = self.request_id
                raise

    def connection_lost(self, exc: BaseException) -> list[StreamChunk]:
        """End of input because the connection failed: :meth:`close`, naming the cause.

        Returns the last chunks when the stream was complete anyway (every
        choice finished); otherwise raises :class:`IncompleteStreamError`
        chained to ``exc``.
        """
        try:
            return self.close()
        except IncompleteStreamError as incomplete:
            incomplete.message = f"{incomplete.message} (connection lost: {exc})"
            incomplete.args = (incomplete.message,)
            raise incomplete from exc

    def feed(self, data: bytes) -> list[StreamChunk]:
        """Consume a piece of the body; return the chunks it completed."""
        return list(self.iter_feed(data))

    def iter_feed(self, data: bytes) -> Iterator[StreamChunk]:
        """:meth:`feed`, lazily: each chunk is parsed when the iterator reaches it.

        The bytes are decoded into events now (a size error raises here); the
        JSON parse and structure of each chunk wait until it is taken. So the
        first chunk of a burst is handed over before the rest is parsed, and
        only the chunk in hand is alive, not the whole burst's. An error met
        after some chunks ends the iteration and is held back, as with feed().
        The transports use this; take every chunk before the next call.
        """
        self._raise_pending()
        if self.done:
            return iter(())
        try:
            events = self._decoder.feed_messages(data)
        except StreamError as exc:
            exc.request_id = self.request_id
            raise
        return self._chunks(events) if events else iter(())

    def close(self) -> list[StreamChunk]:
        """End of input: flush, then raise if the stream ended too early."""
        self._raise_pending()
        chunks: list[StreamChunk] = []
        if not self.done:
            try:
                events = self._decoder.close()
            except StreamError as exc:
                exc.request_id = self.request_id
                raise
            chunks = self._interpret(events)
            self._raise_pending()
        if not self.done and (not self._seen or self._seen - self._finished):
            raise IncompleteStreamError(
                f"stream ended before [DONE] after {self.chunks_received} chunks",
                chunks_received=self.chunks_received,
                request_id=self.request_id,
            )
        return chunks

    def _interpret(self, events: Sequence[ServerSentEvent | str]) -> list[StreamChunk]:
        return list(self._chunks(events))

    def _chunks(self, events: Sequence[ServerSentEvent | str]) -> Iterator[StreamChunk]:
        """The chunks of ``events``, one by one; an error after the first is held back.

        The per-chunk loop: names in locals, the JSON scanner called inline.
        """
        scan = _scan_once
        structure = _structure_chunk
        seen = self._seen
        finished = self._finished
        delivered = False
        try:
            for event in events:
                if type(event) is str:  # a message event's data (SSEDecoder.feed_messages)
                    data = event
                else:
                    event = cast(ServerSentEvent, event)
                    data = event.data
                    if event.event != "message":
                        if event.event == "error":
                            raise self._stream_error(data)
                        continue  # other named events (pings, metadata) are not chunks
                if data == DONE:
                    self.done = True
                    break
                try:
                    payload, end = scan(data, 0)
                    if end != len(data):
                        payload = _loads(data)  # trailing whitespace, or garbage: json decides
                except StopIteration:  # no JSON value at 0 (leading whitespace?): json decides
                    payload = self._parse_slowly(data)
                except (ValueError, RecursionError):  # RecursionError: absurdly nested garbage
                    raise ChunkDecodeError(
                        "stream payload is not valid JSON", raw=data, request_id=self.request_id
                    ) from None
                if type(payload) is dict:
                    if "error" in payload and "choices" not in payload:
                        raise self._stream_error(data, payload)
                    # cattrs would read a string or an object as an (empty) list of choices.
                    choices = payload.get("choices")
                    if choices is not None and type(choices) is not list:
                        raise ChunkDecodeError(
                            "stream payload is not a chat completion chunk: choices is not a list",
                            raw=data,
                            request_id=self.request_id,
                        )
                try:
                    chunk: StreamChunk = structure(payload, StreamChunk)
                except Exception as exc:  # cattrs raises many types; all mean "not a chunk"
                    raise ChunkDecodeError(
                        f"stream payload is not a chat completion chunk: {exc}",
                        raw=data,
                        request_id=self.request_id,
                    ) from exc
                for choice in chunk.choices:
                    seen.add(choice.index)
                    if choice.finish_reason is not None:
                        finished.add(choice.index)
                self.chunks_received += 1
                delivered = True
                yield chunk
        except StreamError as exc:
            if not delivered:
                raise
            self._pending_error = exc  # deliver the chunks before it first

    def _parse_slowly(self, data: str) -> Any:
        try:
            return _loads(data)
        except (ValueError, RecursionError):
            raise ChunkDecodeError(
                "stream payload is not valid JSON", raw=data, request_id=self.request_id
            ) from None

    def _stream_error(self, data: str, payload: Any = None) -> StreamAPIError:
        if payload is None:
            try:
                payload = _loads(data)
            except (ValueError, RecursionError):
                payload = None
        err = stream_error_from_payload(data, payload)
        err.request_id = self.request_id
        return err


#: Text pieces are joined, and kept as UTF-8, every this many pieces.
_BLOCK = 256


class _Text:
    """Text arriving in many small pieces, kept compact.

    A stream's text comes a word at a time; kept as separate ``str`` objects
    it would take about 60 bytes of memory per piece whatever its length.
    Every :data:`_BLOCK` pieces are joined and stored as UTF-8, so the memory
    held grows with the text itself, not with the number of chunks.
    """

    __slots__ = ("blocks", "pieces")

    def __init__(self) -> None:
        self.blocks: list[bytes] = []
        self.pieces: list[str] = []

    def __bool__(self) -> bool:
        return bool(self.pieces or self.blocks)

    def add(self, piece: str) -> None:
        pieces = self.pieces
        pieces.append(piece)
        if len(pieces) >= _BLOCK:
            self.compact()

    def compact(self) -> None:
        # surrogatepass: JSON may carry a lone surrogate ("\\ud800"); keep it as is.
        self.blocks.append("".join(self.pieces).encode("utf-8", "surrogatepass"))
        self.pieces = []

    def text(self) -> str:
        tail = "".join(self.pieces)
        if not self.blocks:
            return tail
        return b"".join(self.blocks).decode("utf-8", "surrogatepass") + tail


class _ToolCallParts:
    __slots__ = ("arguments", "id", "name", "type")

    def __init__(self) -> None:
        self.id: str | None = None
        self.type: str | None = None
        self.name: str | None = None
        self.arguments = _Text()


class _ChoiceParts:
    __slots__ = ("content", "finish_reason", "latest", "refusal", "role", "tool_calls")

    def __init__(self) -> None:
        self.role: Role | str | None = None
        self.content = _Text()
        self.refusal = _Text()
        self.finish_reason: str | None = None
        # Keyed by the fragment's index (or a synthetic key), in order of first appearance.
        self.tool_calls: dict[object, _ToolCallParts] = {}
        # Wire index -> key of the call most recently opened at that index.
        self.latest: dict[int, object] = {}


class StreamAccumulator:
    """Folds stream chunks into the :class:`SendResponse` a non-streaming call would return.

    Text is collected per choice and joined once; tool-call fragments are
    merged by ``index`` (id, type and name from the fragment that carries
    them, ``arguments`` concatenated). Missing indexes continue the last call
    (or start one when the fragment has a new id); a repeated index with a
    different id starts a new call, as some providers number every call 0.
    ``usage`` and ``compression`` come from whichever chunk carries them.

    The memory it holds grows with the text received, not with the number of
    chunks (see :class:`_Text`). ``add`` runs once per chunk: it is written
    out attribute by attribute, without loops over field names.
    """

    __slots__ = ("_choices", "_head_missing", "_top")

    def __init__(self) -> None:
        self._choices: dict[int, _ChoiceParts] = {}
        self._top: dict[str, Any] = {}
        # id, created and model are taken from the first chunk that has each.
        self._head_missing = True

    def _take_head(self, chunk: StreamChunk) -> None:
        top = self._top
        for key in ("id", "created", "model"):
            if key not in top and getattr(chunk, key) is not None:
                top[key] = getattr(chunk, key)
        self._head_missing = len(top.keys() & {"id", "created", "model"}) < 3

    def add(self, chunk: StreamChunk) -> None:
        """Fold one chunk in."""
        if self._head_missing:
            self._take_head(chunk)
        if chunk.usage is not None:
            self._top["usage"] = chunk.usage
        if chunk.compression is not None:
            self._top["compression"] = chunk.compression
        if chunk.edgee_pending_id is not None:
            self._top["edgee_pending_id"] = chunk.edgee_pending_id
        if chunk.edgee_tools_executed is not None:
            self._top["edgee_tools_executed"] = chunk.edgee_tools_executed
        choices = self._choices
        for choice in chunk.choices:
            index = choice.index
            parts = choices.get(index)
            if parts is None:
                parts = choices[index] = _ChoiceParts()
            if choice.finish_reason is not None:
                parts.finish_reason = choice.finish_reason
            delta = choice.delta
            if delta is None:
                continue
            if delta.role is not None and parts.role is None:
                parts.role = delta.role
            content = delta.content
            if content:
                text = parts.content
                pieces = text.pieces
                pieces.append(content)
                if len(pieces) >= _BLOCK:
                    text.compact()
            if delta.refusal:
                parts.refusal.add(delta.refusal)
            if delta.tool_calls:
                for fragment in delta.tool_calls:
                    self._add_tool_fragment(parts, fragment)

    @staticmethod
    def _add_tool_fragment(parts: _ChoiceParts, fragment: Any) -> None:
        calls = parts.tool_calls
        index = fragment.index
        key: object
        if index is None:
            # No index: continue the last call unless this fragment opens a new one.
            last = next(reversed(calls), None) if calls else None
            if last is None or (fragment.id and calls[last].id and fragment.id != calls[last].id):
                key = ("fragment", len(calls))
            else:
                key = last
        else:
            # A fragment without an id continues the latest call at its index.
            key = parts.latest.get(index, index)
            current = calls.get(key)
            if current is not None and fragment.id and current.id and fragment.id != current.id:
                # Same index, another id: that id's own call (new unless seen before).
                key = index if calls[index].id == fragment.id else (index, fragment.id)
                parts.latest[index] = key
        call = calls.get(key)
        if call is None:
            call = calls[key] = _ToolCallParts()
        if fragment.id and call.id is None:
            call.id = fragment.id
        if fragment.type and call.type is None:
            call.type = fragment.type
        fn = fragment.function
        if fn is not None:
            if fn.name and call.name is None:
                call.name = fn.name
            if fn.arguments:
                call.arguments.add(fn.arguments)

    def response(self) -> SendResponse:
        """The accumulated response; can be called at any point of the stream."""
        choices = []
        for index in sorted(self._choices):
            parts = self._choices[index]
            tool_calls = [
                ToolCall(
                    id=c.id or "",
                    type=c.type or "function",
                    function=FunctionCall(name=c.name or "", arguments=c.arguments.text()),
                )
                for c in parts.tool_calls.values()
            ]
            message = ResponseMessage(
                role=parts.role or Role.assistant,
                content=parts.content.text() if parts.content or not tool_calls else None,
                tool_calls=tool_calls or None,
                refusal=parts.refusal.text() if parts.refusal else None,
            )
            choices.append(Choice(index=index, message=message, finish_reason=parts.finish_reason))
        top = self._top
        return SendResponse(
            id=top.get("id"),
            object="chat.completion",
            created=top.get("created"),
            model=top.get("model"),
            choices=choices,
            usage=top.get("usage"),
            compression=top.get("compression"),
            edgee_pending_id=top.get("edgee_pending_id"),
            edgee_tools_executed=top.get("edgee_tools_executed"),
        )
