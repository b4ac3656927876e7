"""Models keep the official ``edgee`` 1.1.0 dataclasses' field names, order and defaults.

``OFFICIAL`` is read off the official package's source (``edgee/__init__.py`` of
the 1.1.0 wheel on PyPI): each class with its fields in order, ``REQUIRED`` for a
field without a default. Fields this SDK adds come after them. A field the
official class requires may have a default here (a superset: every official
call still assigns the same fields).
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

from edgee.models import (
    Choice,
    Compression,
    FunctionDefinition,
    InputObject,
    Message,
    ResponseMessage,
    SendResponse,
    StreamChoice,
    StreamChunk,
    StreamDelta,
    Tool,
    ToolCall,
    Usage,
)

REQUIRED = object()

OFFICIAL: dict[type, list[tuple[str, Any]]] = {
    FunctionDefinition: [("name", REQUIRED), ("description", None), ("parameters", None)],
    Tool: [("type", REQUIRED), ("function", REQUIRED)],
    ToolCall: [("id", REQUIRED), ("type", REQUIRED), ("function", REQUIRED)],
    Message: [
        ("role", REQUIRED),
        ("content", None),
        ("name", None),
        ("tool_calls", None),
        ("tool_call_id", None),
    ],
    InputObject: [
        ("messages", REQUIRED),
        ("tools", None),
        ("tool_choice", None),
        ("tags", None),
        ("compression_model", None),
        ("tool_result_trimming", None),
        ("tool_surface_reduction", None),
        ("output_brevity", None),
    ],
    Choice: [("index", REQUIRED), ("message", REQUIRED), ("finish_reason", REQUIRED)],
    Usage: [
        ("prompt_tokens", REQUIRED),
        ("completion_tokens", REQUIRED),
        ("total_tokens", REQUIRED),
    ],
    Compression: [
        ("saved_tokens", REQUIRED),
        ("cost_savings", REQUIRED),
        ("reduction", REQUIRED),
        ("time_ms", REQUIRED),
    ],
    SendResponse: [("choices", REQUIRED), ("usage", None), ("compression", None)],
    StreamDelta: [("role", None), ("content", None), ("tool_calls", None)],
    StreamChoice: [("index", REQUIRED), ("delta", REQUIRED), ("finish_reason", None)],
    StreamChunk: [("choices", REQUIRED)],
}

# A value for each field, for building every class positionally.
SAMPLE: dict[str, Any] = {
    "name": "get_weather",
    "description": "Weather of a city",
    "parameters": {"type": "object"},
    "type": "function",
    "function": {"name": "f", "arguments": "{}"},
    "id": "call_1",
    "role": "assistant",
    "content": "hi",
    "tool_calls": None,
    "tool_call_id": "call_0",
    "messages": [{"role": "user", "content": "hi"}],
    "tools": [{"type": "function", "function": {"name": "f"}}],
    "tool_choice": "auto",
    "tags": ["a"],
    "compression_model": "claude",
    "tool_result_trimming": True,
    "tool_surface_reduction": False,
    "output_brevity": True,
    "index": 0,
    "message": {"role": "assistant", "content": "hi"},
    "finish_reason": "stop",
    "prompt_tokens": 5,
    "completion_tokens": 2,
    "total_tokens": 7,
    "saved_tokens": 40,
    "cost_savings": 27000,
    "reduction": 48.5,
    "time_ms": 3,
    "choices": [],
    "usage": None,
    "compression": None,
    "delta": StreamDelta(content="x"),
}


def _sample(cls: type, name: str) -> Any:
    if cls is Tool and name == "function":
        return FunctionDefinition("f")
    return SAMPLE[name]


@pytest.mark.parametrize("cls", list(OFFICIAL), ids=lambda c: c.__name__)
def test_official_fields_come_first_in_the_official_order(cls: type) -> None:
    names = [n for n in inspect.signature(cls).parameters if n != "extra"]
    official = [name for name, _ in OFFICIAL[cls]]
    assert names[: len(official)] == official


@pytest.mark.parametrize("cls", list(OFFICIAL), ids=lambda c: c.__name__)
def test_positional_construction_assigns_each_official_field(cls: type) -> None:
    fields = OFFICIAL[cls]
    values = [_sample(cls, name) for name, _ in fields]
    obj = cls(*values)
    for (name, _), value in zip(fields, values, strict=True):
        got = getattr(obj, name)
        if name == "function" and cls is ToolCall:
            assert got.name == "f" and got == value  # a FunctionCall, equal to the dict
        elif name == "message":
            assert isinstance(got, ResponseMessage) and got == value
        else:
            assert got == value, name


@pytest.mark.parametrize("cls", list(OFFICIAL), ids=lambda c: c.__name__)
def test_official_defaults(cls: type) -> None:
    fields = OFFICIAL[cls]
    required = [_sample(cls, n) for n, default in fields if default is REQUIRED]
    obj = cls(*required)
    for name, default in fields:
        if default is not REQUIRED:
            assert getattr(obj, name) == default, name


@pytest.mark.parametrize("cls", list(OFFICIAL), ids=lambda c: c.__name__)
def test_models_are_mutable_like_the_dataclasses(cls: type) -> None:
    fields = OFFICIAL[cls]
    obj = cls(*[_sample(cls, n) for n, _ in fields])
    for name, _ in fields:
        if name in ("function", "message", "delta"):
            continue  # typed objects: covered below
        setattr(obj, name, None if name != "choices" else [])
        assert getattr(obj, name) in (None, [])


def test_the_issue_examples() -> None:
    msgs = [{"role": "user", "content": "hi"}]
    inp = InputObject(msgs, None, None, None, "claude")
    assert inp.compression_model == "claude" and inp.tool_result_trimming is None
    fd = FunctionDefinition("get_weather", "Weather", {"type": "object"})
    tool = Tool("function", fd)
    assert tool.type == "function" and tool.function is fd
    call = ToolCall("call_1", "function", {"name": "f", "arguments": '{"x": 1}'})
    assert call.function.name == "f" and call.arguments_json() == {"x": 1}
    choice = Choice(0, {"role": "assistant", "content": "hi"}, "stop")
    assert choice.message.content == "hi" and choice.finish_reason == "stop"
    response = SendResponse([choice])
    assert response.text == "hi" and response.message == {"role": "assistant", "content": "hi"}
    assert response.finish_reason == "stop" and response.tool_calls is None
    # The mutations the issue lists.
    msg = Message("user", "hi")
    msg.content = "bye"
    assert msg == {"role": "user", "content": "bye"}
    inp.tags = ["a", "b"]
    assert inp.tags == ["a", "b"]
    choice.message = {"role": "assistant", "content": "changed"}  # type: ignore[assignment]
    assert response.text == "changed"


def test_fields_beyond_the_official_ones_are_optional() -> None:
    """Every field after the official ones has a default: official calls stay complete."""
    for cls, fields in OFFICIAL.items():
        params = list(inspect.signature(cls).parameters.values())[len(fields) :]
        assert all(p.default is not inspect.Parameter.empty for p in params), cls


def test_a_required_field_left_out_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="function"):
        ToolCall("call_1", "function")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="role"):
        Message()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="function"):
        Tool("function")  # type: ignore[call-arg]
    # The tool's "type" alone may be left out: it can only be "function".
    assert Tool(function=FunctionDefinition("f")) == {"type": "function", "function": {"name": "f"}}  # type: ignore[call-arg]


def test_official_dict_reads_of_a_response_work() -> None:
    """The official SDK's own property bodies, run against our models."""
    r = SendResponse(
        [
            Choice(
                0,
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                "tool_calls",
            )
        ]
    )
    # SendResponse.tool_calls in the official SDK:
    assert r.choices[0].message.get("tool_calls")
    assert r.choices[0].message["tool_calls"][0]["function"]["name"] == "f"
    assert r.text is None  # official: None when content is falsy
    assert json.loads(json.dumps(r.message)) == r.message
