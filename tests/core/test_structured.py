"""Structured outputs: response_format from a type, answers parsed into it, partial JSON."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any, Literal

import attrs
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typing_extensions import NotRequired, TypedDict  # 3.10: typing has no NotRequired

from edgee._partial_json import PartialJSON, parse_partial_json
from edgee._structured import (
    ParsedResponse,
    ParsedToolCall,
    parse_response,
    split_response_format,
    structured_format,
    validate_json,
)
from edgee.errors import (
    ContentFilterFinishReasonError,
    EdgeeError,
    LengthFinishReasonError,
    OutputValidationError,
    StructuredOutputError,
)
from edgee.models import SendResponse
from edgee.tools import tool


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


@attrs.define
class Step:
    explanation: str
    output: str


@attrs.define
class Solution:
    steps: list[Step]
    final_answer: str
    mood: Mood = Mood.HAPPY
    confidence: float | None = None


@dataclasses.dataclass
class Event:
    name: str
    date: str | None
    participants: list[str] = dataclasses.field(default_factory=list)


class Contact(TypedDict):
    name: str
    email: NotRequired[str]
    kind: Literal["person", "company"]


class PCity(pydantic.BaseModel):
    name: str
    population: int


@tool
def lookup(city: str, limit: int = 3) -> str:
    """Look a city up."""
    return city


def answer(
    content: str | None,
    *,
    finish: str = "stop",
    refusal: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
) -> SendResponse:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    return SendResponse.from_dict(
        {
            "id": "chatcmpl-1",
            "model": "openai/gpt-4o",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
        }
    )


# --- response_format -------------------------------------------------------------------


def test_response_format_is_the_strict_json_schema_form() -> None:
    fmt = structured_format(Event)
    assert fmt.response_format() == {
        "type": "json_schema",
        "json_schema": {
            "name": "Event",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "date": {"type": ["string", "null"]},
                    "participants": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["name", "date", "participants"],
                "additionalProperties": False,
            },
        },
    }
    assert structured_format(Event) is fmt  # compiled once per type
    # A fresh dict each time: a caller editing it cannot change the next request.
    fmt.response_format()["json_schema"]["name"] = "changed"
    assert fmt.response_format()["json_schema"]["name"] == "Event"


def test_name_is_made_wire_safe_and_strict_can_be_turned_off() -> None:
    fmt = structured_format(Event, name="my event!", strict=False)
    wire = fmt.response_format()["json_schema"]
    assert wire["name"] == "my_event_" and wire["strict"] is False
    assert wire["schema"]["required"] == ["name", "date"]


def test_unsupported_targets_are_refused() -> None:
    for target in (int, list[Step], "Solution", None):
        with pytest.raises(TypeError, match="response_format must be"):
            structured_format(target)


def test_split_response_format_replaces_a_type_and_leaves_other_formats() -> None:
    options, fmt = split_response_format({"response_format": Solution, "temperature": 0})
    assert fmt is structured_format(Solution)
    assert options["response_format"] == fmt.response_format()
    assert options["temperature"] == 0
    assert split_response_format({"temperature": 0}) == ({"temperature": 0}, None)
    text = {"response_format": {"type": "text"}}
    assert split_response_format(text) == (text, None)
    options, fmt = split_response_format({"response_format": {"type": "json_object"}})
    assert options == {"response_format": {"type": "json_object"}}
    assert fmt is not None and fmt.parse('{"any": [1]}') == {"any": [1]}


def test_a_json_schema_dict_is_sent_and_checked() -> None:
    schema = {
        "title": "Point",
        "type": "object",
        "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
        "required": ["x", "y"],
        "additionalProperties": False,
    }
    fmt = structured_format(schema)
    assert fmt.response_format() == {
        "type": "json_schema",
        "json_schema": {"name": "Point", "schema": schema, "strict": True},
    }
    assert fmt.parse('{"x": 1, "y": 2.5}') == {"x": 1, "y": 2.5}
    with pytest.raises(OutputValidationError, match=r"\$\.y: expected number, got string"):
        fmt.parse('{"x": 1, "y": "2"}')
    whole = {"type": "json_schema", "json_schema": {"name": "P", "schema": schema}}
    assert structured_format(whole).response_format() == whole


# --- parsing -----------------------------------------------------------------------------


SOLUTION = {
    "steps": [{"explanation": "add", "output": "2"}],
    "final_answer": "2",
    "mood": "sad",
    "confidence": None,
}


def test_attrs_answer_is_parsed_and_the_response_is_kept() -> None:
    response = answer(json.dumps(SOLUTION))
    parsed = parse_response(response, structured_format(Solution))
    assert parsed.parsed == Solution([Step("add", "2")], "2", Mood.SAD, None)
    assert parsed.refusal is None
    assert isinstance(parsed, SendResponse) and isinstance(parsed, ParsedResponse)
    assert parsed.to_dict() == response.to_dict()
    assert parsed.text == response.text and parsed.usage == response.usage
    assert parsed.id == "chatcmpl-1" and parsed.finish_reason == "stop"


def test_defaults_fill_what_a_provider_left_out() -> None:
    content = json.dumps({"steps": [], "final_answer": "x"})
    parsed = parse_response(answer(content), structured_format(Solution)).parsed
    assert parsed == Solution([], "x", Mood.HAPPY, None)


def test_dataclass_answer() -> None:
    content = '{"name": "launch", "date": null, "participants": ["ann", "bo"]}'
    parsed = parse_response(answer(content), structured_format(Event)).parsed
    assert parsed == Event("launch", None, ["ann", "bo"])


def test_typeddict_answer_is_a_checked_dict() -> None:
    fmt = structured_format(Contact)
    # The strict schema makes the NotRequired key nullable; null means "left out".
    assert fmt.schema["properties"]["email"] == {"type": ["string", "null"]}
    parsed = parse_response(answer('{"name": "A", "email": null, "kind": "person"}'), fmt)
    assert parsed.parsed == {"name": "A", "kind": "person"}
    full = '{"name": "A", "email": "a@x", "kind": "company"}'
    assert parse_response(answer(full), fmt).parsed == json.loads(full)
    with pytest.raises(OutputValidationError, match=r"\$\.kind: \"robot\" is not one of"):
        parse_response(answer('{"name": "A", "email": null, "kind": "robot"}'), fmt)


def test_pydantic_answer() -> None:
    fmt = structured_format(PCity)
    assert fmt.response_format()["json_schema"]["schema"] == {
        "type": "object",
        "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["name", "population"],
        "additionalProperties": False,
    }
    parsed = parse_response(answer('{"name": "Oslo", "population": 700000}'), fmt)
    assert parsed.parsed == PCity(name="Oslo", population=700000)
    with pytest.raises(OutputValidationError, match="population") as info:
        parse_response(answer('{"name": "Oslo", "population": "many"}'), fmt)
    assert info.value.content == '{"name": "Oslo", "population": "many"}'


def test_refusal_gives_no_parsed_value() -> None:
    response = answer(None, refusal="I can't help with that.")
    parsed = parse_response(response, structured_format(Solution))
    assert parsed.parsed is None
    assert parsed.refusal == "I can't help with that."


def test_length_cut_raises_with_the_raw_content() -> None:
    response = answer('{"steps": [{"explanation": "ad', finish="length")
    with pytest.raises(LengthFinishReasonError) as info:
        parse_response(response, structured_format(Solution))
    error = info.value
    assert isinstance(error, StructuredOutputError) and isinstance(error, EdgeeError)
    assert error.content == '{"steps": [{"explanation": "ad'
    assert error.response is response


def test_content_filter_raises() -> None:
    with pytest.raises(ContentFilterFinishReasonError):
        parse_response(answer("", finish="content_filter"), structured_format(Solution))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"steps": [], "final_answer": 3}', r"\$\.final_answer: expected string, got integer"),
        ('{"steps": [{"explanation": "x"}], "final_answer": "a"}', r"steps\[0\]: missing"),
        ('{"steps": [], "final_answer": "a", "extra": 1}', "unexpected property 'extra'"),
        ('{"steps": [], "final_answer": "a", "mood": "angry"}', r"\$\.mood"),
        ("[1, 2]", "expected object, got array"),
        (None, "no content"),
        ("   ", "no content"),
    ],
)
def test_content_that_does_not_fit_raises_with_the_raw_content(
    content: str | None, message: str
) -> None:
    response = answer(content)
    with pytest.raises(OutputValidationError, match=message) as info:
        parse_response(response, structured_format(Solution))
    assert info.value.content == content
    assert info.value.response is response


def test_tool_calls_get_parsed_arguments() -> None:
    def call(id: str, name: str, arguments: str) -> dict[str, Any]:
        return {"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}

    calls = [
        call("c1", "lookup", '{"city": "Rome"}'),
        call("c2", "lookup", '{"town": 1}'),
        call("c3", "other", '{"z": [1]}'),
        call("c4", "other", "{oops"),
    ]
    response = answer(None, finish="tool_calls", tool_calls=calls)
    parsed = parse_response(response, structured_format(Solution), tools=[lookup])
    assert parsed.parsed is None  # the model called tools instead of answering
    got = parsed.tool_calls
    assert got is not None and all(isinstance(c, ParsedToolCall) for c in got)
    assert [c.parsed_arguments for c in got] == [{"city": "Rome"}, None, {"z": [1]}, None]
    assert got[0].arguments_error is None
    assert "unexpected argument(s): town" in (got[1].arguments_error or "")
    assert "not valid JSON" in (got[3].arguments_error or "")
    assert [c.to_dict() for c in got] == calls  # still the wire calls
    assert parse_response(response, None).tool_calls is not None


def test_headers_follow_the_parsed_response() -> None:
    response = answer(json.dumps(SOLUTION))
    response.attach_http_headers({"x-request-id": "req-9", "x-edgee-provider": "openai"})
    parsed = parse_response(response, structured_format(Solution))
    assert parsed.request_id == "req-9" and parsed.provider == "openai"


def test_validate_json_refs_and_unions() -> None:
    schema = {
        "$defs": {"n": {"type": "object", "properties": {"k": {"$ref": "#/$defs/n"}}}},
        "anyOf": [{"$ref": "#/$defs/n"}, {"type": "integer"}],
    }
    validate_json({"k": {"k": {}}}, schema)
    validate_json(3, schema)
    with pytest.raises(ValueError, match="none of the allowed forms"):
        validate_json("x", schema)
    with pytest.raises(ValueError, match=r"\$\.k\.k"):
        validate_json({"k": {"k": 5}}, schema)


def test_partial_values_become_the_type_once_they_fit() -> None:
    fmt = structured_format(Event)
    assert fmt.partial({"name": "la"}) == {"name": "la"}  # date still missing
    assert fmt.partial({"name": "la", "date": None}) == Event("la", None)
    assert fmt.partial(None) is None


# --- partial JSON ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", None),
        ("  ", None),
        ("{", {}),
        ('{"ci', {}),
        ('{"city"', {}),
        ('{"city":', {}),
        ('{"city": "Par', {"city": "Par"}),
        ('{"city": "Pa\\', {"city": "Pa"}),
        ('{"city": "Pa\\u00', {"city": "Pa"}),
        ('{"city": "Pa\\u00e9', {"city": "Paé"}),
        ('{"a": [1, 2], "b"', {"a": [1, 2]}),
        ('{"a": [1, 2], "b": ', {"a": [1, 2]}),
        ('{"a": [1, 2', {"a": [1, 2]}),
        ("[1, 2,", [1, 2]),
        ("[1, 2, ", [1, 2]),
        ('{"a": tru', {}),
        ('{"a": true', {"a": True}),
        ('{"a": nul', {}),
        ("[-", []),
        ("-", None),
        ("12.", 12),
        ("1.5e", 1.5),
        ("1e+", 1),
        ('"abc', "abc"),
        ("nul", None),
        ('[{"a": {"b": [', [{"a": {"b": []}}]),
        ('{"a": 1} trailing', {"a": 1}),  # stops at what is not JSON; keeps the value
        ('{"a" 1}', {}),
        ('{"a": 1, "b": [tru, 2]}', {"a": 1, "b": []}),
    ],
)
def test_partial_json_examples(text: str, value: Any) -> None:
    assert parse_partial_json(text) == value


def test_partial_json_flags() -> None:
    parser = PartialJSON()
    parser.feed('{"a": ')
    assert not parser.complete and not parser.failed and parser.value() == {}
    parser.feed("1}")
    assert parser.complete and parser.value() == {"a": 1}
    parser.feed(" x")
    assert parser.failed and not parser.complete and parser.value() == {"a": 1}
    null = PartialJSON()
    null.feed("null")
    assert null.value() is None and null.has_value and null.complete


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(text[last:p])
        last = p
    pieces.append(text[last:])
    return pieces


@settings(max_examples=300, deadline=None)
@given(json_values, st.lists(st.integers(min_value=0), max_size=8), st.booleans())
def test_complete_documents_agree_with_json_loads(
    value: Any, cuts: list[int], pretty: bool
) -> None:
    text = json.dumps(value, indent=2 if pretty else None, ensure_ascii=False)
    parser = PartialJSON()
    for piece in _split(text, cuts):
        parser.feed(piece)
        parser.value()  # reading mid-way changes nothing
    assert parser.complete
    assert parser.value() == json.loads(text)


def _is_prefix_value(partial: Any, whole: Any) -> bool:
    """A partial value only holds what the whole has, strings possibly cut short."""
    if isinstance(whole, dict):
        return isinstance(partial, dict) and all(
            k in whole and _is_prefix_value(v, whole[k]) for k, v in partial.items()
        )
    if isinstance(whole, list):
        return (
            isinstance(partial, list)
            and len(partial) <= len(whole)
            and all(_is_prefix_value(p, w) for p, w in zip(partial, whole, strict=False))
        )
    if isinstance(whole, str):
        return isinstance(partial, str) and whole.startswith(partial)
    if isinstance(whole, bool) or whole is None:
        return partial == whole
    return isinstance(partial, (int, float))  # a number cut mid-way: its digits so far


@settings(max_examples=200, deadline=None)
@given(json_values, st.data())
def test_every_prefix_reads_as_part_of_the_whole(value: Any, data: st.DataObject) -> None:
    text = json.dumps(value)
    end = data.draw(st.integers(min_value=0, max_value=len(text)))
    partial = parse_partial_json(text[:end])
    if partial is not None or end == len(text):
        assert _is_prefix_value(partial, value)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from('{}[]",:\\ u0e1.-+tnfalsrx\n')),
    st.lists(st.integers(min_value=0), max_size=6),
)
def test_any_text_never_raises_and_splitting_does_not_matter(text: str, cuts: list[int]) -> None:
    whole = PartialJSON()
    whole.feed(text)
    pieces = PartialJSON()
    for piece in _split(text, cuts):
        pieces.feed(piece)
        pieces.value()
    assert pieces.value() == whole.value()
    assert pieces.complete == whole.complete and pieces.failed == whole.failed
    try:
        expected = json.loads(text)
    except ValueError:
        return
    assert whole.value() == expected
