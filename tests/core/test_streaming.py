"""Tests of :mod:`edgee._streaming`: bytes -> chunks (ChunkParser), chunks -> response.

The parser is checked on every way a stream can end, on every error it must
raise, and on every 2-way split of representative streams (the outcome must
not depend on how the bytes arrive). The accumulator is checked on the shapes
providers really send: interleaved choices, interleaved parallel tool calls,
missing, repeated and non-zero-based tool-call indexes, usage on a chunk with
empty ``choices``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest
from streamhelp import chunk, feed, finish

from edgee._streaming import DONE as DONE_EVENT
from edgee._streaming import NEED_DATA, ChunkParser, StreamAccumulator
from edgee.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ChunkDecodeError,
    EdgeeError,
    IncompleteStreamError,
    StreamAPIError,
    StreamError,
)
from edgee.models import Compression, Role, SendResponse, StreamChunk, Usage

# --- helpers ----------------------------------------------------------------------


def data(payload: Any) -> bytes:
    """One ``data:`` event; dicts are JSON-encoded, strings sent as they are."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {text}\n\n".encode()


def sse(*events: Any) -> bytes:
    """A stream: dicts and strings become data events, bytes are sent verbatim."""
    return b"".join(e if isinstance(e, bytes) else data(e) for e in events)


DONE = b"data: [DONE]\n\n"


def parse(pieces: Iterable[bytes], **kwargs: Any) -> tuple[list[StreamChunk], ChunkParser]:
    """Feed every piece, then close; return the chunks and the parser."""
    parser = ChunkParser(**kwargs)
    chunks: list[StreamChunk] = []
    for piece in pieces:
        chunks.extend(feed(parser, piece))
    chunks.extend(finish(parser))
    return chunks, parser


def outcome(pieces: Iterable[bytes]) -> tuple[list[dict[str, Any]], tuple[Any, ...] | None]:
    """Chunks delivered (as dicts) and the error that ended the stream, comparable."""
    parser = ChunkParser()
    chunks: list[dict[str, Any]] = []
    error: tuple[Any, ...] | None = None
    try:
        for piece in pieces:
            chunks.extend(c.to_dict() for c in feed(parser, piece))
        chunks.extend(c.to_dict() for c in finish(parser))
    except StreamError as exc:
        error = (
            type(exc),
            str(exc),
            getattr(exc, "chunks_received", None),
            getattr(exc, "raw", None),
            getattr(exc, "data", None),
        )
    return chunks, error


def texts(chunks: list[StreamChunk]) -> list[str | None]:
    return [c.text for c in chunks]


HELLO_STREAM = sse(
    chunk(role="assistant", content=""),
    chunk("Hello"),
    chunk(", world"),
    chunk(finish="stop"),
)


# --- endings ----------------------------------------------------------------------


def test_done_ends_the_stream() -> None:
    chunks, parser = parse([HELLO_STREAM + DONE])
    assert texts(chunks) == [None, "Hello", ", world", None]
    assert chunks[0].role == Role.assistant
    assert chunks[-1].finish_reason == "stop"
    assert parser.done is True
    assert parser.chunks_received == 4


def test_done_is_enough_even_mid_choice() -> None:
    # [DONE] is the server saying "finished", whatever the finish reasons were.
    chunks, parser = parse([sse(chunk("partial")) + DONE])
    assert texts(chunks) == ["partial"]
    assert parser.done


def test_done_with_no_chunks_is_a_valid_empty_stream() -> None:
    chunks, parser = parse([DONE])
    assert chunks == []
    assert parser.done
    assert parser.chunks_received == 0


def test_input_after_done_is_ignored() -> None:
    after = b'data: {"not json\n\nevent: error\ndata: {"error": {"message": "late"}}\n\n'
    chunks, parser = parse([HELLO_STREAM + DONE + sse(chunk("extra")) + after])
    assert texts(chunks) == [None, "Hello", ", world", None]
    # ... also when it comes in later feeds.
    parser = ChunkParser()
    assert len(feed(parser, HELLO_STREAM + DONE)) == 4
    assert feed(parser, sse(chunk("extra"))) == []
    assert feed(parser, after) == []
    assert finish(parser) == []
    assert parser.chunks_received == 4


def test_eof_after_every_choice_finished_is_not_an_error() -> None:
    chunks, parser = parse([HELLO_STREAM])
    assert len(chunks) == 4
    assert not parser.done
    two = sse(chunk("a", index=0), chunk("b", index=1), chunk(finish="stop", index=1))
    two += sse(chunk(finish="length", index=0))
    chunks, _ = parse([two])
    assert len(chunks) == 4


def test_eof_after_finish_then_usage_chunk_is_not_an_error() -> None:
    usage = {"id": "chatcmpl-1", "choices": [], "usage": {"prompt_tokens": 3}}
    chunks, _ = parse([HELLO_STREAM + sse(usage)])
    assert chunks[-1].usage == Usage(prompt_tokens=3)


def test_unknown_finish_reason_counts_as_finished() -> None:
    chunks, _ = parse([sse(chunk("x"), chunk(finish="some_new_reason"))])
    assert chunks[-1].finish_reason == "some_new_reason"


def test_eof_mid_choice_is_incomplete() -> None:
    parser = ChunkParser(request_id="req-42")
    delivered = feed(parser, sse(chunk(role="assistant"), chunk("Hel"), chunk("lo")))
    assert len(delivered) == 3
    with pytest.raises(IncompleteStreamError) as info:
        finish(parser)
    err = info.value
    assert err.chunks_received == 3
    assert err.request_id == "req-42"
    assert "3" in str(err)
    assert isinstance(err, StreamError)
    assert isinstance(err, APIError)
    assert isinstance(err, EdgeeError)


def test_eof_when_one_of_two_choices_is_unfinished() -> None:
    stream = sse(chunk("a", index=0), chunk("b", index=1), chunk(finish="stop", index=0))
    with pytest.raises(IncompleteStreamError) as info:
        parse([stream])
    assert info.value.chunks_received == 3


@pytest.mark.parametrize(
    "stream",
    [b"", b": keep-alive\n\n", b"event: ping\ndata: {}\n\n", b"retry: 1000\n\n"],
    ids=["empty", "comment", "ping", "retry"],
)
def test_eof_with_zero_chunks_is_incomplete(stream: bytes) -> None:
    with pytest.raises(IncompleteStreamError) as info:
        parse([stream])
    assert info.value.chunks_received == 0


def test_unterminated_last_event_is_discarded() -> None:
    # The finishing chunk lacks its blank line: it never completed, so the choice did not finish.
    stream = sse(chunk("Hello")) + b'data: {"choices":[{"index":0,"finish_reason":"stop"}]}\n'
    with pytest.raises(IncompleteStreamError) as info:
        parse([stream])
    assert info.value.chunks_received == 1


def test_close_is_not_needed_after_done_and_is_idempotent() -> None:
    parser = ChunkParser()
    feed(parser, HELLO_STREAM + DONE)
    assert finish(parser) == []
    assert finish(parser) == []


# --- errors inside the stream ---------------------------------------------------------

ERROR_PAYLOAD = {
    "error": {
        "message": "upstream provider overloaded",
        "type": "server_error",
        "code": "provider_overloaded",
        "param": None,
    }
}


def test_error_object_mid_stream() -> None:
    raw = json.dumps(ERROR_PAYLOAD)
    parser = ChunkParser(request_id="req-7")
    assert texts(feed(parser, sse(chunk("Hel")))) == ["Hel"]
    with pytest.raises(StreamAPIError) as info:
        feed(parser, sse(raw))
    err = info.value
    assert err.message == "upstream provider overloaded"
    assert "upstream provider overloaded" in str(err)
    assert err.code == "provider_overloaded"
    assert err.type == "server_error"
    assert err.param is None
    assert err.data == raw
    assert err.body == ERROR_PAYLOAD
    assert err.request_id == "req-7"
    assert isinstance(err, StreamError)


def test_error_event_with_json() -> None:
    raw = json.dumps({"error": {"message": "rate limited", "type": "rate_limit", "code": 429}})
    with pytest.raises(StreamAPIError) as info:
        parse([sse(chunk("a")), b"event: error\ndata: " + raw.encode() + b"\n\n"])
    err = info.value
    assert err.message == "rate limited"
    assert err.code == "429"
    assert err.type == "rate_limit"
    assert err.data == raw


def test_error_event_with_plain_text() -> None:
    with pytest.raises(StreamAPIError) as info:
        parse([b"event: error\ndata: the provider went away\n\n"])
    assert info.value.data == "the provider went away"
    assert "the provider went away" in str(info.value)
    assert info.value.code is None


def test_error_event_with_a_string_error() -> None:
    with pytest.raises(StreamAPIError) as info:
        parse([sse({"error": "quota exceeded"})])
    assert info.value.message == "quota exceeded"


def test_a_chunk_with_choices_and_an_error_field_is_a_chunk() -> None:
    chunks, _ = parse([sse({"choices": [], "error": None}) + DONE])
    assert len(chunks) == 1
    assert chunks[0].to_dict()["error"] is None


def test_malformed_json_is_a_chunk_decode_error() -> None:
    bad = '{"id": "x", "choices": [{"delta": {"content": "He'
    parser = ChunkParser(request_id="req-9")
    feed(parser, sse(chunk("a")))
    with pytest.raises(ChunkDecodeError) as info:
        feed(parser, sse(bad))
    assert info.value.raw == bad
    assert info.value.request_id == "req-9"
    assert isinstance(info.value, StreamError)


@pytest.mark.parametrize(
    "raw",
    [
        '{"choices": "x"}',
        '{"choices": ""}',
        '{"choices": {}}',
        '{"choices": null}',
        '{"choices": [1]}',
        '{"choices": [{"index": "first"}]}',
        '{"choices": [{"delta": "hi"}]}',
        "[1,2]",
        '"just a string"',
        "42",
        "null",
        "true",
        "",
        "data",
        "[DONE ]",
        "[" * 100_000,
    ],
    ids=lambda raw: raw[:20],
)
def test_payloads_that_are_not_chunks(raw: str) -> None:
    with pytest.raises(ChunkDecodeError) as info:
        parse([sse(raw)])
    assert info.value.raw == raw


def test_unknown_events_and_comments_are_ignored() -> None:
    stream = (
        b": this is a comment\n\n"
        b"event: ping\ndata: {}\n\n"
        b'event: metadata\ndata: {"provider": "openai"}\n\n'
        b"event: surprise\ndata: not json at all\n\n"
        + sse(chunk("Hi"))
        + b": keep-alive\n\n"
        + b"id: 7\nretry: 3000\n"
        + data(chunk(finish="stop"))
        + b"event: message\n"
        + DONE
    )
    chunks, parser = parse([stream])
    assert texts(chunks) == ["Hi", None]
    assert parser.done
    assert parser.chunks_received == 2


def test_explicit_message_event_is_a_chunk() -> None:
    chunks, _ = parse([b"event: message\n" + data(chunk("x", finish="stop"))])
    assert texts(chunks) == ["x"]


def test_json_split_over_data_lines_and_crlf() -> None:
    stream = (
        b'data: {"choices":[{"index":0,\r\ndata: "delta":{"content":"multi"},'
        b'"finish_reason":"stop"}]}\r\n\r\n'
        b"data: [DONE]\r\n\r\n"
    )
    chunks, parser = parse([stream])
    assert texts(chunks) == ["multi"]
    assert parser.done


def test_unknown_fields_are_kept() -> None:
    payload = chunk("x", finish="stop", system_fingerprint="fp_1", provider="openai")
    payload["choices"][0]["logprobs"] = None
    chunks, _ = parse([sse(payload)])
    assert chunks[0].extra == {"system_fingerprint": "fp_1", "provider": "openai"}
    assert chunks[0].to_dict()["choices"][0]["logprobs"] is None


def test_chunks_before_an_error_in_the_same_piece_are_delivered_first() -> None:
    parser = ChunkParser()
    delivered = feed(parser, sse(chunk("a"), chunk("b"), ERROR_PAYLOAD, chunk("c")))
    assert texts(delivered) == ["a", "b"]
    with pytest.raises(StreamAPIError):
        feed(parser, b"")
    parser = ChunkParser()
    assert texts(feed(parser, sse(chunk("a"), "{bad json"))) == ["a"]
    with pytest.raises(ChunkDecodeError) as info:
        finish(parser)
    assert info.value.raw == "{bad json"


def test_next_event_says_need_data_then_raises_a_held_back_error_after_its_chunks() -> None:
    parser = ChunkParser()
    assert parser.next_event() is NEED_DATA  # nothing yet: no error
    parser.receive_data(sse(chunk("a"), ERROR_PAYLOAD, chunk("b")))
    assert texts([parser.next_event()]) == ["a"]  # type: ignore[list-item]
    with pytest.raises(StreamAPIError) as first:
        parser.next_event()
    with pytest.raises(StreamAPIError) as again:  # sticky: the stream stays failed
        parser.next_event()
    assert again.value is first.value
    parser.receive_data(sse(chunk("c")))  # ignored once failed
    with pytest.raises(StreamAPIError):
        parser.next_event()


def test_next_event_says_done_for_ever_after_done() -> None:
    parser = ChunkParser()
    parser.receive_data(HELLO_STREAM + DONE)
    events = [parser.next_event() for _ in range(6)]
    assert events[4:] == [DONE_EVENT, DONE_EVENT]
    parser.receive_data(b"")
    assert parser.next_event() is DONE_EVENT


def test_a_timeout_is_raised_as_it_is() -> None:
    parser = ChunkParser(request_id="req-t")
    parser.receive_data(sse(chunk("a")))
    timeout = APITimeoutError("Request timed out: ReadTimeout")
    parser.connection_lost(timeout)
    assert texts([parser.next_event()]) == ["a"]  # type: ignore[list-item]
    with pytest.raises(APITimeoutError) as info:
        parser.next_event()
    assert info.value is timeout
    assert timeout.request_id == "req-t"


def lose(parser: ChunkParser, cause: BaseException) -> list[StreamChunk]:
    parser.connection_lost(cause)
    return feed(parser, b"")


def test_connection_lost_mid_choice_names_the_cause() -> None:
    parser = ChunkParser(request_id="req-1")
    feed(parser, sse(chunk("a"), chunk("b")))
    cause = ConnectionResetError("peer reset")
    with pytest.raises(IncompleteStreamError) as info:
        lose(parser, cause)
    err = info.value
    assert err.chunks_received == 2
    assert err.__cause__ is cause
    assert "connection lost: peer reset" in str(err)
    assert "connection lost: peer reset" in err.message
    assert err.request_id == "req-1"


def test_connection_lost_after_every_choice_finished_is_not_an_error() -> None:
    parser = ChunkParser()
    feed(parser, HELLO_STREAM)
    assert lose(parser, ConnectionResetError()) == []
    assert parser.next_event() is DONE_EVENT


def test_connection_lost_raises_a_held_back_error_first() -> None:
    parser = ChunkParser()
    feed(parser, sse(chunk("a"), "{bad"))
    with pytest.raises(ChunkDecodeError):
        lose(parser, ConnectionResetError())


def test_connection_lost_names_the_cause_an_api_connection_error_wraps() -> None:
    parser = ChunkParser()
    feed(parser, sse(chunk("a")))
    cause = ConnectionResetError("peer reset")
    mapped = APIConnectionError("Connection error: reset")
    mapped.__cause__ = cause
    with pytest.raises(IncompleteStreamError) as info:
        lose(parser, mapped)
    assert info.value.__cause__ is cause
    assert "connection lost: peer reset" in str(info.value)


def test_event_larger_than_the_limit() -> None:
    parser = ChunkParser(request_id="req-big", max_event_bytes=1024)
    with pytest.raises(StreamError) as info:
        feed(parser, b"data: " + b"x" * 2048 + b"\n\n")
    assert info.value.request_id == "req-big"


# --- every 2-way split ----------------------------------------------------------------

TOOL_STREAM = sse(
    chunk(role="assistant", index=0),
    chunk(role="assistant", index=1),
    chunk(
        index=0,
        tool_calls=[{"index": 0, "id": "call_a", "type": "function", "function": {"name": "f"}}],
    ),
    chunk("deux", index=1),
    chunk(index=0, tool_calls=[{"index": 0, "function": {"arguments": '{"q": "é"}'}}]),
    chunk(finish="stop", index=1),
    chunk(finish="tool_calls", index=0),
    {"id": "chatcmpl-1", "choices": [], "usage": {"prompt_tokens": 9, "total_tokens": 20}},
)

SPLIT_STREAMS = {
    "done": HELLO_STREAM + DONE + b"trailing garbage",
    "eof-finished": HELLO_STREAM,
    "n2-tools": TOOL_STREAM + DONE,
    "unicode": sse(chunk("héllo ☃ "), chunk("🙂\u2028中文", finish="stop")) + DONE,
    "noise-crlf": (
        b"\xef\xbb\xbf: hello\r\n\r\nevent: ping\r\ndata: {}\r\n\r\n"
        + sse(chunk("a")).replace(b"\n", b"\r\n")
        + sse(chunk(finish="stop")).replace(b"\n", b"\r")
        + DONE
    ),
    "eof-mid-choice": sse(chunk("a"), chunk("b")),
    "error-object": sse(chunk("a"), chunk("b"), ERROR_PAYLOAD, chunk("c")),
    "error-event": sse(chunk("a")) + b"event: error\ndata: boom\n\n" + sse(chunk("b")),
    "malformed": sse(chunk("a"), '{"choices": [', chunk("b")),
    "not-a-chunk": sse(chunk("a"), '{"choices": "x"}'),
}


@pytest.mark.parametrize("name", list(SPLIT_STREAMS))
def test_every_two_way_split_gives_the_same_outcome(name: str) -> None:
    stream = SPLIT_STREAMS[name]
    expected = outcome([stream])
    assert expected[0], "every stream delivers some chunks"
    for cut in range(len(stream) + 1):
        assert outcome([stream[:cut], stream[cut:]]) == expected, f"cut at byte {cut}"


def test_byte_by_byte_feeding() -> None:
    stream = SPLIT_STREAMS["n2-tools"]
    assert outcome([stream[i : i + 1] for i in range(len(stream))]) == outcome([stream])


def test_split_outcomes_are_what_they_should_be() -> None:
    chunks, error = outcome([SPLIT_STREAMS["error-object"]])
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["a", "b"]
    assert error is not None and error[0] is StreamAPIError
    chunks, error = outcome([SPLIT_STREAMS["eof-mid-choice"]])
    assert error is not None and error[0] is IncompleteStreamError and error[2] == 2
    chunks, error = outcome([SPLIT_STREAMS["unicode"]])
    assert error is None
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == (
        "héllo ☃ 🙂\u2028中文"
    )


# --- StreamAccumulator ------------------------------------------------------------------


def accumulate(payloads: Iterable[dict[str, Any]]) -> SendResponse:
    acc = StreamAccumulator()
    for payload in payloads:
        acc.add(StreamChunk.from_dict(payload))
    return acc.response()


def call(
    index: int | None = None,
    id: str | None = None,
    name: str | None = None,
    arguments: str | None = None,
    type: str | None = None,
) -> dict[str, Any]:
    """One tool-call fragment as a provider sends it."""
    fragment: dict[str, Any] = {}
    if index is not None:
        fragment["index"] = index
    if id is not None:
        fragment["id"] = id
    if type is not None:
        fragment["type"] = type
    function: dict[str, Any] = {}
    if name is not None:
        function["name"] = name
    if arguments is not None:
        function["arguments"] = arguments
    if function:
        fragment["function"] = function
    return fragment


def tool_calls_of(response: SendResponse, choice: int = 0) -> list[tuple[str, str, str, str]]:
    calls = response.choices[choice].message.tool_calls or []
    return [(c.id, c.type, c.function.name, c.function.arguments) for c in calls]


def test_plain_text() -> None:
    response = accumulate(
        [
            chunk(role="assistant", content=""),
            chunk("Hello"),
            chunk(", "),
            chunk("world"),
            chunk(finish="stop"),
        ]
    )
    assert response.text == "Hello, world"
    assert response.finish_reason == "stop"
    assert response.id == "chatcmpl-1"
    assert response.object == "chat.completion"
    assert response.created == 1700000000
    assert response.model == "gpt-4o"
    assert response.tool_calls is None
    assert response.usage is None
    message = response.message
    assert message is not None
    assert message.role == Role.assistant
    assert message.content == "Hello, world"
    assert response.to_dict()["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello, world"},
            "finish_reason": "stop",
        }
    ]


def test_top_level_fields_come_from_the_first_chunk_that_has_them() -> None:
    response = accumulate(
        [
            {"choices": [{"index": 0, "delta": {"content": "a"}}]},
            chunk("b", id="chatcmpl-first", model="m1"),
            chunk("c", id="chatcmpl-second", model="m2", finish="stop"),
        ]
    )
    assert (response.id, response.model, response.text) == ("chatcmpl-first", "m1", "abc")


def test_two_choices_interleaved() -> None:
    response = accumulate(
        [
            chunk(role="assistant", content="", index=0),
            chunk(role="assistant", content="", index=1),
            chunk("The ", index=0),
            chunk("A ", index=1),
            chunk("cat", index=0),
            chunk("dog", index=1),
            chunk(finish="length", index=1),
            chunk(".", index=0),
            chunk(finish="stop", index=0),
        ]
    )
    assert [c.index for c in response.choices] == [0, 1]
    assert [c.message.content for c in response.choices] == ["The cat.", "A dog"]
    assert [c.finish_reason for c in response.choices] == ["stop", "length"]
    assert response.text == "The cat."


def test_choices_are_ordered_by_index() -> None:
    response = accumulate([chunk("second", index=1), chunk("first", index=0)])
    assert [(c.index, c.message.content) for c in response.choices] == [
        (0, "first"),
        (1, "second"),
    ]


def test_a_chunk_with_two_choices() -> None:
    payload = chunk("x")
    payload["choices"].append({"index": 1, "delta": {"content": "y"}, "finish_reason": None})
    response = accumulate([payload])
    assert [c.message.content for c in response.choices] == ["x", "y"]


def test_interleaved_parallel_tool_calls() -> None:
    response = accumulate(
        [
            chunk(role="assistant", tool_calls=[call(0, "call_w", "get_weather", "", "function")]),
            chunk(tool_calls=[call(1, "call_t", "get_time", "", "function")]),
            chunk(tool_calls=[call(0, arguments='{"ci')]),
            chunk(tool_calls=[call(1, arguments='{"tz"')]),
            chunk(tool_calls=[call(0, arguments='ty": "Par')]),
            chunk(tool_calls=[call(1, arguments=': "CET"}')]),
            chunk(tool_calls=[call(0, arguments='is"}')]),
            chunk(finish="tool_calls"),
        ]
    )
    assert tool_calls_of(response) == [
        ("call_w", "function", "get_weather", '{"city": "Paris"}'),
        ("call_t", "function", "get_time", '{"tz": "CET"}'),
    ]
    calls = response.tool_calls
    assert calls is not None
    assert calls[0].arguments_json() == {"city": "Paris"}
    assert calls[1]["function"]["name"] == "get_time"
    assert response.finish_reason == "tool_calls"
    assert response.message is not None
    assert response.message.content is None


def test_two_tool_calls_in_one_chunk() -> None:
    response = accumulate(
        [
            chunk(tool_calls=[call(0, "a", "f", "{}"), call(1, "b", "g", "[]")]),
            chunk(finish="tool_calls"),
        ]
    )
    assert tool_calls_of(response) == [("a", "function", "f", "{}"), ("b", "function", "g", "[]")]


def test_tool_calls_without_index() -> None:
    response = accumulate(
        [
            chunk(tool_calls=[call(id="call_1", name="search", arguments='{"q":')]),
            chunk(tool_calls=[call(arguments='"cats"}')]),
            chunk(tool_calls=[call(id="call_2", name="fetch", arguments="")]),
            chunk(tool_calls=[call(arguments='{"url":')]),
            chunk(tool_calls=[call(arguments='"x"}')]),
            chunk(finish="tool_calls"),
        ]
    )
    assert tool_calls_of(response) == [
        ("call_1", "function", "search", '{"q":"cats"}'),
        ("call_2", "function", "fetch", '{"url":"x"}'),
    ]


def test_tool_calls_without_index_repeating_their_id() -> None:
    response = accumulate(
        [
            chunk(tool_calls=[call(id="c1", name="f", arguments="{")]),
            chunk(tool_calls=[call(id="c1", arguments="}")]),
            chunk(tool_calls=[call(id="c2", name="g", arguments="[")]),
            chunk(tool_calls=[call(id="c2", arguments="]")]),
        ]
    )
    assert tool_calls_of(response) == [("c1", "function", "f", "{}"), ("c2", "function", "g", "[]")]


def test_tool_calls_all_numbered_zero_with_different_ids() -> None:
    response = accumulate(
        [
            chunk(tool_calls=[call(0, "call_a", "f", '{"x"')]),
            chunk(tool_calls=[call(0, arguments=": 1}")]),
            chunk(tool_calls=[call(0, "call_b", "g", '{"y"')]),
            chunk(tool_calls=[call(0, arguments=": 2}")]),
            chunk(tool_calls=[call(0, "call_c", "h", "{}")]),
            chunk(finish="tool_calls"),
        ]
    )
    assert tool_calls_of(response) == [
        ("call_a", "function", "f", '{"x": 1}'),
        ("call_b", "function", "g", '{"y": 2}'),
        ("call_c", "function", "h", "{}"),
    ]


def test_repeated_index_that_repeats_the_same_id_continues_the_call() -> None:
    response = accumulate(
        [
            chunk(tool_calls=[call(0, "call_a", "f", "{")]),
            chunk(tool_calls=[call(0, "call_a", arguments='"k"')]),
            chunk(tool_calls=[call(0, "call_b", "g", "[")]),
            chunk(tool_calls=[call(0, "call_a", arguments="}")]),
            chunk(tool_calls=[call(0, "call_b", arguments="]")]),
        ]
    )
    assert tool_calls_of(response) == [
        ("call_a", "function", "f", '{"k"}'),
        ("call_b", "function", "g", "[]"),
    ]


def test_non_zero_based_indexes() -> None:
    response = accumulate(
        [
            chunk(tool_calls=[call(1, "call_1", "f", "")]),
            chunk(tool_calls=[call(2, "call_2", "g", "")]),
            chunk(tool_calls=[call(1, arguments='{"a": 1}')]),
            chunk(tool_calls=[call(2, arguments='{"b": 2}')]),
            chunk(finish="tool_calls"),
        ]
    )
    assert tool_calls_of(response) == [
        ("call_1", "function", "f", '{"a": 1}'),
        ("call_2", "function", "g", '{"b": 2}'),
    ]


def test_tool_call_defaults_and_first_name_wins() -> None:
    response = accumulate(
        [
            chunk(tool_calls=[call(0, name="f", arguments="{")]),  # no id, no type
            chunk(tool_calls=[call(0, name="f", arguments="}")]),  # name repeated
        ]
    )
    assert tool_calls_of(response) == [("", "function", "f", "{}")]


def test_tool_calls_in_two_choices_are_kept_apart() -> None:
    response = accumulate(
        [
            chunk(index=0, tool_calls=[call(0, "a", "f", "{")]),
            chunk(index=1, tool_calls=[call(0, "b", "g", "[")]),
            chunk(index=0, tool_calls=[call(0, arguments="}")]),
            chunk(index=1, tool_calls=[call(0, arguments="]")]),
        ]
    )
    assert tool_calls_of(response, 0) == [("a", "function", "f", "{}")]
    assert tool_calls_of(response, 1) == [("b", "function", "g", "[]")]


def test_text_and_tool_calls_together() -> None:
    response = accumulate([chunk("Let me check. "), chunk(tool_calls=[call(0, "a", "f", "{}")])])
    assert response.text == "Let me check. "
    assert tool_calls_of(response) == [("a", "function", "f", "{}")]


def test_usage_and_compression_on_an_empty_choices_chunk() -> None:
    response = accumulate(
        [
            chunk("Hi", role="assistant"),
            chunk(finish="stop"),
            {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "choices": [],
                "usage": {
                    "prompt_tokens": 10,
                    "completion_tokens": 2,
                    "total_tokens": 12,
                    "input_tokens_details": {"cached_tokens": 4},
                },
                "compression": {
                    "saved_tokens": 30,
                    "cost_savings": 1500,
                    "reduction": 42.5,
                    "time_ms": 3,
                },
            },
        ]
    )
    assert response.text == "Hi"
    assert response.finish_reason == "stop"
    assert response.usage is not None
    assert response.usage.total_tokens == 12
    assert response.usage.input_tokens_details is not None
    assert response.usage.input_tokens_details.cached_tokens == 4
    assert response.compression == Compression(
        saved_tokens=30, cost_savings=1500, reduction=42.5, time_ms=3
    )
    assert isinstance(response.compression.reduction, float)
    assert len(response.choices) == 1


def test_usage_on_the_final_chunk_and_edgee_fields() -> None:
    response = accumulate(
        [
            chunk("a", usage={"total_tokens": 1}),
            chunk(
                finish="stop",
                usage={"total_tokens": 5},
                edgee_pending_id="pend-1",
                edgee_tools_executed=[{"name": "search"}],
            ),
        ]
    )
    assert response.usage == Usage(total_tokens=5)  # the latest one wins
    assert response.edgee_pending_id == "pend-1"
    assert response.edgee_tools_executed == [{"name": "search"}]


def test_refusal_text() -> None:
    response = accumulate(
        [
            chunk(role="assistant", refusal="I can't "),
            chunk(refusal="help with that."),
            chunk(finish="stop"),
        ]
    )
    message = response.message
    assert message is not None
    assert message.refusal == "I can't help with that."
    assert message.content == ""


def test_role_defaults_to_assistant() -> None:
    response = accumulate([chunk("no role here"), chunk(finish="stop")])
    assert response.message is not None
    assert response.message.role == Role.assistant
    assert response.to_dict()["choices"][0]["message"]["role"] == "assistant"


def test_first_role_wins() -> None:
    response = accumulate([chunk("x", role="assistant"), chunk("y", role="user")])
    assert response.message is not None
    assert response.message.role == Role.assistant


def test_finish_only_chunk_without_delta() -> None:
    response = accumulate([chunk("x"), {"choices": [{"index": 0, "finish_reason": "stop"}]}])
    assert (response.text, response.finish_reason) == ("x", "stop")


def test_empty_accumulator() -> None:
    response = StreamAccumulator().response()
    assert response.choices == []
    assert response.text is None
    assert response.object == "chat.completion"


def test_response_can_be_taken_mid_stream() -> None:
    acc = StreamAccumulator()
    acc.add(StreamChunk.from_dict(chunk("Hel")))
    assert acc.response().text == "Hel"
    acc.add(StreamChunk.from_dict(chunk("lo", finish="stop")))
    assert acc.response().text == "Hello"


def test_parser_and_accumulator_together_match_a_non_streaming_response() -> None:
    chunks, _ = parse([TOOL_STREAM + DONE])
    acc = StreamAccumulator()
    for c in chunks:
        acc.add(c)
    response = acc.response()
    expected = SendResponse.from_dict(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "gpt-4o",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "call_a",
                                "type": "function",
                                "function": {"name": "f", "arguments": '{"q": "é"}'},
                            }
                        ],
                    },
                    "finish_reason": "tool_calls",
                },
                {
                    "index": 1,
                    "message": {"role": "assistant", "content": "deux"},
                    "finish_reason": "stop",
                },
            ],
            "usage": {"prompt_tokens": 9, "total_tokens": 20},
        }
    )
    assert response.to_dict() == expected.to_dict()
