"""Fuzzing the stream interpreter (``ChunkParser`` and ``StreamAccumulator``).

Arbitrary bytes may only end in the documented stream errors
(EventTooLargeError, StreamAPIError, ChunkDecodeError, IncompleteStreamError),
with the same chunks and error for every split (``fuzz/stream_harness.py``).
Well-formed streams built from a list of items (chunks, ``[DONE]``, error
events and objects, pings, comments, malformed payloads, a cut) must give
exactly the chunks the list predicts, framed any way the spec allows and split
any way the network likes. A state machine feeds pieces one by one and checks
that the parser always agrees with a fresh parser fed the same bytes at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from stream_harness import (
    CHUNK_ERRORS,
    ChunkOutcome,
    check_chunk_parser,
    chunk_outcome,
    describe_error,
    held_bytes,
    memory_bound,
    split_at,
)
from streamhelp import feed, finish

from edgee._streaming import ChunkParser
from edgee.sse import DEFAULT_MAX_EVENT_BYTES

_TEXT = st.text(
    st.sampled_from([*'ab \n\r\t"\\{}:é€😀', "\u2028", "\u0085", "\ufeff", "\x00"]), max_size=8
)


@st.composite
def tool_call_deltas(draw: st.DrawFn) -> dict[str, Any]:
    call: dict[str, Any] = {}
    if draw(st.booleans()):
        call["index"] = draw(st.integers(0, 2))
    if draw(st.booleans()):
        call["id"] = draw(st.sampled_from(["call_a", "call_b"]))
        call["type"] = "function"
    function: dict[str, Any] = {}
    if draw(st.booleans()):
        function["name"] = draw(st.sampled_from(["f", "g"]))
    if draw(st.booleans()):
        function["arguments"] = draw(_TEXT)
    if function:
        call["function"] = function
    return call


@st.composite
def chunk_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A chat.completion.chunk as a gateway sends it (no nulls: to_dict() omits them)."""
    chunk: dict[str, Any] = {"id": "chatcmpl-1", "object": "chat.completion.chunk"}
    if draw(st.booleans()):
        chunk["created"] = draw(st.integers(0, 2**40))
        chunk["model"] = draw(st.sampled_from(["gpt-4o", "anthropic/claude"]))
    choices = []
    for index in draw(st.lists(st.integers(0, 2), max_size=2, unique=True)):
        delta: dict[str, Any] = {}
        if draw(st.booleans()):
            delta["role"] = draw(st.sampled_from(["assistant", "tool", "moderator"]))
        if draw(st.booleans()):
            delta["content"] = draw(_TEXT)
        if draw(st.integers(0, 3)) == 0:
            delta["tool_calls"] = draw(st.lists(tool_call_deltas(), min_size=1, max_size=2))
        choice: dict[str, Any] = {"index": index, "delta": delta}
        if draw(st.integers(0, 2)) == 0:
            choice["finish_reason"] = draw(st.sampled_from(["stop", "length", "tool_calls", "x"]))
        choices.append(choice)
    chunk["choices"] = choices
    if draw(st.integers(0, 4)) == 0:
        chunk["usage"] = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    if draw(st.integers(0, 6)) == 0:
        chunk["compression"] = {"saved_tokens": 1, "reduction": 12.5}
    if draw(st.integers(0, 6)) == 0:
        chunk["system_fingerprint"] = "fp_1"  # unknown fields are kept
    return chunk


@st.composite
def stream_items(draw: st.DrawFn) -> tuple[Any, ...]:
    kind = draw(
        st.sampled_from(
            ["chunk"] * 8
            + ["done", "error_event", "error_object", "ping", "comment", "malformed", "notchunk"]
        )
    )
    if kind == "chunk":
        return ("chunk", draw(chunk_dicts()))
    if kind in ("error_event", "error_object"):
        message = draw(st.sampled_from(["boom", "rate limited", ""]))
        return (kind, {"error": {"message": message, "type": "api_error", "code": "down"}})
    if kind == "malformed":
        return (kind, draw(st.sampled_from(['{"choices": [oops', "{", "nan", '{"a":1}}'])))
    if kind == "notchunk":
        return (kind, draw(st.sampled_from(["[1, 2]", '"text"', "42", '{"choices": "x"}'])))
    return (kind,)


@dataclass
class Framing:
    """How a stream is written: every choice the SSE rules leave to the sender."""

    line_end: str = "\n"
    space: str = " "
    indent: int | None = None
    ascii: bool = False
    bom: bool = False
    ids: bool = False
    extra: list[str] = field(default_factory=list)


@st.composite
def framings(draw: st.DrawFn) -> Framing:
    return Framing(
        line_end=draw(st.sampled_from(["\n", "\r\n", "\r"])),
        space=draw(st.sampled_from([" ", ""])),
        indent=draw(st.sampled_from([None, None, 1])),
        ascii=draw(st.booleans()),
        bom=draw(st.booleans()),
        ids=draw(st.booleans()),
    )


def _event(framing: Framing, data: str, event: str | None = None) -> str:
    end = framing.line_end
    lines = []
    if framing.ids:
        lines.append("id: 7")
    if event is not None:
        lines.append(f"event: {event}")
    lines.extend(f"data:{framing.space}{line}" for line in data.split("\n"))
    return end.join(lines) + end + end


def render(items: list[tuple[Any, ...]], framing: Framing) -> bytes:
    out = []
    for item in items:
        kind = item[0]
        if kind == "chunk":
            text = json.dumps(item[1], indent=framing.indent, ensure_ascii=framing.ascii)
            out.append(_event(framing, text))
        elif kind == "done":
            out.append(_event(framing, "[DONE]"))
        elif kind == "error_event":
            out.append(_event(framing, json.dumps(item[1]), event="error"))
        elif kind == "error_object":
            out.append(_event(framing, json.dumps(item[1])))
        elif kind == "ping":
            out.append(_event(framing, "{}", event="ping"))
        elif kind == "comment":
            out.append(": keep-alive" + framing.line_end * 2)
        else:  # malformed, notchunk
            out.append(_event(framing, item[1]))
    raw = "".join(out).encode("utf-8")
    return (b"\xef\xbb\xbf" + raw) if framing.bom else raw


def predict(items: list[tuple[Any, ...]]) -> tuple[list[dict[str, Any]], str | None]:
    """The chunks the parser must deliver, and the class of the error that ends the stream."""
    chunks: list[dict[str, Any]] = []
    seen: set[int] = set()
    finished: set[int] = set()
    for item in items:
        kind = item[0]
        if kind == "chunk":
            chunks.append(item[1])
            for choice in item[1]["choices"]:
                seen.add(choice["index"])
                if "finish_reason" in choice:
                    finished.add(choice["index"])
        elif kind == "done":
            return chunks, None
        elif kind in ("error_event", "error_object"):
            return chunks, "StreamAPIError"
        elif kind in ("malformed", "notchunk"):
            return chunks, "ChunkDecodeError"
    if not seen or seen - finished:
        return chunks, "IncompleteStreamError"
    return chunks, None


_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(st.lists(stream_items(), max_size=10), framings(), st.data())
def test_well_formed_streams_give_the_predicted_chunks(
    items: list[tuple[Any, ...]], framing: Framing, data: st.DataObject
) -> None:
    stream = render(items, framing)
    last = None
    if items and items[-1][0] == "chunk" and data.draw(st.booleans()):
        # The connection dies inside the last event; whether its chunk arrived depends on
        # where (a CRLF cut after its CR still ends the blank line).
        head = len(render(items[:-1], framing))
        stream = stream[: data.draw(st.integers(head, len(stream) - 1))]
        items, last = items[:-1], items[-1]
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    outcome = check_chunk_parser(stream, cuts, DEFAULT_MAX_EVENT_BYTES)
    expected_chunks, expected_error = predict(items)
    if last is not None and len(outcome.chunks) > len(expected_chunks):
        expected_chunks, expected_error = predict([*items, last])
    assert outcome.chunks == expected_chunks
    assert (outcome.error[0] if outcome.error else None) == expected_error
    # What final_response() folds: the text of each choice, joined.
    for index in {c["index"] for chunk in outcome.chunks for c in chunk["choices"]}:
        text = "".join(
            c["delta"].get("content") or ""
            for chunk in outcome.chunks
            for c in chunk["choices"]
            if c["index"] == index
        )
        final = next(c for c in outcome.final["choices"] if c["index"] == index)
        assert (final["message"].get("content") or "") == text


@_SETTINGS
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=12), st.data())
def test_arbitrary_bytes(stream: bytes, cuts: list[int], data: st.DataObject) -> None:
    limit = data.draw(st.sampled_from([1, 16, 256, DEFAULT_MAX_EVENT_BYTES]))
    check_chunk_parser(stream, cuts, limit)


@_SETTINGS
@given(st.lists(st.one_of(stream_items(), st.binary(max_size=16)), max_size=10), st.data())
def test_well_formed_streams_with_junk(items: list[Any], data: st.DataObject) -> None:
    framing = data.draw(framings())
    stream = b"".join(
        item if isinstance(item, bytes) else render([item], framing) for item in items
    )
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    limit = data.draw(st.sampled_from([64, 1024, DEFAULT_MAX_EVENT_BYTES]))
    check_chunk_parser(stream, cuts, limit)


@settings(max_examples=40, deadline=None)
@given(st.lists(stream_items(), max_size=6), framings())
def test_byte_at_a_time_equals_one_feed(items: list[tuple[Any, ...]], framing: Framing) -> None:
    stream = render(items, framing)
    pieces = split_at(stream, range(1, len(stream)))
    assert chunk_outcome(pieces, DEFAULT_MAX_EVENT_BYTES) == chunk_outcome(
        [stream], DEFAULT_MAX_EVENT_BYTES
    )


class ChunkParserMachine(RuleBasedStateMachine):
    """Pieces arrive one by one; the parser always agrees with one fed everything at once."""

    parser: ChunkParser
    fed: bytearray
    outcome: ChunkOutcome
    limit: int

    @initialize(limit=st.sampled_from([32, 512, DEFAULT_MAX_EVENT_BYTES]), framing=framings())
    def start(self, limit: int, framing: Framing) -> None:
        self.limit = limit
        self.framing = framing
        self.parser = ChunkParser(request_id="req_m", max_event_bytes=limit)
        self.fed = bytearray()
        self.outcome = ChunkOutcome()
        self.ended = False

    def _run(self, call: Any) -> None:
        try:
            self.outcome.chunks.extend(c.to_dict() for c in call())
            feed(self.parser, b"")
        except CHUNK_ERRORS as exc:
            self.outcome.error = describe_error(exc)
            self.ended = True
        if self.parser.done:
            self.ended = True

    @precondition(lambda self: not self.ended)
    @rule(item=stream_items(), split=st.floats(0, 1))
    def feed_event(self, item: tuple[Any, ...], split: float) -> None:
        # An event, possibly cut in two pieces fed one after the other.
        raw = render([item], self.framing)
        at = int(len(raw) * split)
        for piece in (raw[:at], raw[at:]):
            if not self.ended:
                self.fed += piece
                self._run(lambda piece=piece: feed(self.parser, piece))

    @precondition(lambda self: not self.ended)
    @rule(piece=st.binary(max_size=24))
    def feed_junk(self, piece: bytes) -> None:
        self.fed += piece
        self._run(lambda: feed(self.parser, piece))

    @precondition(lambda self: not self.ended)
    @rule()
    def close(self) -> None:
        self._run(lambda: finish(self.parser))
        self.ended = True
        self.closed = True

    @rule()
    def observe(self) -> None:
        assert self.parser.chunks_received == len(self.outcome.chunks)

    @invariant()
    def agrees_with_one_feed(self) -> None:
        if not hasattr(self, "parser"):
            return
        fresh = ChunkParser(request_id="req_m", max_event_bytes=self.limit)
        expected = ChunkOutcome()
        try:
            expected.chunks.extend(c.to_dict() for c in feed(fresh, bytes(self.fed)))
            feed(fresh, b"")
            if getattr(self, "closed", False) and not fresh.done:
                expected.chunks.extend(c.to_dict() for c in finish(fresh))
        except CHUNK_ERRORS as exc:
            expected.error = describe_error(exc)
        assert self.outcome.chunks == expected.chunks
        assert self.outcome.error == expected.error
        assert self.parser.done == fresh.done

    @invariant()
    def memory_is_bounded(self) -> None:
        if hasattr(self, "parser"):
            assert held_bytes(self.parser.decoder) <= memory_bound(self.limit)


ChunkParserMachine.TestCase.settings = settings(
    max_examples=120,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestChunkParserMachine = ChunkParserMachine.TestCase
