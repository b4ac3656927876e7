"""Structured outputs over loopback HTTP, on both clients: ``parse()``,
``stream(response_format=T)``, ``stream.events()`` and ``stream.snapshot``.

Each test runs against ``Edgee`` and ``AsyncEdgee`` (see conftest); the answers come from
``FakeGateway`` (``reply_structured``, ``reply_refusal``, ``reply_tool_calls``) or, for
interleaved parallel tool calls, from raw bytes written by ``reply_raw``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from typing import Any, Literal

import attrs
import pydantic
import pytest
from typing_extensions import TypedDict

from edgee import (
    AsyncEdgee,
    ClientStateError,
    ContentFilterFinishReasonError,
    Done,
    LengthFinishReasonError,
    OutputValidationError,
    ParsedResponse,
    ParsedToolCall,
    RefusalDelta,
    RefusalDone,
    SendResponse,
    StructuredOutputError,
    TextDelta,
    TextDone,
    ToolCallArgumentsDelta,
    ToolCallDone,
    UsageEvent,
)
from edgee.testing import FakeGateway
from edgee.tools import tool

MakeClient = Callable[..., Any]
MODEL = "openai/gpt-4o"


# --- the kinds of T -----------------------------------------------------------------------


@attrs.define
class Place:
    city: str
    country: str | None = None


@attrs.define
class Trip:
    """A trip: nested attrs class, a list of them, a literal."""

    name: str
    days: int
    places: list[Place]
    mode: Literal["car", "train"] = "train"


@dataclasses.dataclass
class Weather:
    city: str
    celsius: float
    note: str | None = None


class Contact(TypedDict):
    name: str
    emails: list[str]


class Score(pydantic.BaseModel):
    player: str
    points: int


TRIP_JSON = {
    "name": "Loire",
    "days": 3,
    "places": [{"city": "Tours", "country": "FR"}, {"city": "Blois", "country": None}],
    "mode": "car",
}
TRIP = Trip("Loire", 3, [Place("Tours", "FR"), Place("Blois", None)], "car")

KINDS: list[tuple[Any, dict[str, Any], Any]] = [
    (Trip, TRIP_JSON, TRIP),
    (Weather, {"city": "Paris", "celsius": 21.5, "note": None}, Weather("Paris", 21.5, None)),
    (
        Contact,
        {"name": "Ada", "emails": ["ada@example.com"]},
        {"name": "Ada", "emails": ["ada@example.com"]},
    ),
    (Score, {"player": "Bo", "points": 7}, Score(player="Bo", points=7)),
]
KIND_IDS = ["attrs", "dataclass", "TypedDict", "pydantic"]


@tool
def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
    """The weather in a city.

    Args:
        city: the city's name
        unit: c or f
    """
    return f"sunny in {city}"


@tool
def get_time(zone: str) -> str:
    """The time in a zone."""
    return "12:00"


# --- parse() ------------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "wire", "expected"), KINDS, ids=KIND_IDS)
def test_parse_gives_an_instance_of_each_kind_of_t(
    client: Any, gateway: FakeGateway, target: Any, wire: dict[str, Any], expected: Any
) -> None:
    gateway.reply_structured(wire, require_schema=True)  # a 400 unless json_schema was sent
    response = client.parse(MODEL, "plan it", response_format=target)
    assert isinstance(response, ParsedResponse)
    assert isinstance(response, SendResponse)
    assert response.parsed == expected
    assert type(response.parsed) is type(expected)
    assert response.refusal is None
    assert json.loads(response.text) == wire  # the whole SendResponse is still there
    assert response.request_id is not None  # the headers too
    sent = gateway.requests[-1]
    assert sent.response_format["type"] == "json_schema"
    schema = sent.json_schema
    assert schema is not None
    assert schema["name"] == target.__name__
    assert schema["strict"] is True
    assert schema["schema"]["additionalProperties"] is False
    assert set(schema["schema"]["required"]) == set(wire)  # strict: every property required


def test_parse_sends_the_strict_nested_schema(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_structured(TRIP_JSON)
    client.parse(MODEL, "plan it", response_format=Trip)
    schema = gateway.requests[-1].json_schema["schema"]
    place = schema["properties"]["places"]["items"]
    assert place["additionalProperties"] is False
    assert place["required"] == ["city", "country"]
    assert place["properties"]["country"] == {"type": ["string", "null"]}
    assert schema["properties"]["mode"]["enum"] == ["car", "train"]


def test_parse_a_json_schema_dict_gives_plain_json(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_structured({"ok": True}, require_schema=True)
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    response = client.parse(MODEL, "ok?", response_format=schema)
    assert response.parsed == {"ok": True}
    assert gateway.requests[-1].json_schema["schema"] == schema


def test_parse_json_object_mode(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_structured([1, 2, 3])
    response = client.parse(MODEL, "list", response_format={"type": "json_object"})
    assert response.parsed == [1, 2, 3]
    assert gateway.requests[-1].response_format == {"type": "json_object"}


def test_parse_a_refusal_is_not_an_error(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_refusal("I can't plan that trip.")
    response = client.parse(MODEL, "plan it", response_format=Trip)
    assert response.parsed is None
    assert response.refusal == "I can't plan that trip."


def test_parse_an_answer_cut_by_length_raises_with_the_content(
    client: Any, gateway: FakeGateway
) -> None:
    gateway.reply_structured('{"name": "Loi', finish_reason="length")
    with pytest.raises(LengthFinishReasonError) as caught:
        client.parse(MODEL, "plan it", response_format=Trip)
    assert caught.value.content == '{"name": "Loi'
    assert caught.value.response is not None
    assert caught.value.response.finish_reason == "length"
    assert isinstance(caught.value, StructuredOutputError)


def test_parse_a_content_filter_stop_raises(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_structured('{"name": ', finish_reason="content_filter")
    with pytest.raises(ContentFilterFinishReasonError):
        client.parse(MODEL, "plan it", response_format=Trip)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"name": "Loire", "days": "three", "places": [], "mode": "car"}', "days"),
        ("Sure! Here is your trip.", "not valid JSON"),
        ('{"name": "Loire", "days": 3, "places": [], "mode": "plane"}', "mode"),
    ],
)
def test_parse_content_that_does_not_fit_raises_with_the_content(
    client: Any, gateway: FakeGateway, content: str, says: str
) -> None:
    gateway.reply_structured(content)
    with pytest.raises(OutputValidationError) as caught:
        client.parse(MODEL, "plan it", response_format=Trip)
    assert caught.value.content == content
    assert says in str(caught.value)
    assert caught.value.response is not None
    assert isinstance(caught.value, ValueError)


def test_parse_tool_calls_get_arguments_from_their_signatures(
    client: Any, gateway: FakeGateway
) -> None:
    gateway.reply_tool_calls(
        [
            {"name": "get_weather", "arguments": {"city": "Paris"}},
            {"name": "get_time", "arguments": {"zone": 5}},  # does not fit: zone is a str
        ]
    )
    response = client.parse(
        MODEL, "weather?", response_format=Weather, tools=[get_weather, get_time]
    )
    assert response.parsed is None  # only tool calls: nothing to parse
    weather, time = response.tool_calls
    assert isinstance(weather, ParsedToolCall)
    assert weather.function.name == "get_weather"
    assert weather.parsed_arguments == {"city": "Paris"}  # keyword arguments: the default stays
    assert weather.arguments_error is None
    assert time.parsed_arguments is None
    assert "zone" in time.arguments_error
    # The @tool functions went out as their wire tools.
    sent = gateway.requests[-1].json
    assert [t["function"]["name"] for t in sent["tools"]] == ["get_weather", "get_time"]
    assert sent["tools"][0]["function"]["parameters"]["properties"]["city"]["type"] == "string"


def test_parse_refuses_stream_and_a_missing_format(client: Any, gateway: FakeGateway) -> None:
    with pytest.raises(TypeError, match="does not stream"):
        client.parse(MODEL, "x", response_format=Trip, stream=True)
    with pytest.raises(TypeError, match="structured response_format"):
        client.parse(MODEL, "x", response_format=None)
    with pytest.raises(TypeError, match="response_format"):
        client.parse(MODEL, "x", response_format=int)
    assert gateway.requests == []  # refused before anything was sent


# --- stream(response_format=T) and events() ---------------------------------------------


def kinds(events: list[Any]) -> list[str]:
    return [e.type for e in events]


def test_stream_events_of_a_structured_answer(client: Any, gateway: FakeGateway) -> None:
    text = json.dumps(TRIP_JSON, separators=(",", ":"))  # the gateway's encoding
    gateway.reply_structured(TRIP_JSON, fragments=8, require_schema=True)
    with client.stream(MODEL, "plan it", response_format=Trip) as stream:
        events = list(stream.events())
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) == 8
    assert "".join(d.delta for d in deltas) == text
    for i, d in enumerate(deltas):  # each carries the text so far
        assert d.snapshot == "".join(x.delta for x in deltas[: i + 1])
    # Partial values: a dict while the JSON so far does not fit T, T (defaults filled in)
    # whenever it does; cut strings read as the text so far; never an exception.
    partials = [d.partial for d in deltas]
    assert partials[0] == {"name": "Loire"}
    assert partials[1] == {"name": "Loire", "days": 3}  # "plac...: a cut key is left out
    assert partials[2] == Trip("Loire", 3, [Place("T")])
    assert partials[4] == {
        "name": "Loire",
        "days": 3,
        "places": [{"city": "Tours", "country": "FR"}, {}],  # {} does not fit Place yet
    }
    assert partials[-1] == TRIP
    assert kinds(events)[-3:] == ["text.done", "usage", "done"]
    (done_text,) = [e for e in events if isinstance(e, TextDone)]
    assert done_text.text == text
    done = events[-1]
    assert isinstance(done, Done)
    assert done.parsed == TRIP
    assert isinstance(done.response, ParsedResponse)
    assert done.response.parsed == TRIP
    assert done.response.request_id is not None
    (usage,) = [e for e in events if isinstance(e, UsageEvent)]
    assert usage.usage.total_tokens is not None
    # final_response() after events() is the same parsed response.
    assert stream.final_response().parsed == TRIP


def test_stream_final_response_is_parsed(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_structured({"player": "Bo", "points": 7}, fragments=3)
    stream = client.stream(MODEL, "score", response_format=Score)
    final = stream.final_response()
    assert isinstance(final, ParsedResponse)
    assert final.parsed == Score(player="Bo", points=7)
    assert gateway.requests[-1].json_schema["name"] == "Score"


def test_stream_with_a_response_format_dict_is_sent_as_given_and_not_read(
    client: Any, gateway: FakeGateway
) -> None:
    # As before parse() existed: a dict is passed through; the answer is not parsed.
    gateway.reply_structured("not json at all")
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    final = client.stream(MODEL, "x", response_format=fmt).final_response()
    assert not isinstance(final, ParsedResponse)
    assert final.text == "not json at all"
    assert gateway.requests[-1].response_format == fmt


def test_stream_events_of_plain_text(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_text("one two three")
    stream = client.stream(MODEL, "count")
    events = list(stream.events())
    assert kinds(events) == ["text.delta"] * 3 + ["text.done", "usage", "done"]
    assert [e.snapshot for e in events[:3]] == ["one", "one two", "one two three"]
    assert all(e.partial is None for e in events[:3])  # no response_format: no partials
    assert events[3].text == "one two three"
    done = events[-1]
    assert type(done.response) is not ParsedResponse
    assert done.parsed is None
    assert done.response.text == "one two three"


def test_streamed_refusal_events(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_refusal("I can't help", chunks=["I ", "can't ", "help"])
    events = list(client.stream(MODEL, "x", response_format=Trip).events())
    refusals = [e for e in events if isinstance(e, RefusalDelta)]
    assert [e.snapshot for e in refusals] == ["I ", "I can't ", "I can't help"]
    (done_refusal,) = [e for e in events if isinstance(e, RefusalDone)]
    assert done_refusal.refusal == "I can't help"
    assert not [e for e in events if isinstance(e, TextDelta)]
    done = events[-1]
    assert done.parsed is None
    assert done.response.refusal == "I can't help"


def test_streamed_answer_cut_by_length_raises_after_the_done_events(
    client: Any, gateway: FakeGateway
) -> None:
    gateway.reply_structured('{"name": "Loire", "da', chunks=['{"name": ', '"Loire", "da'],
                             finish_reason="length")  # fmt: skip
    stream = client.stream(MODEL, "plan it", response_format=Trip)
    seen: list[Any] = []
    with pytest.raises(LengthFinishReasonError) as caught:
        for event in stream.events():
            seen.append(event)
    assert kinds(seen) == ["text.delta", "text.delta", "text.done", "usage"]
    assert seen[1].partial == {"name": "Loire"}  # the cut key is dropped, never raised on
    assert caught.value.content == '{"name": "Loire", "da'
    with pytest.raises(LengthFinishReasonError):
        stream.final_response()


def test_streamed_invalid_content_raises_at_the_end_only(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_structured('{"player": "Bo", "points": "many"}', fragments=4)
    stream = client.stream(MODEL, "x", response_format=Score)
    seen: list[Any] = []
    with pytest.raises(OutputValidationError) as caught:
        for event in stream.events():
            seen.append(event)
    assert len([e for e in seen if isinstance(e, TextDelta)]) == 4
    assert caught.value.content == '{"player": "Bo", "points": "many"}'


def test_events_after_chunks_were_taken_are_refused(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_text("one two three")
    stream = client.stream(MODEL, "x")
    next(iter(stream))
    with pytest.raises(ClientStateError, match="before reading"):
        stream.events()
    assert stream.final_response().text == "one two three"  # the response is whole anyway


def test_events_twice_is_refused(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_text("one two")
    stream = client.stream(MODEL, "x")
    events = stream.events()
    with pytest.raises(ClientStateError, match="already"):
        stream.events()
    assert kinds(list(events))[-1] == "done"


# --- snapshot ------------------------------------------------------------------------------


def test_snapshot_is_the_response_so_far(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_text(chunks=["Hello", " big", " world"], headers={"X-Edgee-Provider": "openai"})
    stream = client.stream(MODEL, "x")
    assert stream.snapshot.choices == []  # nothing handed out yet
    texts = []
    for _ in stream:
        texts.append(stream.snapshot.text)
    # The role chunk (no text yet), three pieces, the finish chunk.
    assert texts == [None, "Hello", "Hello big", "Hello big world", "Hello big world"]
    final = stream.snapshot
    assert final.text == "Hello big world"
    assert final.finish_reason == "stop"
    assert final.provider == "openai"  # headers attached
    assert final.to_dict() == stream.final_response().to_dict()


def test_snapshot_inside_the_events_loop(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_structured(
        '{"player": "Bo", "points": 7}', chunks=['{"player": "Bo"', ', "points": 7}']
    )
    stream = client.stream(MODEL, "x", response_format=Score)
    during = [(e.type, stream.snapshot.text) for e in stream.events()]
    assert during[0] == ("text.delta", '{"player": "Bo"')
    assert during[1] == ("text.delta", '{"player": "Bo", "points": 7}')
    assert during[-1][1] == '{"player": "Bo", "points": 7}'


# --- parallel tool calls, interleaved, cut inside their JSON -------------------------------


def _sse_response(chunks: list[dict[str, Any]]) -> bytes:
    body = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks)
    body += b"data: [DONE]\n\n"
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-request-id: req-raw-1\r\n"
        b"content-length: %d\r\n\r\n" % len(body)
    )
    return head + body


def _chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-raw",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def _fragment(index: int, arguments: str, **head: Any) -> dict[str, Any]:
    fragment: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if head:
        fragment.update(id=head["id"], type="function")
        fragment["function"]["name"] = head["name"]
    return fragment


USAGE = {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}
INTERLEAVED = [
    _chunk({"role": "assistant", "content": None}),
    _chunk({"tool_calls": [_fragment(0, "", id="call_a", name="get_weather")]}),
    _chunk({"tool_calls": [_fragment(1, '{"zo', id="call_b", name="get_time")]}),
    _chunk({"tool_calls": [_fragment(0, '{"city": "Pa')]}),
    _chunk({"tool_calls": [_fragment(1, 'ne": "CE'), _fragment(0, 'ris", "un')]}),
    _chunk({"tool_calls": [_fragment(0, 'it": "f"}')]}),
    _chunk({"tool_calls": [_fragment(1, 'T"}')]}),
    _chunk(
        {}, "tool_calls", usage={"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}
    ),
]


def test_interleaved_parallel_tool_calls_stream_as_events(
    client: Any, gateway: FakeGateway
) -> None:
    gateway.reply_raw(_sse_response(INTERLEAVED))
    stream = client.stream(MODEL, "weather and time?", tools=[get_weather, get_time])
    events = list(stream.events())
    deltas = [e for e in events if isinstance(e, ToolCallArgumentsDelta)]
    assert [(d.index, d.name, d.delta) for d in deltas] == [
        (1, "get_time", '{"zo'),
        (0, "get_weather", '{"city": "Pa'),
        (1, "get_time", 'ne": "CE'),
        (0, "get_weather", 'ris", "un'),
        (0, "get_weather", 'it": "f"}'),
        (1, "get_time", 'T"}'),
    ]
    # Each delta carries its own call's arguments so far, and a best-effort value of them.
    assert [d.arguments for d in deltas if d.index == 0] == [
        '{"city": "Pa',
        '{"city": "Paris", "un',
        '{"city": "Paris", "unit": "f"}',
    ]
    assert deltas[1].partial_arguments == {"city": "Pa"}
    assert deltas[3].partial_arguments == {"city": "Paris"}  # the cut key is left out
    assert deltas[0].id == "call_b"
    # Done at the finish, in call order, arguments bound by the @tool signatures.
    dones = [e for e in events if isinstance(e, ToolCallDone)]
    assert [(d.index, d.call.id, d.parsed_arguments) for d in dones] == [
        (0, "call_a", {"city": "Paris", "unit": "f"}),
        (1, "call_b", {"zone": "CET"}),
    ]
    assert kinds(events)[-2:] == ["usage", "done"]
    done = events[-1]
    assert isinstance(done.response, ParsedResponse)
    assert [c.parsed_arguments for c in done.response.tool_calls] == [
        {"city": "Paris", "unit": "f"},
        {"zone": "CET"},
    ]
    assert done.response.request_id == "req-raw-1"
    # The wire request carried the @tool functions as tools.
    sent = gateway.requests[-1].json["tools"]
    assert [t["function"]["name"] for t in sent] == ["get_weather", "get_time"]


def test_interleaved_tool_calls_snapshot_mid_stream(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_raw(_sse_response(INTERLEAVED))
    stream = client.stream(MODEL, "x")
    arguments = []
    for _ in stream:
        calls = stream.snapshot.tool_calls or []
        arguments.append([c.function.arguments for c in calls])
    assert arguments[4] == ['{"city": "Paris", "un', '{"zone": "CE']
    assert arguments[-1] == ['{"city": "Paris", "unit": "f"}', '{"zone": "CET"}']
    # Not a parse request and no @tool functions: the plain response.
    assert not isinstance(stream.final_response(), ParsedResponse)


def test_streamed_tool_calls_of_the_fake_gateway(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}}], fragments=4)
    events = list(client.stream(MODEL, "x", tools=[get_weather]).events())
    deltas = [e for e in events if isinstance(e, ToolCallArgumentsDelta)]
    assert len(deltas) == 4
    assert json.loads(deltas[-1].arguments) == {"city": "Oslo"}
    (done,) = [e for e in events if isinstance(e, ToolCallDone)]
    assert done.parsed_arguments == {"city": "Oslo"}


# --- a whole answer to a stream request -----------------------------------------------------


def test_a_whole_answer_to_a_stream_request_feeds_events_and_snapshot(
    client: Any, gateway: FakeGateway
) -> None:
    content = json.dumps({"player": "Bo", "points": 7})
    gateway.reply_json(
        {
            "id": "chatcmpl-whole",
            "object": "chat.completion",
            "created": 1,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        }
    )
    stream = client.stream(MODEL, "x", response_format=Score)
    assert stream.snapshot.choices == []
    events = list(stream.events())
    assert kinds(events) == ["text.delta", "text.done", "usage", "done"]
    assert events[0].snapshot == content
    assert events[0].partial == Score(player="Bo", points=7)
    assert events[-1].parsed == Score(player="Bo", points=7)
    assert stream.snapshot.text == content
    assert stream.final_response().parsed == Score(player="Bo", points=7)


def test_a_whole_answer_read_first_refuses_events(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_json(
        {
            "id": "c",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
        }
    )
    stream = client.stream(MODEL, "x")
    assert [c.text for c in stream] == ["hi"]
    with pytest.raises(ClientStateError):
        stream.events()


# --- AsyncStream.events() with async for, no adapter ---------------------------------------


def test_async_for_over_events_natively(gateway: FakeGateway) -> None:
    gateway.reply_structured({"player": "Bo", "points": 7}, fragments=3)

    async def main() -> tuple[list[str], Any, Any]:
        client = AsyncEdgee(api_key=gateway.api_key, base_url=gateway.url)
        async with client, client.stream(MODEL, "x", response_format=Score) as stream:
            seen = [event async for event in stream.events()]
            return [e.type for e in seen], seen[-1].parsed, stream.snapshot.text

    types, parsed, text = asyncio.run(main())
    assert types == ["text.delta"] * 3 + ["text.done", "usage", "done"]
    assert parsed == Score(player="Bo", points=7)
    assert text == '{"player":"Bo","points":7}'
