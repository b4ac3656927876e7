"""Typed stream events from chunks: deltas with what came so far, dones, the live snapshot."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
import streamhelp
from hypothesis import given, settings
from hypothesis import strategies as st

from edgee._events import (
    Done,
    EventBuilder,
    RefusalDelta,
    RefusalDone,
    TextDelta,
    TextDone,
    ToolCallArgumentsDelta,
    ToolCallDone,
    UsageEvent,
)
from edgee._partial_json import parse_partial_json
from edgee._streaming import DONE, NEED_DATA, ChunkParser, StreamAccumulator
from edgee._structured import ParsedResponse, structured_format
from edgee.errors import LengthFinishReasonError, OutputValidationError
from edgee.models import StreamChunk, Usage
from edgee.tools import tool


def chunk(
    *,
    content: str | None = None,
    refusal: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    finish: str | None = None,
    choice: int = 0,
    role: str | None = None,
    usage: dict[str, Any] | None = None,
) -> StreamChunk:
    data = streamhelp.chunk(
        content,
        index=choice,
        role=role,
        finish=finish,
        tool_calls=tool_calls,
        refusal=refusal,
        created=1,
        model="openai/gpt-4o",
    )
    if usage is not None:
        data["usage"] = usage
    return StreamChunk.from_dict(data)


def run(chunks: list[StreamChunk], **options: Any) -> tuple[list[Any], StreamAccumulator]:
    """The events of ``chunks``, the way a client computes them (its accumulator shared)."""
    accumulator = StreamAccumulator()
    builder = EventBuilder(accumulator, **options)
    events: list[Any] = []
    for c in chunks:
        accumulator.add(c)
        events.extend(builder.feed(c))
    events.extend(builder.finish())
    return events, accumulator


def test_text_events_carry_the_text_so_far() -> None:
    chunks = [
        chunk(role="assistant", content=""),
        chunk(content="Hel"),
        chunk(content="lo"),
        chunk(content=" world", finish="stop"),
        StreamChunk.from_dict({"choices": [], "usage": {"total_tokens": 9}}),
    ]
    events, accumulator = run(chunks)
    assert [type(e) for e in events] == [
        TextDelta,
        TextDelta,
        TextDelta,
        TextDone,
        UsageEvent,
        Done,
    ]
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert [(d.delta, d.snapshot) for d in deltas] == [
        ("Hel", "Hel"),
        ("lo", "Hello"),
        (" world", "Hello world"),
    ]
    assert events[3] == TextDone("Hello world", 0)
    assert events[4] == UsageEvent(Usage(total_tokens=9))
    done = events[-1]
    assert done.response == accumulator.response() and done.parsed is None
    assert done.response.text == "Hello world"
    assert [e.type for e in events[:2]] == ["text.delta", "text.delta"]


def test_snapshot_is_the_response_so_far() -> None:
    builder = EventBuilder()  # its own accumulator
    builder.feed(chunk(content="Hi"))
    assert builder.snapshot.text == "Hi" and builder.snapshot.finish_reason is None
    builder.feed(chunk(content=" there", finish="stop"))
    assert builder.snapshot.text == "Hi there" and builder.snapshot.finish_reason == "stop"
    assert [type(e) for e in builder.finish()] == [Done]
    assert list(builder.finish()) == []  # once


@attrs.define
class City:
    name: str
    population: int


def test_structured_text_deltas_carry_partial_objects() -> None:
    pieces = ['{"na', 'me": "Par', 'is", "popu', 'lation": 21', "00000}"]
    chunks = [chunk(content=p) for p in pieces] + [chunk(finish="stop")]
    events, _ = run(chunks, format=structured_format(City))
    partials = [e.partial for e in events if isinstance(e, TextDelta)]
    assert partials == [
        {},
        {"name": "Par"},
        {"name": "Paris"},
        City("Paris", 21),  # fits City already: the number so far
        City("Paris", 2100000),
    ]
    done = events[-1]
    assert isinstance(done, Done) and isinstance(done.response, ParsedResponse)
    assert done.parsed == City("Paris", 2100000) == done.response.parsed


def test_refusal_events() -> None:
    chunks = [chunk(refusal="I can"), chunk(refusal="not."), chunk(finish="stop")]
    events, _ = run(chunks, format=structured_format(City))
    assert [type(e) for e in events] == [RefusalDelta, RefusalDelta, RefusalDone, Done]
    assert events[1].snapshot == "I cannot." and events[1].delta == "not."
    assert events[2] == RefusalDone("I cannot.", 0)
    assert events[-1].parsed is None and events[-1].response.refusal == "I cannot."


def test_a_structured_answer_cut_by_length_raises_after_the_done_events() -> None:
    accumulator = StreamAccumulator()
    builder = EventBuilder(accumulator, format=structured_format(City))
    events: list[Any] = []
    for c in [chunk(content='{"name": "Pa'), chunk(finish="length")]:
        accumulator.add(c)
        events.extend(builder.feed(c))
    assert events[0].partial == {"name": "Pa"}  # never raises mid-stream
    assert [type(e) for e in events] == [TextDelta, TextDone]
    with pytest.raises(LengthFinishReasonError) as info:
        list(builder.finish())
    assert info.value.content == '{"name": "Pa'


def test_invalid_structured_content_raises_at_the_end_only() -> None:
    builder = EventBuilder(format=structured_format(City))
    events = builder.feed(chunk(content='{"name": 5, "population": 1}', finish="stop"))
    assert [type(e) for e in events] == [TextDelta, TextDone]
    with pytest.raises(OutputValidationError, match=r"\$\.name: expected string"):
        list(builder.finish())


@tool
def get_weather(city: str, days: int = 1) -> str:
    """Weather of a city."""
    return city


def fragment(
    index: int | None, *, id: str | None = None, name: str | None = None, arguments: str = ""
) -> dict[str, Any]:
    f: dict[str, Any] = {"function": {"arguments": arguments}}
    if index is not None:
        f["index"] = index
    if id is not None:
        f["id"], f["type"] = id, "function"
    if name is not None:
        f["function"]["name"] = name
    return f


def test_interleaved_tool_calls_with_bound_arguments() -> None:
    chunks = [
        chunk(tool_calls=[fragment(0, id="a", name="get_weather")]),
        chunk(tool_calls=[fragment(1, id="b", name="other", arguments='{"q"')]),
        chunk(tool_calls=[fragment(0, arguments='{"city": "Ro')]),
        chunk(tool_calls=[fragment(1, arguments=": [1, 2]}"), fragment(0, arguments='me"}')]),
        chunk(finish="tool_calls"),
    ]
    events, accumulator = run(chunks, tools=[get_weather])
    deltas = [e for e in events if isinstance(e, ToolCallArgumentsDelta)]
    assert [(d.index, d.name, d.id, d.delta, d.arguments) for d in deltas] == [
        (1, "other", "b", '{"q"', '{"q"'),
        (0, "get_weather", "a", '{"city": "Ro', '{"city": "Ro'),
        (1, "other", "b", ": [1, 2]}", '{"q": [1, 2]}'),
        (0, "get_weather", "a", 'me"}', '{"city": "Rome"}'),
    ]
    assert [d.partial_arguments for d in deltas] == [
        {},
        {"city": "Ro"},
        {"q": [1, 2]},
        {"city": "Rome"},
    ]
    dones = [e for e in events if isinstance(e, ToolCallDone)]
    final_calls = accumulator.response().tool_calls
    assert [d.call for d in dones] == final_calls
    assert [d.parsed_arguments for d in dones] == [{"city": "Rome"}, {"q": [1, 2]}]
    done = events[-1]
    assert isinstance(done.response, ParsedResponse)
    assert [c.parsed_arguments for c in done.response.tool_calls or []] == [
        {"city": "Rome"},
        {"q": [1, 2]},
    ]


def test_tool_call_arguments_that_do_not_fit_are_reported_not_raised() -> None:
    chunks = [
        chunk(tool_calls=[fragment(0, id="a", name="get_weather", arguments='{"town": 1}')]),
        chunk(finish="tool_calls"),
    ]
    events, _ = run(chunks, tools=[get_weather])
    done = next(e for e in events if isinstance(e, ToolCallDone))
    assert done.parsed_arguments is None
    assert "unexpected argument(s): town" in (done.arguments_error or "")


def test_choices_finish_separately_and_the_end_closes_unfinished_ones() -> None:
    chunks = [
        chunk(content="A", choice=0),
        chunk(content="B", choice=1),
        chunk(content="a", choice=0, finish="stop"),
        chunk(content="b", choice=1),  # the stream ends without choice 1's finish_reason
    ]
    events, accumulator = run(chunks)
    assert [(type(e).__name__, getattr(e, "choice", None)) for e in events] == [
        ("TextDelta", 0),
        ("TextDelta", 1),
        ("TextDelta", 0),
        ("TextDone", 0),
        ("TextDelta", 1),
        ("TextDone", 1),
        ("Done", None),
    ]
    assert events[5].text == "Bb"
    assert events[-1].response == accumulator.response()


# --- open-ended input ------------------------------------------------------------------

arguments_values = st.dictionaries(
    st.text(max_size=6),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
        max_leaves=8,
    ),
    max_size=4,
)


def _cut(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    out, last = [], 0
    for p in points:
        out.append(text[last:p])
        last = p
    out.append(text[last:])
    return [p for p in out if p] or [""]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(arguments_values, min_size=1, max_size=4),
    st.lists(st.integers(min_value=0), max_size=30),
    st.randoms(use_true_random=False),
    st.sampled_from(["indexed", "one-index", "no-index"]),
)
def test_parallel_tool_calls_cut_anywhere_and_interleaved(
    arguments: list[dict[str, Any]], cuts: list[int], rng: Any, numbering: str
) -> None:
    texts = [json.dumps(a) for a in arguments]
    queues = []
    for n, text in enumerate(texts):
        pieces = _cut(text, cuts[n::4] if cuts else [])
        # How providers number calls: 0, 1, 2 ...; all 0 with distinct ids; no index at all.
        index = {"indexed": n, "one-index": 0, "no-index": None}[numbering]
        first = fragment(index, id=f"call_{n}", name=f"fn{n}", arguments=pieces[0])
        queues.append([first] + [fragment(index, arguments=p) for p in pieces[1:]])
    if numbering == "indexed":  # only a numbered provider can interleave its calls
        order = [n for n, q in enumerate(queues) for _ in q]
        rng.shuffle(order)
        fragments = [queues[n].pop(0) for n in order]
    else:
        fragments = [f for q in queues for f in q]
    chunks = [chunk(role="assistant")] + [chunk(tool_calls=[f]) for f in fragments]
    chunks.append(chunk(finish="tool_calls"))
    events, accumulator = run(chunks)
    final = accumulator.response()
    assert final.tool_calls is not None and len(final.tool_calls) == len(texts)
    dones = [e for e in events if isinstance(e, ToolCallDone)]
    assert [d.call for d in dones] == final.tool_calls  # in order of first appearance
    for d in dones:
        n = int(d.call.id.removeprefix("call_"))
        assert d.parsed_arguments == arguments[n]
        assert d.call.function.name == f"fn{n}"
        deltas = [e for e in events if isinstance(e, ToolCallArgumentsDelta) and e.index == d.index]
        assert "".join(e.delta for e in deltas) == texts[n]
        assert deltas[-1].arguments == texts[n]
        assert all(e.name == f"fn{n}" and e.id == f"call_{n}" for e in deltas)
        for e in deltas:
            partial = e.partial_arguments  # never raises on a cut
            assert partial is None or isinstance(partial, dict)
            assert texts[n].startswith(e.arguments)
    assert events[-1].response == final


def _sse(chunks: list[StreamChunk]) -> bytes:
    body = b"".join(b"data: " + json.dumps(c.to_dict()).encode() + b"\n\n" for c in chunks)
    return body + b"data: [DONE]\n\n"


@settings(max_examples=150, deadline=None)
@given(
    st.text(max_size=60),
    st.lists(st.integers(min_value=0), max_size=12),
    st.lists(st.integers(min_value=0), max_size=12),
)
def test_any_split_gives_the_same_text_and_final_snapshot(
    text: str, cuts: list[int], byte_cuts: list[int]
) -> None:
    """Bytes-level: the text split into chunks anyhow, the SSE bytes split anyhow."""
    pieces = _cut(text, cuts)
    sent = [chunk(role="assistant")] + [chunk(content=p) for p in pieces]
    sent.append(chunk(finish="stop", usage={"total_tokens": 3}))
    body = _sse(sent)
    points = sorted({c % (len(body) + 1) for c in byte_cuts})
    parser = ChunkParser()
    accumulator = StreamAccumulator()
    builder = EventBuilder(accumulator)
    events: list[Any] = []
    pieces = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    done = False
    for piece in [p for p in pieces if p] + [b""]:  # b"": the body ended
        parser.receive_data(piece)
        while (c := parser.next_event()) is not NEED_DATA:
            if c is DONE:
                done = True
                break
            accumulator.add(c)
            events.extend(builder.feed(c))
        if done:
            break
    assert done
    events.extend(builder.finish())
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert "".join(d.delta for d in deltas) == text
    assert all(d.snapshot == text[: len(d.snapshot)] for d in deltas)
    # The same stream in one chunk: the same final response.
    whole = [chunk(role="assistant", content=text), chunk(finish="stop", usage={"total_tokens": 3})]
    _, one = run(whole)
    assert events[-1].response == accumulator.response() == one.response()
    closing = [type(e) for e in events if not isinstance(e, TextDelta)]
    assert closing == ([TextDone] if text else []) + [UsageEvent, Done]


@settings(max_examples=100, deadline=None)
@given(
    st.builds(City, st.text(max_size=12), st.integers()),
    st.lists(st.integers(min_value=0), max_size=15),
)
def test_structured_partials_never_raise_and_end_as_the_object(city: City, cuts: list[int]) -> None:
    text = json.dumps(attrs.asdict(city))
    chunks = [chunk(content=p) for p in _cut(text, cuts)] + [chunk(finish="stop")]
    events, _ = run(chunks, format=structured_format(City))
    for e in events:
        if isinstance(e, TextDelta):
            assert e.partial is None or isinstance(e.partial, (dict, City))
            assert e.partial == structured_format(City).partial(parse_partial_json(e.snapshot))
    assert events[-1].parsed == city


def test_long_streams_keep_every_earlier_snapshot() -> None:
    pieces = [f"w{i} " for i in range(700)]  # past the 256-piece compaction, twice
    events, _ = run([chunk(content=p) for p in pieces] + [chunk(finish="stop")])
    deltas = [e for e in events if isinstance(e, TextDelta)]
    for n in (0, 1, 255, 256, 257, 511, 699):
        assert deltas[n].snapshot == "".join(pieces[: n + 1])
    assert events[-2] == TextDone("".join(pieces), 0)


NOT_READ = object()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(alphabet='{}[]",:0123 abn', max_size=6), max_size=12),
    st.lists(st.booleans(), max_size=12),
)
def test_partials_read_live_or_later_are_the_same(pieces: list[str], live: list[bool]) -> None:
    """Read as each event arrives (incremental) or afterwards (afresh): one value."""
    fmt = structured_format(City)
    accumulator = StreamAccumulator()
    builder = EventBuilder(accumulator, format=fmt)
    seen: list[tuple[TextDelta, Any]] = []
    for n, piece in enumerate(pieces):
        c = chunk(content=piece)
        accumulator.add(c)
        for e in builder.feed(c):
            if isinstance(e, TextDelta) and n < len(live) and live[n]:
                seen.append((e, e.partial))
            elif isinstance(e, TextDelta):
                seen.append((e, NOT_READ))
    for event, value in seen:
        expected = fmt.partial(parse_partial_json(event.snapshot))
        if value is not NOT_READ:
            assert value == expected
        assert event.partial == expected
