"""Round trips of every model against realistic gateway JSON, and the hand-written behaviour."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from wire_samples import json_values, tool_call_message

from edgee.models import (
    Compression,
    ContentPart,
    FunctionDefinition,
    InputObject,
    Message,
    Role,
    SendResponse,
    StreamChunk,
    Tool,
    ToolCall,
    Usage,
)
from edgee.models._generated import ErrorResponse, ToolCallDelta

SCHEMA = json.loads((Path(__file__).parents[2] / "schema" / "edgee.schema.json").read_text())


def validate(instance: Any, name: str) -> None:
    jsonschema.Draft202012Validator({"$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{name}"}).validate(
        instance
    )


COMPLETION = {
    "id": "chatcmpl-9xYz",
    "object": "chat.completion",
    "created": 1764000000,
    "model": "openai/gpt-4o",
    "system_fingerprint": "fp_abc",  # not in the schema: must be kept
    "choices": [
        {
            "index": 0,
            "message": tool_call_message(refusal=None, annotations=[]),
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {
        "prompt_tokens": 82,
        "completion_tokens": 17,
        "total_tokens": 99,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    },
    "compression": {"saved_tokens": 40, "cost_savings": 120, "reduction": 32.5, "time_ms": 3},
    "edgee_pending_id": None,
    "edgee_tools_executed": [{"name": "web_search", "id": "srv_1"}],
}

ROLE_CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1764000000,
    "model": "gpt-4o",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
}
TOOL_CHUNK_FIRST = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1764000000,
    "model": "gpt-4o",
    "choices": [
        {
            "index": 0,
            "delta": {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ]
            },
            "finish_reason": None,
        }
    ],
}
TOOL_CHUNK_CONT = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1764000000,
    "model": "gpt-4o",
    "choices": [
        {
            "index": 0,
            "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]},
            "finish_reason": None,
        }
    ],
}
USAGE_CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1764000000,
    "model": "gpt-4o",
    "choices": [],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    "compression": {"saved_tokens": 1, "cost_savings": 2, "reduction": 12.0, "time_ms": 1},
}
FINISH_CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1764000000,
    "model": "gpt-4o",
    "choices": [{"index": 0, "delta": {}, "finish_reason": "brand_new_reason"}],
}

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "developer", "content": "Answer in French."},
    {"role": "user", "content": "hello", "name": "ada"},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is this?"},
            {
                "type": "image_url",
                "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"},
            },
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "42"},
]


def _without_nulls(value: Any) -> Any:
    """The wire JSON as to_dict() writes it: None fields are left out, nothing else changes."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("cls", "data", "schema_name"),
    [
        (SendResponse, COMPLETION, "SendResponse"),
        (StreamChunk, ROLE_CHUNK, "StreamChunk"),
        (StreamChunk, TOOL_CHUNK_FIRST, "StreamChunk"),
        (StreamChunk, TOOL_CHUNK_CONT, "StreamChunk"),
        (StreamChunk, USAGE_CHUNK, "StreamChunk"),
        *[(Message, m, "Message") for m in MESSAGES],
        (
            ErrorResponse,
            {
                "error": {
                    "message": "bad",
                    "type": "invalid_request_error",
                    "code": "x",
                    "param": None,
                }
            },
            "ErrorResponse",
        ),
    ],
)
def test_realistic_json_validates_and_round_trips(
    cls: Any, data: dict[str, Any], schema_name: str
) -> None:
    validate(data, schema_name)
    obj = cls.from_dict(copy.deepcopy(data))
    out = obj.to_dict()
    # Known null fields are omitted; unknown keys come back exactly as received (nulls included).
    assert _without_nulls(out) == _without_nulls(data)
    # Parsing what to_dict() wrote gives the same JSON back (equality of the objects
    # would differ: a dict model keeps the nulls it was given, as a dict does).
    assert cls.from_dict(out).to_dict() == out
    validate(out, schema_name)
    json.dumps(out)  # plain JSON types only (no enum members, no attrs objects)


def test_unknown_fields_are_kept_at_every_level() -> None:
    r = SendResponse.from_dict(copy.deepcopy(COMPLETION))
    assert r.extra == {"system_fingerprint": "fp_abc"}
    assert r.choices[0].extra == {"logprobs": None}
    assert r.choices[0].message.extra == {"annotations": []}
    out = r.to_dict()
    assert out["system_fingerprint"] == "fp_abc"
    assert out["choices"][0]["logprobs"] is None
    assert out["choices"][0]["message"]["annotations"] == []


def test_unknown_enum_values_are_kept_as_strings() -> None:
    chunk = StreamChunk.from_dict(
        {"choices": [{"index": 0, "delta": {"role": "moderator"}, "finish_reason": "paused"}]}
    )
    assert chunk.role == "moderator"
    assert isinstance(chunk.role, Role)
    assert chunk.finish_reason == "paused"
    assert chunk.to_dict()["choices"][0]["delta"]["role"] == "moderator"
    assert type(chunk.to_dict()["choices"][0]["delta"]["role"]) is str
    assert Role("assistant") is Role.assistant
    assert str(Role.user) == "user" and f"{Role.tool}" == "tool"


def test_missing_optional_fields_are_none_and_defaults_apply() -> None:
    chunk = StreamChunk.from_dict({})
    assert chunk.id is None and chunk.usage is None and chunk.choices == []
    tcd = ToolCallDelta.from_dict({"function": {"arguments": "x"}})
    assert tcd.index is None and tcd.id is None and tcd.function is not None
    assert tcd.function.name is None


def test_to_dict_keeps_meaningful_defaults() -> None:
    chunk = StreamChunk.from_dict({"choices": [{"delta": {"content": "a"}}]})
    assert chunk.to_dict()["choices"][0]["index"] == 0
    tool = Tool.function("f")
    assert tool.to_dict() == {"type": "function", "function": {"name": "f"}}
    part = ContentPart(type="text", text="x")
    assert part.to_dict() == {"type": "text", "text": "x"}


def test_stream_chunk_convenience() -> None:
    role = StreamChunk.from_dict(copy.deepcopy(ROLE_CHUNK))
    # The official SDK's reading: an empty text is no text.
    assert role.role == "assistant" and role.text is None and role.finish_reason is None
    assert role.choices[0].delta.content == ""
    assert role.tool_calls is None
    tool = StreamChunk.from_dict(copy.deepcopy(TOOL_CHUNK_FIRST))
    assert tool.tool_calls is not None and tool.tool_calls[0].id == "call_1"
    assert tool.tool_calls[0]["function"]["name"] == "get_weather"
    fin = StreamChunk.from_dict(copy.deepcopy(FINISH_CHUNK))
    assert fin.finish_reason == "brand_new_reason" and fin.text is None


def test_convenience_with_empty_choices() -> None:
    usage = StreamChunk.from_dict(copy.deepcopy(USAGE_CHUNK))
    assert usage.text is None and usage.role is None
    assert usage.finish_reason is None and usage.tool_calls is None
    assert usage.usage == Usage(prompt_tokens=5, completion_tokens=2, total_tokens=7)
    assert usage.compression is not None and usage.compression.reduction == 12.0
    empty = SendResponse.from_dict({"choices": []})
    assert empty.text is None and empty.message is None
    assert empty.finish_reason is None and empty.tool_calls is None
    assert empty.headers == {} and empty.provider is None


def test_send_response_convenience() -> None:
    r = SendResponse.from_dict(copy.deepcopy(COMPLETION))
    assert r.text is None
    assert r.finish_reason == "tool_calls"
    assert r.message is not None and r.message.role == "assistant"
    assert r.tool_calls is not None and r.tool_calls[0].arguments_json() == {"city": "Paris"}
    assert r.usage is not None and r.usage.input_tokens_details is not None
    assert r.usage.input_tokens_details.cached_tokens == 0
    assert r.compression == Compression(
        saved_tokens=40, cost_savings=120, reduction=32.5, time_ms=3
    )
    assert isinstance(r.compression.reduction, float)
    assert r.edgee_tools_executed is not None
    assert r.edgee_tools_executed[0].name == "web_search"
    assert r.edgee_tools_executed[0].extra == {"id": "srv_1"}
    text = SendResponse.from_dict(
        {
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "hi"},
                    "finish_reason": "stop",
                }
            ]
        }
    )
    assert text.text == "hi" and text.finish_reason == "stop"


def test_headers_are_not_part_of_the_wire_json() -> None:
    r = SendResponse.from_dict({"choices": []})
    r.attach_http_headers(
        {"x-edgee-provider": "anthropic", "x-edgee-fallback-used": "1", "x-request-id": "req_1"}
    )
    assert r.provider == "anthropic" and r.fallback_used is True and r.request_id == "req_1"
    assert r.to_dict() == {"choices": []}


@pytest.mark.parametrize(
    ("value", "used"),
    [("1", True), ("true", True), ("TRUE", True), (" True ", True), ("0", False), ("false", False)],
)
def test_fallback_used_reads_the_gateway_header(value: str, used: bool) -> None:
    r = SendResponse.from_dict({"choices": []})
    r.attach_http_headers({"x-edgee-fallback-used": value})
    assert r.fallback_used is used
    absent = SendResponse.from_dict({"choices": []})
    absent.attach_http_headers({})
    assert absent.fallback_used is False and absent.request_id is None


def test_messages_and_tool_calls_read_like_the_official_sdks_dicts() -> None:
    r = SendResponse.from_dict(copy.deepcopy(COMPLETION))
    msg = r.message
    assert msg is not None
    assert msg["content"] is None and "content" in msg  # null, but present: dict semantics
    assert msg["role"] == "assistant"
    assert msg.get("content", "fallback") is None
    assert msg.get("tool_calls") is r.tool_calls
    assert msg["annotations"] == []  # unknown keys are plain keys
    assert r.tool_calls is not None
    call = r.tool_calls[0]
    assert call["function"]["name"] == "get_weather"
    assert call["function"]["arguments"] == '{"city": "Paris"}'
    assert call["id"] == "call_1" and call.get("type") == "function"
    assert "function" in call and "nope" not in call
    with pytest.raises(KeyError):
        call["nope"]
    assert dict(Message.user("x")) == {"role": "user", "content": "x"}
    assert list(call.keys()) == ["id", "type", "function"]


def test_message_constructors() -> None:
    assert Message.system("s").to_dict() == {"role": "system", "content": "s"}
    assert Message.developer("d").to_dict() == {"role": "developer", "content": "d"}
    assert Message.user("u").to_dict() == {"role": "user", "content": "u"}
    call = ToolCall.from_dict(
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    )
    assert Message.assistant(tool_calls=[call]).to_dict() == {
        "role": "assistant",
        "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ],
    }
    assert Message.assistant("hi").to_dict() == {"role": "assistant", "content": "hi"}
    assert Message.tool("c", "42").to_dict() == {
        "role": "tool",
        "content": "42",
        "tool_call_id": "c",
    }
    parts = [ContentPart(type="text", text="a"), ContentPart(type="text", text="b")]
    assert Message.user(parts).text == "ab"


def test_tool_constructors() -> None:
    params = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    t = Tool.function("get_weather", "Weather of a city", params)
    assert isinstance(t.function, FunctionDefinition)
    assert t.function.name == "get_weather"
    assert t.to_dict() == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather of a city",
            "parameters": params,
        },
    }
    full = Tool(
        type="function",
        function=FunctionDefinition(
            name="get_weather", description="Weather of a city", parameters=params
        ),
    )
    assert full == t
    assert Tool.from_dict(t.to_dict()) == t


def test_arguments_json_errors_name_the_call() -> None:
    call = ToolCall.from_dict({"id": "call_9", "function": {"name": "f", "arguments": "{oops"}})
    with pytest.raises(ValueError, match="call_9"):
        call.arguments_json()
    empty = ToolCall.from_dict({"id": "c", "function": {"name": "f", "arguments": ""}})
    assert empty.arguments_json() == {}


def test_input_object_round_trip() -> None:
    data = {
        "messages": MESSAGES,
        "tools": [
            {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
        ],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "tags": ["a", "b"],
        "tool_result_trimming": True,
        "output_brevity": False,
    }
    validate(data, "InputObject")
    obj = InputObject.from_dict(copy.deepcopy(data))
    assert obj.tool_choice == {"type": "function", "function": {"name": "f"}}
    assert obj.output_brevity is False
    assert obj.to_dict() == _without_nulls(data)


def test_models_are_slotted_and_mutable_like_the_official_dataclasses() -> None:
    usage = Usage(1, 2, 3)
    assert "__dict__" not in dir(usage) and "__dict__" not in dir(Message.user("x"))
    usage.total_tokens = 4
    assert usage.to_dict() == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 4}
    msg = Message.user("x")
    msg.content = "y"
    assert msg == {"role": "user", "content": "y"}
    inp = InputObject([msg])
    inp.tags = ["a"]
    assert inp.tags == ["a"]
    with pytest.raises(AttributeError):
        msg.colour = "red"  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        usage.colour = 1  # type: ignore[attr-defined]


def test_malformed_json_raises() -> None:
    with pytest.raises(ValueError, match="invalid StreamChunk"):
        StreamChunk.from_dict({"choices": "nope"})
    with pytest.raises(ValueError, match="must be a JSON object"):
        StreamChunk.from_dict([])  # type: ignore[arg-type]


@given(
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(
            lambda k: (
                k
                not in {
                    "id",
                    "object",
                    "created",
                    "model",
                    "choices",
                    "usage",
                    "compression",
                    "edgee_pending_id",
                    "edgee_tools_executed",
                }
            )
        ),
        json_values,
        max_size=4,
    )
)
def test_any_unknown_keys_survive_a_round_trip(extra: dict[str, Any]) -> None:
    data = {**copy.deepcopy(ROLE_CHUNK), **extra}
    chunk = StreamChunk.from_dict(data)
    assert chunk.extra == extra
    out = chunk.to_dict()
    for key, value in extra.items():
        assert out[key] == value
