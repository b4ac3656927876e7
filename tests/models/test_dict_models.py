"""Messages, tool calls and tools are dicts of wire JSON, as the official SDK's were.

Code written against the official ``edgee`` package got ``response.message``
and its ``tool_calls`` as plain dicts; these models must behave as those dicts
do (``isinstance``, ``json.dumps``, ``dict()``, ``==``, ``in``, ``len``,
``items()``) while keeping typed attribute access.
"""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wire_samples import json_values, tool_call_message

from edgee._convert import converter
from edgee.models import (
    ContentPart,
    FunctionCall,
    FunctionDefinition,
    ImageUrl,
    Message,
    ResponseMessage,
    Role,
    SendResponse,
    Tool,
    ToolCall,
    ToolExecution,
)

WIRE = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1764590400,
    "model": "openai/gpt-4o",
    "choices": [
        {
            "index": 0,
            "message": tool_call_message(refusal=None, annotations=[]),
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
}
WIRE_MESSAGE = WIRE["choices"][0]["message"]  # type: ignore[index]


def response() -> SendResponse:
    return SendResponse.from_dict(json.loads(json.dumps(WIRE)))


def test_the_message_is_the_wire_dict() -> None:
    r = response()
    m = r.message
    assert isinstance(m, dict) and isinstance(m, ResponseMessage)
    assert m == WIRE_MESSAGE and m == WIRE_MESSAGE
    assert dict(m) == WIRE_MESSAGE and type(dict(m)) is dict
    assert json.loads(json.dumps(m)) == WIRE_MESSAGE
    assert len(m) == 5 and list(m) == ["role", "content", "tool_calls", "refusal", "annotations"]
    assert next(iter(m.items())) == ("role", "assistant")
    assert "content" in m and m["content"] is None  # null is present, as in a dict
    assert "name" not in m
    assert repr(m) == repr(WIRE_MESSAGE)  # print() shows what the official SDK showed


def test_tool_calls_are_wire_dicts_with_typed_attributes() -> None:
    r = response()
    assert r.tool_calls is not None
    call = r.tool_calls[0]
    wire_call = WIRE_MESSAGE["tool_calls"][0]
    assert isinstance(call, dict) and isinstance(call, ToolCall)
    assert call == wire_call and dict(call) == wire_call and len(call) == 3
    assert json.loads(json.dumps(call)) == wire_call
    assert "function" in call and call["function"]["name"] == "get_weather"
    assert isinstance(call["function"], FunctionCall) and call["function"] is call.function
    assert call.function.name == "get_weather" and call.id == "call_1"
    assert call.arguments_json() == {"city": "Paris"}
    assert r.message is not None and r.message.tool_calls is r.message["tool_calls"]


def test_typed_reads() -> None:
    m = response().message
    assert m is not None
    assert m.role is Role.assistant and m["role"] == "assistant" and type(m["role"]) is str
    assert m.content is None and m.refusal is None
    assert m.extra == {"annotations": []}
    assert m.to_dict() == {
        "role": "assistant",
        "tool_calls": [dict(WIRE_MESSAGE["tool_calls"][0])],
        "annotations": [],
    }
    assert Message.user("x").name is None  # an absent key reads as None


def test_the_agent_loop_history_is_plain_json() -> None:
    """A history of SDK objects and dicts goes through json.dumps as it is."""
    r = response()
    history: list[Any] = [
        Message.system("be brief"),
        {"role": "user", "content": "weather in Paris?"},
        r.message,
        Message.tool("call_1", "22C"),
        Message.user(
            [
                ContentPart(type="text", text="and this?"),
                {"type": "image_url", "image_url": {"url": "u"}},
            ]
        ),
    ]
    text = json.dumps(history)
    assert json.loads(text) == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "weather in Paris?"},
        WIRE_MESSAGE,
        {"role": "tool", "content": "22C", "tool_call_id": "call_1"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "and this?"},
                {"type": "image_url", "image_url": {"url": "u"}},
            ],
        },
    ]
    # Parts given as dicts became typed parts.
    assert isinstance(history[4].content[1], ContentPart)
    assert isinstance(history[4].content[1].image_url, ImageUrl)
    tools = [Tool.function("get_weather", "Weather", {"type": "object"})]
    assert json.loads(json.dumps(tools)) == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather",
                "parameters": {"type": "object"},
            },
        }
    ]


def test_attribute_writes_are_key_writes() -> None:
    m = Message.user("hi")
    m.content = "bye"
    m.name = "ada"
    assert m == {"role": "user", "content": "bye", "name": "ada"}
    m.tool_calls = [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]  # type: ignore[list-item]
    assert isinstance(m.tool_calls[0], ToolCall)
    assert isinstance(m["tool_calls"][0].function, FunctionCall)
    del m.name
    assert "name" not in m and m.name is None
    m.role = Role.assistant
    assert type(m["role"]) is str and m.role is Role.assistant
    with pytest.raises(TypeError, match=r"Message\.tool_calls must be a list"):
        m.tool_calls = "nope"  # type: ignore[assignment]


def test_values_written_as_items_read_back_typed() -> None:
    m = Message.assistant("x")
    m["tool_calls"] = [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ]
    calls = m.tool_calls
    assert calls is not None and isinstance(calls[0], ToolCall) and calls[0].function.name == "f"
    assert m["tool_calls"] is calls  # fixed in place, once
    m["tool_calls"] = "garbage"
    assert m.tool_calls == "garbage"  # a read never raises: the raw value comes back


def test_the_constructor_stores_what_it_is_given() -> None:
    assert ResponseMessage(role="assistant", content=None) == {"role": "assistant", "content": None}
    assert ResponseMessage() == {}
    assert Message("user", "hi", "ada") == {"role": "user", "content": "hi", "name": "ada"}
    call = ToolCall(id="c", function=FunctionCall(name="f", arguments="{}"))  # type: ignore[call-arg]
    assert call == {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    assert list(call) == ["id", "type", "function"]


def test_copies_and_pickles_keep_the_type() -> None:
    m = response().message
    assert m is not None
    for other in (m.copy(), copy.copy(m), copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert type(other) is ResponseMessage and other == m and other is not m
        assert other.tool_calls is not None and isinstance(other.tool_calls[0], ToolCall)
    deep = copy.deepcopy(m)
    assert deep.tool_calls is not None and m.tool_calls is not None
    assert deep.tool_calls[0] is not m.tool_calls[0]


def test_from_dict_copies_and_builds_nested_models() -> None:
    raw = json.loads(json.dumps(WIRE_MESSAGE))
    m = ResponseMessage.from_dict(raw)
    assert m == raw and m is not raw
    m.content = "changed"
    assert raw["content"] is None
    assert type(raw["tool_calls"][0]) is dict  # the input is not touched


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"role": "assistant", "tool_calls": "x"}, "ResponseMessage.tool_calls must be a list"),
        ({"role": "assistant", "tool_calls": [1]}, r"tool_calls\[0\] must be a JSON object"),
        ({"role": 5}, "ResponseMessage.role must be a string"),
        (
            {"role": "assistant", "tool_calls": [{"id": "c", "function": []}]},
            "ToolCall.function must be a JSON object",
        ),
    ],
)
def test_malformed_nested_values_are_value_errors_naming_the_field(data: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ResponseMessage.from_dict(data)


def test_a_response_with_a_malformed_message_is_refused_by_the_converter() -> None:
    bad = json.loads(json.dumps(WIRE))
    bad["choices"][0]["message"]["tool_calls"] = 7
    with pytest.raises(ValueError, match="invalid SendResponse"):
        SendResponse.from_dict(bad)


def test_server_tool_items_compare_as_dicts() -> None:
    item = ToolExecution(name="web_search", success=True)
    assert item == {"name": "web_search", "success": True} and item.success is True
    r = SendResponse.from_dict({"choices": [], "edgee_tools_executed": [{"name": "x"}]})
    assert r.edgee_tools_executed == [{"name": "x"}]
    assert r.edgee_tools_executed is not None and r.edgee_tools_executed[0].success is None


def test_function_definition_parameters_stay_plain_json() -> None:
    params = {"type": "object", "properties": {"a": {"type": "string"}}}
    fd = FunctionDefinition("f", None, params)
    assert fd.parameters is params and fd["description"] is None  # given, so stored
    assert Tool("function", fd).to_dict() == {
        "type": "function",
        "function": {"name": "f", "parameters": params},
    }


def test_the_converter_builds_and_writes_dict_models() -> None:
    m = converter.structure(json.loads(json.dumps(WIRE_MESSAGE)), ResponseMessage)
    assert isinstance(m, ResponseMessage) and isinstance(m.tool_calls[0], ToolCall)  # type: ignore[index]
    out = converter.unstructure(m)
    assert type(out) is dict and type(out["tool_calls"][0]) is dict
    assert type(out["tool_calls"][0]["function"]) is dict


_call = st.fixed_dictionaries(
    {
        "id": st.text(max_size=5),
        "type": st.just("function"),
        "function": st.fixed_dictionaries(
            {"name": st.text(max_size=5), "arguments": st.text(max_size=8)},
            optional={"x-new": json_values},
        ),
    },
    optional={"x-new": json_values},
)
_message = st.fixed_dictionaries(
    {},
    optional={
        "role": st.sampled_from(["assistant", "user", "moderator"]),
        "content": st.none() | st.text(max_size=8),
        "tool_calls": st.none() | st.lists(_call, max_size=2),
        "refusal": st.none() | st.text(max_size=4),
        "annotations": json_values,
        "audio": json_values,
    },
)


@given(_message)
def test_any_wire_message_is_kept_exactly(data: dict[str, Any]) -> None:
    """Keys, order, nulls and unknown fields: json.dumps gives back the same text."""
    m = ResponseMessage.from_dict(copy.deepcopy(data))
    assert json.dumps(m) == json.dumps(data)
    assert m == data
    known = {"role", "content", "tool_calls", "refusal"}
    assert m.extra == {k: v for k, v in data.items() if k not in known}
    assert m.to_dict() == {k: v for k, v in data.items() if v is not None or k not in known} | (
        {"tool_calls": [dict(c) for c in data["tool_calls"]]} if data.get("tool_calls") else {}
    )


def test_a_subclass_of_a_model_is_kept_where_the_model_goes() -> None:
    class Traced(ToolCall):
        """A user's own tool call type."""

    call = Traced("c", "function", {"name": "f", "arguments": "{}"})
    m = Message.assistant(tool_calls=[call])
    assert m.tool_calls is not None and m.tool_calls[0] is call
    assert isinstance(call.function, FunctionCall) and call == {
        "id": "c",
        "type": "function",
        "function": {"name": "f", "arguments": "{}"},
    }
