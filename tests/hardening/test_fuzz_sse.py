"""Fuzzing the SSE decoder: a hypothesis state machine and properties over arbitrary bytes.

The properties live in ``fuzz/stream_harness.py``, shared with the atheris
targets of ``make fuzz``: only :class:`EventTooLargeError` escapes, the events
are the same for any split of the bytes and equal to a literal reading of the
WHATWG rules, and what the decoder holds is bounded by its size limit.

The state machine interleaves feeds of arbitrary and well-formed pieces with
``close()`` and calls after the end, checking after every step that the
events delivered so far, ``last_event_id`` and ``retry`` are what the
reference gives for the bytes fed so far.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from stream_harness import (
    check_sse_decoder,
    held_bytes,
    memory_bound,
    reference_sse,
    sse_outcome,
)

from edgee.errors import EventTooLargeError
from edgee.sse import DEFAULT_MAX_EVENT_BYTES, ServerSentEvent, SSEDecoder

LIMITS = st.sampled_from([1, 5, 32, 256, DEFAULT_MAX_EVENT_BYTES])
_NAMES = ["data", "data", "data", "event", "id", "retry", "", "Data", " data", "\ufeff", "x"]
_CHARS = st.sampled_from([*'ab :09+-{}"\t\x00é€😀\u2028\u0085\ufeff\ufffd', "\u0663", "\r", "\n"])


@st.composite
def sse_pieces(draw: st.DrawFn) -> bytes:
    """A piece of a plausible stream: whole lines, partial lines, blank lines, junk."""
    kind = draw(st.sampled_from(["line", "line", "line", "blank", "partial", "junk", "crlf"]))
    if kind == "blank":
        return draw(st.sampled_from([b"\n", b"\r", b"\r\n"]))
    if kind == "crlf":
        return draw(st.sampled_from([b"\r", b"\n", b"\r\n\r", b"\n\r"]))
    if kind == "junk":
        return draw(st.binary(max_size=24))
    name = draw(st.sampled_from(_NAMES))
    sep = draw(st.sampled_from([":", ": ", ":  ", ""]))
    value = draw(st.text(_CHARS, max_size=10))
    text = name + sep + value
    if kind == "line":
        text += draw(st.sampled_from(["\n", "\r", "\r\n", "\n\n"]))
    raw = text.encode("utf-8")
    if draw(st.integers(0, 5)) == 0:
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut]  # may cut a UTF-8 sequence or a CRLF in two
    return raw


class SSEDecoderMachine(RuleBasedStateMachine):
    """Feed and close in any order; the decoder always agrees with the reference."""

    decoder: SSEDecoder
    limit: int
    fed: bytearray
    events: list[ServerSentEvent]

    @initialize(limit=LIMITS, bom=st.booleans())
    def start(self, limit: int, bom: bool) -> None:
        self.limit = limit
        self.decoder = SSEDecoder(max_event_bytes=limit)
        self.fed = bytearray()
        self.events = []
        self.failed = False
        self.closed = False
        if bom:
            self._feed(b"\xef\xbb\xbf")

    def _feed(self, piece: bytes) -> None:
        must_fail = reference_sse(bytes(self.fed), self.limit).too_large
        self.fed += piece
        try:
            self.events.extend(self.decoder.feed(piece))
        except EventTooLargeError:
            self.failed = True
            assert reference_sse(bytes(self.fed), self.limit).too_large
        else:
            assert not must_fail, "an error held back by the last feed was not raised"

    @precondition(lambda self: not self.closed and not self.failed)
    @rule(piece=st.one_of(sse_pieces(), st.binary(max_size=48)))
    def feed(self, piece: bytes) -> None:
        self._feed(piece)

    @precondition(lambda self: not self.closed and not self.failed)
    @rule(size=st.integers(1, 600), ascii_only=st.booleans())
    def feed_long_line(self, size: int, ascii_only: bool) -> None:
        # Long unterminated lines are where unbounded buffering would show.
        self._feed((("a" if ascii_only else "€") * size).encode())

    @precondition(lambda self: not self.closed and not self.failed)
    @rule()
    def close(self) -> None:
        must_fail = reference_sse(bytes(self.fed), self.limit).too_large
        try:
            assert self.decoder.close() == []
        except EventTooLargeError:
            assert must_fail
            self.failed = True
        else:
            assert not must_fail
            self.closed = True
            assert self.decoder.close() == []  # idempotent

    @precondition(lambda self: self.closed)
    @rule()
    def feed_after_close(self) -> None:
        with pytest.raises(RuntimeError):
            self.decoder.feed(b"data: late\n\n")

    @precondition(lambda self: self.failed)
    @rule(piece=st.binary(max_size=8))
    def use_after_failure(self, piece: bytes) -> None:
        with pytest.raises(EventTooLargeError):
            self.decoder.feed(piece)
        with pytest.raises(EventTooLargeError):
            self.decoder.close()

    @invariant()
    def agrees_with_reference(self) -> None:
        if not hasattr(self, "decoder"):
            return
        expected = reference_sse(bytes(self.fed), self.limit)
        assert self.events == expected.events
        if self.failed:
            assert expected.too_large
        elif not expected.too_large:
            assert self.decoder.last_event_id == expected.last_event_id
            assert self.decoder.retry == expected.retry

    @invariant()
    def memory_is_bounded(self) -> None:
        if hasattr(self, "decoder"):
            assert held_bytes(self.decoder) <= memory_bound(self.limit)


SSEDecoderMachine.TestCase.settings = settings(
    max_examples=120,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSSEDecoderMachine = SSEDecoderMachine.TestCase

_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=12), LIMITS)
def test_arbitrary_bytes(stream: bytes, cuts: list[int], limit: int) -> None:
    check_sse_decoder(stream, cuts, limit)


@_SETTINGS
@given(st.lists(sse_pieces(), max_size=30), LIMITS, st.data())
def test_plausible_streams_any_split(pieces: list[bytes], limit: int, data: st.DataObject) -> None:
    stream = b"".join(pieces)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))
    check_sse_decoder(stream, cuts, limit)


@settings(max_examples=40, deadline=None)
@given(st.lists(sse_pieces(), max_size=12), LIMITS)
def test_byte_at_a_time_equals_one_feed(pieces: list[bytes], limit: int) -> None:
    stream = b"".join(pieces)
    assert sse_outcome([bytes([b]) for b in stream], limit) == sse_outcome([stream], limit)


@pytest.mark.parametrize("piece", [1, 4096, 65536])
@pytest.mark.parametrize("shape", ["one line", "many data lines", "multibyte"])
def test_a_huge_event_stops_at_the_limit(piece: int, shape: str) -> None:
    """An endless event raises once the limit is passed, having held about the limit."""
    limit = 64 * 1024
    unit = {"one line": b"a", "many data lines": b"data: abc\n", "multibyte": "€".encode()}[shape]
    body = unit * (piece // len(unit) + 1)
    stream = (b"" if shape == "many data lines" else b"data: ") + body
    decoder = SSEDecoder(max_event_bytes=limit)
    # Measuring what the decoder holds walks its buffers: do it ~40 times, not per byte.
    every = max(1, limit // piece // 40)
    fed = feeds = peak = 0
    with pytest.raises(EventTooLargeError):
        while fed < 16 * limit:
            chunk, stream = stream[:piece], stream[piece:] or body
            decoder.feed(chunk)
            fed += len(chunk)
            feeds += 1
            if feeds % every == 0:
                peak = max(peak, held_bytes(decoder))
    # It stopped within a piece of the limit, and what it held grew with the event up to
    # the limit, not past it. `fed` counts the feeds before the one that raised. The
    # limit is on the event's data ("abc" and its LF for each 10-byte data line).
    wire_per_limit_byte = 10 / 4 if shape == "many data lines" else 1
    assert limit * wire_per_limit_byte < fed + piece + 16
    assert fed <= limit * wire_per_limit_byte + 16
    assert 0 < peak <= memory_bound(limit)
