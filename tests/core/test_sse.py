"""Tests of :mod:`edgee.sse`, the sans-IO server-sent-events decoder.

The rules come from the WHATWG HTML standard, 9.2.6 "Interpreting an event
stream". Each rule has its own test; then every split of representative
streams, hypothesis partitions of arbitrary and structured streams, and a
comparison with a slow, obviously correct reference decoder written below.
"""

from __future__ import annotations

import codecs
import itertools
import re
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgee.errors import EventTooLargeError, StreamError
from edgee.sse import DEFAULT_MAX_EVENT_BYTES, ServerSentEvent, SSEDecoder

BOM = b"\xef\xbb\xbf"


def decode(chunks: Iterable[bytes], **kwargs: int) -> list[ServerSentEvent]:
    """Feed every chunk, then close; return all the events."""
    decoder = SSEDecoder(**kwargs)
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return events


def decode_outcome(chunks: Iterable[bytes], **kwargs: int) -> tuple[list[ServerSentEvent], bool]:
    """Like :func:`decode`, but report whether EventTooLargeError ended the stream."""
    decoder = SSEDecoder(**kwargs)
    events: list[ServerSentEvent] = []
    try:
        for chunk in chunks:
            events.extend(decoder.feed(chunk))
        events.extend(decoder.close())
    except EventTooLargeError:
        return events, True
    return events, False


def one(stream: bytes) -> ServerSentEvent:
    events = decode([stream])
    assert len(events) == 1, events
    return events[0]


def split_at(stream: bytes, cuts: Sequence[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


def ev(
    data: str, event: str = "message", id: str | None = None, retry: int | None = None
) -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data, id=id, retry=retry)


# --------------------------------------------------------------------------------------
# A slow reference: decode everything, walk the characters, apply the spec's steps
# literally (the data buffer is a string with an LF appended per data line).
# --------------------------------------------------------------------------------------


def reference_decode(
    stream: bytes, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
) -> tuple[list[ServerSentEvent], bool]:
    # Non-final decode: a truncated UTF-8 sequence at the very end can only belong to
    # the unterminated last line, which is discarded anyway.
    text, _ = codecs.utf_8_decode(stream, "replace", False)
    if text.startswith("\ufeff"):
        text = text[1:]
    lines: list[str] = []
    current = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\r":
            lines.append(current)
            current = ""
            if i + 1 < len(text) and text[i + 1] == "\n":
                i += 1
        elif ch == "\n":
            lines.append(current)
            current = ""
        else:
            current += ch
        i += 1

    def size(s: str) -> int:
        return len(s.encode("utf-8"))

    events: list[ServerSentEvent] = []
    data = ""
    event_type = ""
    last_id: str | None = None
    retry: int | None = None
    for line in lines:
        if line == "":
            if data == "":
                event_type = ""
                retry = None
                continue
            if data.endswith("\n"):
                data = data[:-1]
            events.append(ServerSentEvent(event_type or "message", data, last_id, retry))
            data = ""
            event_type = ""
            retry = None
            continue
        if size(data) + size(line) > max_event_bytes:
            return events, True
        if line.startswith(":"):
            continue
        if ":" in line:
            field, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            field, value = line, ""
        if field == "event":
            event_type = value
        elif field == "data":
            data += value + "\n"
        elif field == "id":
            if "\x00" not in value:
                last_id = value
        elif field == "retry" and re.fullmatch("[0-9]+", value):
            retry = int(value)
    if size(data) + size(current) > max_event_bytes:
        return events, True
    return events, False


# --------------------------------------------------------------------------------------
# One test per rule
# --------------------------------------------------------------------------------------


def test_basic_event() -> None:
    assert decode([b"data: hello\n\n"]) == [ev("hello")]


def test_leading_bom_is_stripped() -> None:
    assert decode([BOM + b"data: a\n\n"]) == [ev("a")]


def test_leading_bom_split_across_feeds_is_stripped() -> None:
    stream = BOM + b"data: a\n\n"
    assert decode([bytes([b]) for b in stream]) == [ev("a")]
    assert decode([BOM[:1], BOM[1:2], BOM[2:] + b"data: a\n\n"]) == [ev("a")]


def test_bom_stripped_only_once() -> None:
    # The second BOM becomes part of the field name "\ufeffdata": an unknown field.
    assert decode([BOM + BOM + b"data: a\n\n"]) == []


def test_bom_later_in_stream_is_data() -> None:
    assert decode([b"data: a" + BOM + b"\n\n"]) == [ev("a\ufeff")]
    assert decode([b"data: a\n\n" + BOM + b"data: b\n\n"]) == [ev("a")]


def test_line_ending_lf() -> None:
    assert decode([b"event: e\ndata: a\ndata: b\n\n"]) == [ev("a\nb", event="e")]


def test_line_ending_crlf() -> None:
    assert decode([b"event: e\r\ndata: a\r\ndata: b\r\n\r\n"]) == [ev("a\nb", event="e")]


def test_line_ending_lone_cr() -> None:
    assert decode([b"event: e\rdata: a\rdata: b\r\r"]) == [ev("a\nb", event="e")]


def test_mixed_line_endings() -> None:
    # LF CR is two line ends; CR CR LF is CR then CRLF: two line ends.
    assert decode([b"data: a\n\rdata: b\r\r\ndata: c\r\n\n"]) == [ev("a"), ev("b"), ev("c")]


def test_crlf_split_across_feeds_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\ndata: b\r\n\r") == [ev("a\nb")]
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"data: c\n\n") == [ev("c")]


def test_event_ending_in_cr_is_dispatched_without_waiting_for_next_feed() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == [ev("a")]
    assert decoder.feed(b"\ndata: b\r\n\r") == [ev("b")]


def test_lf_after_split_cr_is_skipped_once_only() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    # The first LF completes the CRLF, the second one is a blank line.
    assert decoder.feed(b"\n\n") == [ev("a")]


def test_cr_at_feed_end_survives_empty_feeds() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"") == []
    assert decoder.feed(b"\n") == []  # still the second half of the CRLF
    assert decoder.feed(b"\n") == [ev("a")]
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\xc3") == []  # half of a character: nothing decoded yet
    # "\u00e9" is a line of its own (an unknown field), then the blank line.
    assert decoder.feed(b"\xa9\n\n") == [ev("a")]


def test_comment_lines_ignored() -> None:
    assert decode([b": hello\ndata: a\n:\n: data: b\n\n"]) == [ev("a")]


def test_comment_only_block_dispatches_nothing() -> None:
    assert decode([b": keep-alive\n\n: ping\n\n"]) == []


def test_field_without_colon_has_empty_value() -> None:
    assert decode([b"data\n\n"]) == [ev("")]
    assert decode([b"data\ndata\n\n"]) == [ev("\n")]
    # "event" with no value sets an empty type, which dispatches as "message".
    assert decode([b"event: x\nevent\ndata: a\n\n"]) == [ev("a")]


def test_only_one_leading_space_removed() -> None:
    assert one(b"data:a\n\n").data == "a"
    assert one(b"data: a\n\n").data == "a"
    assert one(b"data:  a\n\n").data == " a"
    assert one(b"data:\ta\n\n").data == "\ta"
    assert one(b"data: a \n\n").data == "a "
    assert one(b"event:  x\ndata\n\n").event == " x"


def test_value_may_contain_colons() -> None:
    assert one(b'data: {"a": "b:c"}\n\n').data == '{"a": "b:c"}'
    assert one(b"data::x\n\n").data == ":x"


def test_data_lines_joined_with_lf() -> None:
    assert one(b"data: a\ndata:\ndata: b\n\n").data == "a\n\nb"
    assert one(b"data: a\ndata\n\n").data == "a\n"


def test_event_type_set_and_reset_after_dispatch() -> None:
    events = decode([b"event: add\ndata: 1\n\ndata: 2\n\n"])
    assert events == [ev("1", event="add"), ev("2")]


def test_event_type_reset_by_blank_line_without_data() -> None:
    assert decode([b"event: x\n\ndata: a\n\n"]) == [ev("a")]


def test_last_event_type_wins() -> None:
    assert one(b"event: a\nevent: b\ndata\n\n").event == "b"


def test_id_persists_across_events() -> None:
    events = decode([b"id: 7\ndata: a\n\ndata: b\n\nid: 8\ndata: c\n\n"])
    assert events == [ev("a", id="7"), ev("b", id="7"), ev("c", id="8")]


def test_id_never_set_is_none() -> None:
    assert one(b"data: a\n\n").id is None


def test_empty_id_resets_to_empty_string() -> None:
    events = decode([b"id: 7\ndata: a\n\nid\ndata: b\n\n"])
    assert events == [ev("a", id="7"), ev("b", id="")]


def test_id_containing_nul_ignored() -> None:
    events = decode([b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n"])
    assert events == [ev("a", id="1"), ev("b", id="1")]


def test_last_event_id_property_follows_blank_lines() -> None:
    decoder = SSEDecoder()
    assert decoder.last_event_id == ""
    decoder.feed(b"id: 5\n")
    assert decoder.last_event_id == ""  # set only when the block ends
    decoder.feed(b"\n")  # no data: no event, but the ID is taken
    assert decoder.last_event_id == "5"
    assert decoder.feed(b"data: x\n\n") == [ev("x", id="5")]


def test_retry_ascii_digits_accepted() -> None:
    assert one(b"retry: 1500\ndata: a\n\n").retry == 1500
    assert one(b"retry:0\ndata: a\n\n").retry == 0
    assert one(b"retry: 007\ndata: a\n\n").retry == 7


@pytest.mark.parametrize(
    "value",
    [
        b"+5",
        b" 5",  # "retry:  5": one space removed, one left
        b"1_000",
        "\u0663".encode(),  # ARABIC-INDIC DIGIT THREE
        "\uff15".encode(),  # FULLWIDTH DIGIT FIVE
        "\u00b2".encode(),  # SUPERSCRIPT TWO
        b"-1",
        b"1.5",
        b"5 ",
        b"0x10",
        b"1e3",
        b"",
    ],
)
def test_retry_not_digits_only_ignored(value: bytes) -> None:
    assert one(b"retry: " + value + b"\ndata: a\n\n").retry is None
    # ... and does not clobber an earlier valid value.
    assert one(b"retry: 9\nretry: " + value + b"\ndata: a\n\n").retry == 9


def test_retry_belongs_to_its_event_only() -> None:
    events = decode([b"retry: 10\ndata: a\n\ndata: b\n\n"])
    assert events == [ev("a", retry=10), ev("b")]


def test_retry_without_data_sets_decoder_retry() -> None:
    decoder = SSEDecoder()
    assert decoder.retry is None
    assert decoder.feed(b"retry: 3000\n\n") == []
    assert decoder.retry == 3000
    assert decoder.feed(b"data: a\n\n") == [ev("a")]
    assert decoder.retry == 3000


def test_huge_retry_value_does_not_raise() -> None:
    events = decode([b"retry: " + b"9" * 10_000 + b"\ndata: a\n\n"])
    assert [e.data for e in events] == ["a"]


def test_empty_data_buffer_not_dispatched() -> None:
    assert decode([b"event: x\n\n", b"id: 1\n\n", b"retry: 5\n\n", b"\n\n\n"]) == []


def test_empty_data_field_is_dispatched() -> None:
    assert decode([b"data:\n\n"]) == [ev("")]


def test_unterminated_event_discarded_at_close() -> None:
    assert decode([b"data: a\n\ndata: b\n"]) == [ev("a")]
    assert decode([b"data: a\n\ndata: b"]) == [ev("a")]
    assert decode([b"data: a\n\ndata: b\r"]) == [ev("a")]


def test_close_returns_nothing_and_is_idempotent() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n")
    assert decoder.close() == []
    assert decoder.close() == []


def test_feed_after_close_raises() -> None:
    decoder = SSEDecoder()
    decoder.close()
    with pytest.raises(RuntimeError):
        decoder.feed(b"data: a\n\n")


def test_unknown_fields_ignored() -> None:
    stream = b"foo: bar\nData: x\n data: y\ndata : z\nDATA\nevent : w\ndata: ok\n\n"
    assert decode([stream]) == [ev("ok")]


def test_unknown_field_alone_dispatches_nothing() -> None:
    assert decode([b"foo: bar\n\n"]) == []


def test_unicode_line_separators_are_data() -> None:
    # Only CR and LF end lines: not U+2028, U+2029, U+0085, VT, FF, FS, GS, RS.
    for sep in ["\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"]:
        text = f'data: {{"t": "a{sep}b"}}\n\n'
        assert decode([text.encode()]) == [ev(f'{{"t": "a{sep}b"}}')], repr(sep)


def test_invalid_utf8_replaced_with_u_fffd() -> None:
    assert one(b"data: a\xffb\n\n").data == "a\ufffdb"
    assert one(b"data: \xc3(\n\n").data == "\ufffd("
    assert one(b"data: \xed\xa0\x80\n\n").data == "\ufffd\ufffd\ufffd"  # a surrogate
    assert one(b"data: \xf0\x9f\x98\n\n").data == "\ufffd"  # truncated, one maximal subpart


def test_multibyte_character_split_across_feeds() -> None:
    for char in ["\u00e9", "\u20ac", "\U0001f600"]:
        stream = f"data: <{char}>\n\n".encode()
        for cut in range(len(stream) + 1):
            assert decode([stream[:cut], stream[cut:]]) == [ev(f"<{char}>")], (char, cut)
        assert decode([bytes([b]) for b in stream]) == [ev(f"<{char}>")]


def test_truncated_utf8_at_close_is_discarded_quietly() -> None:
    assert decode([b"data: a\n\ndata: \xe2\x82"]) == [ev("a")]


def test_nul_in_data_is_kept() -> None:
    assert one(b"data: a\x00b\n\n").data == "a\x00b"


def test_empty_feed_is_harmless() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(b"data: a\n\n") == [ev("a")]
    assert decoder.feed(b"") == []


def test_bytes_like_input_accepted() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(bytearray(b"data: \xc3")) == []
    assert decoder.feed(memoryview(b"\xa9\n\n")) == [ev("\u00e9")]


def test_events_returned_as_soon_as_complete() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\ndata: b\n\ndata: c") == [ev("a"), ev("b")]
    assert decoder.feed(b"\n\n") == [ev("c")]


def test_long_line_in_many_feeds() -> None:
    payload = b"x" * (1 << 20)
    stream = b"data: " + payload + b"\n\n"
    chunks = [stream[i : i + 1024] for i in range(0, len(stream), 1024)]
    assert decode(chunks) == [ev(payload.decode())]


@pytest.mark.parametrize(
    "piece",
    [
        b"data: a\n\n",
        b"data: a\r\n\r\n",
        b"data: a\r\r",
        b"data:a\n\n",
        b"data:  a\n\n",
        b"data: a\ndata: b\n\n",
        b"data: a\n\ndata: b\n\n",
        b"data: a\n\n\n\ndata: b\n\n",
        b"data: a\n\nevent: x\ndata: b\n\ndata: c\n\n",
        b"data: a\n\nid: 9\n\ndata: b\n\n",
        b"data: a\n\ndata: b\n\n\xc3",
        b"data: a\r\n\n",
        b"data: a\n\r\n",
        b"\n\n",
        b"event: x\n\n",
        b": ping\n\n",
        "data: a\u2028\n\n".encode(),
        b"data: \n\n",
    ],
)
def test_whole_events_per_feed_match_reference(piece: bytes) -> None:
    # After a clean first event the decoder is idle, where feed() takes its fast
    # paths; every piece below must still follow the rules.
    prefix = b"id: 1\ndata: first\n\n"
    pieces = [prefix, piece, piece, b"data: last\n\n"]
    assert decode_outcome(pieces) == reference_decode(b"".join(pieces))


def test_fast_path_after_pending_event_state() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\n") == [ev("a")]
    assert decoder.feed(b"event: x\n") == []
    assert decoder.feed(b"data: b\n\n") == [ev("b", event="x")]
    assert decoder.feed(b"retry: 5\n") == []
    assert decoder.feed(b"data: c\n\n") == [ev("c", retry=5)]
    assert decoder.feed(b"data: d\n") == []
    assert decoder.feed(b"data: e\n\n") == [ev("d\ne")]
    assert decoder.feed(b"data: f\r") == []
    assert decoder.feed(b"\ndata: g\n\n") == [ev("f\ng")]


def test_fast_path_respects_max_event_bytes() -> None:
    decoder = SSEDecoder(max_event_bytes=20)
    assert decoder.feed(b"data: a\n\n") == [ev("a")]
    assert decoder.feed(b"data: " + b"x" * 14 + b"\n\n") == [ev("x" * 14)]
    with pytest.raises(EventTooLargeError):
        decoder.feed(b"data: " + b"x" * 15 + b"\n\n")
    decoder = SSEDecoder(max_event_bytes=20)
    assert decoder.feed(b"data: a\n\n") == [ev("a")]
    assert decoder.feed(b"data: b\n\ndata: " + b"x" * 15 + b"\n\n") == [ev("b")]
    with pytest.raises(EventTooLargeError):
        decoder.close()


# --------------------------------------------------------------------------------------
# max_event_bytes
# --------------------------------------------------------------------------------------


def test_default_limit_is_16_mib() -> None:
    assert DEFAULT_MAX_EVENT_BYTES == 16 * 1024 * 1024


def test_event_too_large_is_a_stream_error() -> None:
    err = EventTooLargeError(10)
    assert isinstance(err, StreamError)
    assert err.limit == 10


def test_max_event_bytes_raises_on_one_big_line_as_soon_as_passed() -> None:
    limit = 10_000
    decoder = SSEDecoder(max_event_bytes=limit)
    decoder.feed(b"data: ")
    fed = 6
    with pytest.raises(EventTooLargeError) as info:
        while True:
            fed += 1000
            decoder.feed(b"x" * 1000)
    assert info.value.limit == limit
    assert limit < fed <= limit + 1000


def test_max_event_bytes_raises_on_many_data_lines() -> None:
    decoder = SSEDecoder(max_event_bytes=10_000)
    with pytest.raises(EventTooLargeError):
        for _ in range(2_000):
            decoder.feed(b"data: xxxxxxxx\n")


def test_max_event_bytes_raises_within_one_feed() -> None:
    with pytest.raises(EventTooLargeError):
        SSEDecoder(max_event_bytes=1000).feed(b"data: xxxx\n" * 200 + b"\n")


def test_max_event_bytes_counts_utf8_bytes() -> None:
    # "data: " + 2 x 2 bytes = 10 bytes: fits in 10, not in 9.
    assert decode([b"data: \xc3\xa9\xc3\xa9\n\n"], max_event_bytes=10) == [ev("\u00e9\u00e9")]
    with pytest.raises(EventTooLargeError):
        decode([b"data: \xc3\xa9\xc3\xa9\n\n"], max_event_bytes=9)


def test_max_event_bytes_exact_fit_allowed() -> None:
    # The line is 10 bytes; the data buffer then holds "a" * 4 + LF = 5.
    assert decode([b"data: aaaa\n\n"], max_event_bytes=10) == [ev("aaaa")]
    with pytest.raises(EventTooLargeError):
        decode([b"data: aaaa\n\n"], max_event_bytes=9)


def test_max_event_bytes_not_raised_by_many_small_events() -> None:
    stream = b"data: " + b"y" * 94 + b"\n\n"  # 102 bytes per event
    events = decode([stream * 5_000], max_event_bytes=200)
    assert len(events) == 5_000
    events = decode([stream] * 5_000, max_event_bytes=200)
    assert len(events) == 5_000


def test_max_event_bytes_not_raised_by_a_long_comment_spread_over_lines() -> None:
    assert decode([b": c\n" * 10_000 + b"data: a\n\n"], max_event_bytes=100) == [ev("a")]


def test_events_before_the_oversized_one_are_delivered_first() -> None:
    decoder = SSEDecoder(max_event_bytes=50)
    assert decoder.feed(b"data: a\n\ndata: " + b"x" * 100) == [ev("a")]
    with pytest.raises(EventTooLargeError):
        decoder.feed(b"more\n\n")
    with pytest.raises(EventTooLargeError):
        decoder.close()


def test_deferred_error_raised_by_close() -> None:
    decoder = SSEDecoder(max_event_bytes=50)
    assert decoder.feed(b"data: a\n\ndata: " + b"x" * 100 + b"\n\n") == [ev("a")]
    with pytest.raises(EventTooLargeError):
        decoder.close()


@pytest.mark.parametrize("limit", [0, -1])
def test_invalid_limit_rejected(limit: int) -> None:
    with pytest.raises(ValueError):
        SSEDecoder(max_event_bytes=limit)


# --------------------------------------------------------------------------------------
# ServerSentEvent
# --------------------------------------------------------------------------------------


def test_server_sent_event_defaults_and_value_semantics() -> None:
    e = ServerSentEvent()
    assert (e.event, e.data, e.id, e.retry) == ("message", "", None, None)
    assert ServerSentEvent("x", "d", "1", 5) == ServerSentEvent(
        event="x", data="d", id="1", retry=5
    )
    assert ServerSentEvent(data="a") != ServerSentEvent(data="b")
    assert ServerSentEvent(data="a") != ("message", "a", None, None)
    assert len({ServerSentEvent(data="a"), ServerSentEvent(data="a")}) == 1
    assert repr(ServerSentEvent(data="a")) == (
        "ServerSentEvent(event='message', data='a', id=None, retry=None)"
    )
    match ServerSentEvent("x", "d"):
        case ServerSentEvent(event, data):
            assert (event, data) == ("x", "d")
    with pytest.raises(AttributeError):
        ServerSentEvent().other = 1  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------
# Every split of representative streams gives the one-shot events
# --------------------------------------------------------------------------------------

REPRESENTATIVE = [
    b"data: hello\n\n",
    BOM + b"data: a\r\n\r\n",
    b"data: a\rdata: b\r\r",
    b"event: e\r\nid: 1\r\nretry: 5\r\ndata: x\r\n\r\n",
    b": c\n\ndata\n\ndata:\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n\n",
    b"data: \xff\xfe\xed\xa0\x80 \xf0\x9f\x98\r\n\n\r",
    "id: \u2028\ndata: a\u2028b\u0085c\n\nevent\ndata: z\r\n".encode(),
    b"\r\n\r\n\n\r\r\ndata: q\n\r\n",
    BOM + BOM + b"data: x\n\ndata: y\n\n",
    b'data: {"id":"chatcmpl-1","choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n',
]


@pytest.mark.parametrize("stream", REPRESENTATIVE)
def test_every_two_way_split_matches_one_shot(stream: bytes) -> None:
    expected = decode([stream])
    for cut in range(len(stream) + 1):
        assert decode(split_at(stream, [cut])) == expected, cut


@pytest.mark.parametrize("stream", [s for s in REPRESENTATIVE if len(s) <= 60])
def test_every_three_way_split_matches_one_shot(stream: bytes) -> None:
    expected = decode([stream])
    for a in range(len(stream) + 1):
        for b in range(a, len(stream) + 1):
            assert decode(split_at(stream, [a, b])) == expected, (a, b)


@pytest.mark.parametrize("stream", REPRESENTATIVE)
def test_byte_by_byte_matches_one_shot(stream: bytes) -> None:
    assert decode([bytes([b]) for b in stream]) == decode([stream])


@pytest.mark.parametrize("stream", REPRESENTATIVE)
def test_representative_streams_match_reference(stream: bytes) -> None:
    assert decode_outcome([stream]) == reference_decode(stream)


# --------------------------------------------------------------------------------------
# Hypothesis: arbitrary bytes, structured streams, any partition
# --------------------------------------------------------------------------------------

_FIELD_NAMES = [
    "data",
    "data",
    "data",
    "event",
    "id",
    "retry",
    "",
    "foo",
    "Data",
    " data",
    "\ufeff",
]
_VALUE_CHARS = st.sampled_from(
    [*'ab :0123456789+_-é€😀\u2028\u0085\x00\ufeff\ufffd{}"\t', "\u0663", "\uff15"]
)
_LINE_ENDS = st.sampled_from(["\n", "\r", "\r\n"])


@st.composite
def sse_lines(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["field", "field", "field", "bare", "comment", "blank"]))
    if kind == "blank":
        return ""
    value = draw(st.text(_VALUE_CHARS, max_size=12))
    if kind == "comment":
        return ":" + value
    name = draw(st.sampled_from(_FIELD_NAMES))
    if kind == "bare":
        return name
    return name + ":" + draw(st.sampled_from(["", " ", "  "])) + value


@st.composite
def sse_streams(draw: st.DrawFn) -> bytes:
    parts = []
    for line in draw(st.lists(sse_lines(), max_size=20)):
        parts.append(line + draw(_LINE_ENDS))
    text = "".join(parts)
    if draw(st.booleans()):
        text += draw(sse_lines())  # maybe an unterminated last line
    raw = text.encode("utf-8")
    if draw(st.booleans()):
        raw = BOM + raw
    if draw(st.integers(0, 4)) == 0:
        # Sprinkle some malformed UTF-8.
        pos = draw(st.integers(0, len(raw)))
        raw = (
            raw[:pos]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80"]))
            + raw[pos:]
        )
    return raw


@st.composite
def partitions(draw: st.DrawFn, stream: bytes) -> list[bytes]:
    cuts = draw(st.lists(st.integers(0, len(stream)), max_size=min(len(stream) + 1, 30)))
    return split_at(stream, cuts)


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(st.binary(max_size=300), st.data())
def test_arbitrary_bytes_any_partition_same_events(stream: bytes, data: st.DataObject) -> None:
    chunks = data.draw(partitions(stream))
    assert decode(chunks) == decode([stream])


@_SETTINGS
@given(sse_streams(), st.data())
def test_structured_stream_any_partition_same_events(stream: bytes, data: st.DataObject) -> None:
    chunks = data.draw(partitions(stream))
    assert decode(chunks) == decode([stream])


def _cuts_after(stream: bytes, separator: bytes) -> list[int]:
    return [m.end() for m in re.finditer(re.escape(separator), stream)]


@_SETTINGS
@given(sse_streams(), st.integers(8, 80))
def test_line_and_event_aligned_feeds_match_reference(stream: bytes, limit: int) -> None:
    # Feeds that end exactly at line ends or blank lines exercise the fast paths.
    for separator in [b"\n", b"\n\n", b"\r", b"\r\n"]:
        chunks = split_at(stream, _cuts_after(stream, separator))
        assert decode_outcome(chunks) == reference_decode(stream)
        assert decode_outcome(chunks, max_event_bytes=limit) == reference_decode(stream, limit)


@_SETTINGS
@given(sse_streams(), st.integers(1, 80), st.data())
def test_small_limit_any_partition_same_outcome(
    stream: bytes, limit: int, data: st.DataObject
) -> None:
    # Only EventTooLargeError may escape, and the events delivered before it, as well
    # as whether it is raised at all, do not depend on the partition.
    chunks = data.draw(partitions(stream))
    assert decode_outcome(chunks, max_event_bytes=limit) == decode_outcome(
        [stream], max_event_bytes=limit
    )


@_SETTINGS
@given(sse_streams(), st.data())
def test_structured_stream_matches_reference(stream: bytes, data: st.DataObject) -> None:
    chunks = data.draw(partitions(stream))
    assert decode_outcome(chunks) == reference_decode(stream)


@_SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes_match_reference(stream: bytes) -> None:
    assert decode_outcome([stream]) == reference_decode(stream)


@_SETTINGS
@given(sse_streams(), st.integers(1, 80), st.data())
def test_small_limit_matches_reference(stream: bytes, limit: int, data: st.DataObject) -> None:
    chunks = data.draw(partitions(stream))
    assert decode_outcome(chunks, max_event_bytes=limit) == reference_decode(stream, limit)
