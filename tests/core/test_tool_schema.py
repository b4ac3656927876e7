"""@tool derives JSON Schemas from signatures and checks the model's arguments against them."""

from __future__ import annotations

import enum
from typing import Any, Literal

import attrs
import pytest

from edgee.tools import FunctionTool, ToolArgumentsError, tool


class Unit(enum.Enum):
    CELSIUS = "c"
    FAHRENHEIT = "f"


@attrs.define
class Place:
    city: str
    country: str | None = None


@tool
def get_weather(place: Place, unit: Unit = Unit.CELSIUS, days: list[int] | None = None) -> dict:  # type: ignore[type-arg]
    """Current weather of a place.

    Longer explanation that is not part of the description.

    Args:
        place: Where to look.
        unit: Temperature unit.
    """
    return {"city": place.city, "unit": unit.value, "days": days}


@tool(name="add", description="Add two numbers.")
def add_numbers(a: float, b: float, exact: bool = False) -> float:
    return a + b


@tool
async def search(query: str, mode: Literal["web", "news"] = "web", limit: int = 5) -> list[str]:
    """Search the web.

    :param query: What to look for.
    :param limit: At most this many results.
    """
    return [query] * limit


def test_weather_schema_matches_the_hand_written_one() -> None:
    assert isinstance(get_weather, FunctionTool)
    assert get_weather.name == "get_weather"
    assert get_weather.description == "Current weather of a place."
    assert get_weather.parameters == {
        "type": "object",
        "properties": {
            "place": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "country": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                },
                "required": ["city"],
                "additionalProperties": False,
                "description": "Where to look.",
            },
            "unit": {"type": "string", "enum": ["c", "f"], "description": "Temperature unit."},
            "days": {"anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}]},
        },
        "required": ["place"],
        "additionalProperties": False,
    }


def test_name_and_description_overrides_and_primitives() -> None:
    assert add_numbers.name == "add" and add_numbers.description == "Add two numbers."
    assert add_numbers.parameters == {
        "type": "object",
        "properties": {
            "a": {"type": "number"},
            "b": {"type": "number"},
            "exact": {"type": "boolean"},
        },
        "required": ["a", "b"],
        "additionalProperties": False,
    }
    assert add_numbers(2, 3) == 5  # still callable as a function


def test_async_tool_with_literal_and_sphinx_docstring() -> None:
    assert search.is_async and not get_weather.is_async
    assert search.parameters["properties"] == {
        "query": {"type": "string", "description": "What to look for."},
        "mode": {"type": "string", "enum": ["web", "news"]},
        "limit": {"type": "integer", "description": "At most this many results."},
    }
    assert search.parameters["required"] == ["query"]
    assert search.description == "Search the web."


def test_wire_tool() -> None:
    assert add_numbers.to_dict() == {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two numbers.",
            "parameters": add_numbers.parameters,
        },
    }


def test_bind_converts_valid_arguments() -> None:
    kwargs = get_weather.bind('{"place": {"city": "Paris"}, "unit": "f", "days": [1, 2.0]}')
    assert kwargs == {"place": Place(city="Paris"), "unit": Unit.FAHRENHEIT, "days": [1, 2]}
    assert add_numbers.bind('{"a": 1, "b": 2.5}') == {"a": 1.0, "b": 2.5}
    assert search.bind('{"query": "q"}') == {"query": "q"}  # defaults are left to Python


@pytest.mark.parametrize(
    ("fn", "arguments", "message"),
    [
        (get_weather, "{oops", "not valid JSON"),
        (get_weather, "[1]", "JSON object"),
        (get_weather, "{}", "missing required argument: place"),
        (get_weather, '{"place": {"city": "x"}, "wind": 1}', "unexpected argument"),
        (get_weather, '{"place": {}}', "missing field city"),
        (get_weather, '{"place": {"city": 3}}', "place.city must be a string"),
        (get_weather, '{"place": {"city": "x"}, "unit": "kelvin"}', "unit must be one of"),
        (get_weather, '{"place": {"city": "x"}, "days": ["a"]}', "days[0] must be an integer"),
        (add_numbers, '{"a": "1", "b": 2}', "a must be a number"),
        (add_numbers, '{"a": 1, "b": 2, "exact": "yes"}', "exact must be a boolean"),
        (search, '{"query": "x", "mode": "images"}', "mode must be one of"),
        (search, '{"query": "x", "limit": 1.5}', "limit must be an integer"),
    ],
)
def test_bind_rejects_what_does_not_fit(fn: FunctionTool, arguments: str, message: str) -> None:
    with pytest.raises(ToolArgumentsError, match=message.replace("[", r"\[")):
        fn.bind(arguments)


def test_undescribable_signatures_are_refused() -> None:
    with pytest.raises(TypeError, match="args"):

        @tool
        def variadic(*items: str) -> None: ...

    class Opaque:
        pass

    with pytest.raises(TypeError, match="parameter thing"):

        @tool
        def opaque(thing: Opaque) -> None: ...


def test_untyped_parameters_accept_anything() -> None:
    @tool
    def anything(x: Any, y=1) -> None:  # type: ignore[no-untyped-def]
        """Takes anything."""

    assert anything.parameters["properties"] == {"x": {}, "y": {}}
    assert anything.bind('{"x": [1, {"a": null}]}') == {"x": [1, {"a": None}]}
