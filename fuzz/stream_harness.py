"""The properties every fuzzer of the stream core checks, shared by ``fuzz/`` and the tests.

Two consumers use this module: the coverage-guided atheris targets next to it
(``make fuzz``) and the hypothesis tests of ``tests/hardening``. Both hand it
bytes and a way to split them into network pieces; it raises ``AssertionError``
(or lets an undocumented exception escape) when a property breaks:

* only the documented errors escape: :class:`EventTooLargeError` from the SSE
  decoder, and that or :class:`StreamAPIError`, :class:`ChunkDecodeError`,
  :class:`IncompleteStreamError` from the chunk parser;
* the outcome (events or chunks, then the error if any) is the same for every
  split of the bytes into feeds, and the SSE events equal those of a slow,
  literal reading of the WHATWG rules (:func:`reference_sse`);
* memory stays bounded: after every feed, what a decoder or parser holds is
  bounded by its ``max_event_bytes`` (plus a constant), never by the stream.

Nothing here imports atheris or hypothesis.
"""

from __future__ import annotations

import codecs
import itertools
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from edgee._streaming import DONE, NEED_DATA, ChunkParser, StreamAccumulator
from edgee.errors import (
    ChunkDecodeError,
    EventTooLargeError,
    IncompleteStreamError,
    StreamAPIError,
    StreamError,
)
from edgee.models import StreamChunk
from edgee.sse import ServerSentEvent, SSEDecoder

__all__ = [
    "CHUNK_ERRORS",
    "ChunkOutcome",
    "SSEOutcome",
    "check_chunk_parser",
    "check_sse_decoder",
    "chunk_outcome",
    "held_bytes",
    "reference_sse",
    "split_at",
    "sse_outcome",
]

#: What the chunk parser may raise; anything else is a bug.
CHUNK_ERRORS = (EventTooLargeError, StreamAPIError, ChunkDecodeError, IncompleteStreamError)

# A Python str costs at most 4 bytes per character plus ~80 bytes of header, and each
# data line or pending piece is its own str in a list (8 bytes per slot); a line of one
# character counts 2 bytes against the limit (itself and its LF). So 64 bytes of Python
# memory per byte of limit, plus a constant, bounds every honest buffering strategy while
# still catching anything that grows with the stream instead of the event.
MEMORY_FACTOR = 64
MEMORY_SLACK = 16 * 1024


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """``data`` cut at the given offsets (any order, duplicates and out-of-range clamped)."""
    bounds = [0, *sorted(min(max(c, 0), len(data)) for c in cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


# --------------------------------------------------------------------------------------
# Memory: the deep size of what an object holds


def held_bytes(obj: object) -> int:
    """Bytes reachable from ``obj`` through slots, ``__dict__`` and containers.

    Generic on purpose: the decoder's private buffers may be renamed or reshaped by
    optimisations, and this still measures them. Classes, modules and functions are not
    followed (they are shared, not held).
    """
    seen: set[int] = set()
    stack = [obj]
    total = 0
    while stack:
        current = stack.pop()
        if id(current) in seen or isinstance(current, (type, type(sys))) or callable(current):
            continue
        seen.add(id(current))
        total += sys.getsizeof(current)
        if isinstance(current, (str, bytes, bytearray, int, float, bool)) or current is None:
            continue
        if isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, (list, tuple, set, frozenset)):
            stack.extend(current)
        elif isinstance(current, memoryview):
            continue
        else:
            for klass in type(current).__mro__:
                for name in getattr(klass, "__slots__", ()):
                    if hasattr(current, name):
                        stack.append(getattr(current, name))
            stack.extend(getattr(current, "__dict__", {}).values())
    return total


def memory_bound(limit: int) -> int:
    return MEMORY_FACTOR * limit + MEMORY_SLACK


# --------------------------------------------------------------------------------------
# A slow, literal reference of WHATWG 9.2.6 (with the decoder's documented size rule)


@dataclass
class SSEOutcome:
    """Events dispatched, whether the size limit ended the stream, and the final state."""

    events: list[ServerSentEvent] = field(default_factory=list)
    too_large: bool = False
    last_event_id: str = ""
    retry: int | None = None


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def reference_sse(stream: bytes, limit: int) -> SSEOutcome:
    """Decode ``stream`` by walking it character by character, as the spec reads.

    The size rule is the decoder's documented one: a non-blank line whose UTF-8 size,
    plus the data buffer's (each data value and its LF), exceeds ``limit`` ends the
    stream with :class:`EventTooLargeError`; the unterminated last line counts too.
    """
    # A truncated UTF-8 sequence at the very end can only belong to the unterminated
    # last line, which is never dispatched: decode without the final flush.
    text, _ = codecs.utf_8_decode(stream, "replace", False)
    if text[:1] == "\ufeff":
        text = text[1:]
    out = SSEOutcome()
    data: list[str] = []
    data_size = 0
    event_type = ""
    id_buffer: str | None = None
    retry: int | None = None
    line: list[str] = []
    position = 0
    length = len(text)

    def process(current: str) -> bool:
        nonlocal data, data_size, event_type, id_buffer, retry
        if current == "":
            out.last_event_id = id_buffer or ""
            if data:
                out.events.append(
                    ServerSentEvent(event_type or "message", "\n".join(data), id_buffer, retry)
                )
            data, data_size, event_type, retry = [], 0, "", None
            return True
        if data_size + _utf8_size(current) > limit:
            return False
        if current[0] == ":":
            return True
        name, colon, value = current.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            data.append(value)
            data_size += _utf8_size(value) + 1
        elif name == "event":
            event_type = value
        elif name == "id":
            if "\x00" not in value:
                id_buffer = value
        elif name == "retry" and value and all("0" <= ch <= "9" for ch in value):
            digits = value.lstrip("0") or "0"
            if len(digits) <= 4000:  # beyond int()'s digit limit no delay is sane
                retry = int(digits)
                out.retry = retry
        return True

    while position < length:
        ch = text[position]
        position += 1
        if ch == "\r" or ch == "\n":
            if ch == "\r" and position < length and text[position] == "\n":
                position += 1
            if not process("".join(line)):
                out.too_large = True
                return out
            line = []
        else:
            line.append(ch)
    if line and data_size + _utf8_size("".join(line)) > limit:
        out.too_large = True
    return out


# --------------------------------------------------------------------------------------
# The decoder under test


def sse_outcome(pieces: Sequence[bytes], limit: int) -> SSEOutcome:
    """Feed ``pieces`` to a fresh decoder, then close it; check memory after each feed."""
    decoder = SSEDecoder(max_event_bytes=limit)
    out = SSEOutcome()
    bound = memory_bound(limit)
    try:
        for piece in pieces:
            out.events.extend(decoder.feed(piece))
            held = held_bytes(decoder)
            assert held <= bound, f"decoder holds {held} bytes, limit {limit}"
        out.events.extend(decoder.close())
    except EventTooLargeError as exc:
        assert exc.limit == limit
        out.too_large = True
        # Failed for good: every later call raises the same error, and the buffers are gone.
        for call in (lambda: decoder.feed(b"data: x\n\n"), decoder.close):
            try:
                call()
            except EventTooLargeError:
                pass
            else:
                raise AssertionError("a failed decoder accepted more input") from None
        assert held_bytes(decoder) <= MEMORY_SLACK
        return out
    out.last_event_id = decoder.last_event_id
    out.retry = decoder.retry
    return out


def messages_outcome(pieces: Sequence[bytes], limit: int) -> tuple[list[Any], bool]:
    """What ``feed_messages()`` (the chunk parser's entry point) gives, if the decoder has it."""
    decoder = SSEDecoder(max_event_bytes=limit)
    out: list[Any] = []
    try:
        for piece in pieces:
            out.extend(decoder.feed_messages(piece))
        out.extend(decoder.close())
    except EventTooLargeError:
        return out, True
    return out, False


def check_sse_decoder(stream: bytes, cuts: Iterable[int], limit: int) -> SSEOutcome:
    """The decoder's properties for one input: split-invariant, equal to the reference."""
    pieces = split_at(stream, cuts)
    split = sse_outcome(pieces, limit)
    whole = sse_outcome([stream], limit)
    assert split == whole, (split, whole)
    if hasattr(SSEDecoder, "feed_messages"):
        # The same events, a `message` event as its data alone.
        expected = [e.data if e.event == "message" else e for e in split.events]
        assert messages_outcome(pieces, limit) == (expected, split.too_large)
    expected = reference_sse(stream, limit)
    if expected.too_large:
        # The decoder may not know last_event_id/retry after failing; compare what it gave.
        assert (split.events, split.too_large) == (expected.events, True), (split, expected)
    else:
        assert split == expected, (split, expected)
    return split


# --------------------------------------------------------------------------------------
# The chunk parser under test


@dataclass
class ChunkOutcome:
    """Chunks delivered (as wire dicts), then the error that ended the stream, if any."""

    chunks: list[dict[str, Any]] = field(default_factory=list)
    error: tuple[Any, ...] | None = None
    done: bool = False
    final: dict[str, Any] = field(default_factory=dict)


def describe_error(exc: StreamError) -> tuple[Any, ...]:
    """What must not depend on the split: the class and the payload it names."""
    if isinstance(exc, ChunkDecodeError):
        return ("ChunkDecodeError", exc.raw)
    if isinstance(exc, StreamAPIError):
        return ("StreamAPIError", exc.data, exc.message, exc.code, exc.type, exc.param)
    if isinstance(exc, EventTooLargeError):
        return ("EventTooLargeError", exc.limit)
    if isinstance(exc, IncompleteStreamError):
        return ("IncompleteStreamError", exc.chunks_received)
    raise AssertionError(f"undocumented stream error {exc!r}")


def chunk_outcome(
    pieces: Sequence[bytes], limit: int, request_id: str = "req_1", *, lazy: bool = False
) -> ChunkOutcome:
    """Drive a fresh parser as the transports do: receive a piece, take events until NEED_DATA.

    ``lazy`` takes each chunk as it is parsed (as the transports do); otherwise
    every piece's chunks are gathered first, then delivered.
    """
    parser = ChunkParser(request_id=request_id, max_event_bytes=limit)
    accumulator = StreamAccumulator()
    out = ChunkOutcome()
    bound = memory_bound(limit)

    def deliver(chunks: list[StreamChunk]) -> None:
        for chunk in chunks:
            accumulator.add(chunk)
            out.chunks.append(chunk.to_dict())

    def take() -> bool:
        """Every event the parser has now; True once it is DONE."""
        gathered: list[StreamChunk] = []
        try:
            while True:
                event = parser.next_event()
                if event is NEED_DATA or event is DONE:
                    return event is DONE
                if lazy:
                    deliver([event])  # type: ignore[list-item]
                else:
                    gathered.append(event)  # type: ignore[arg-type]
        finally:
            deliver(gathered)

    try:
        finished = False
        for piece in pieces:
            if piece:
                parser.receive_data(piece)
            finished = take()
            held = held_bytes(parser.decoder)
            assert held <= bound, f"parser holds {held} bytes, limit {limit}"
            if finished:
                break
        if not finished:
            parser.receive_data(b"")
            take()
    except CHUNK_ERRORS as exc:
        assert exc.request_id == request_id, exc
        if isinstance(exc, IncompleteStreamError):
            assert exc.chunks_received == len(out.chunks), (exc.chunks_received, out.chunks)
        # The message is text the user reads: it must render.
        assert isinstance(str(exc), str) and isinstance(repr(exc), str)
        out.error = describe_error(exc)
    out.done = parser.done
    # Whatever arrived folds into a response (final_response() never fails on its own),
    # and every chunk and that response are JSON-serialisable wire data.
    out.final = accumulator.response().to_dict()
    json.dumps([out.chunks, out.final])
    return out


def check_chunk_parser(stream: bytes, cuts: Iterable[int], limit: int) -> ChunkOutcome:
    """The parser's properties for one input: documented errors only, split-invariant."""
    pieces = split_at(stream, cuts)
    split = chunk_outcome(pieces, limit)
    whole = chunk_outcome([stream], limit)
    assert split == whole, (split, whole)
    lazy = chunk_outcome(pieces, limit, lazy=True)
    assert lazy == split, (lazy, split)
    return split
