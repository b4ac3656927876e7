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


# --- The schema builder beyond @tool: classes of every kind, and the strict form. ---

import dataclasses  # noqa: E402

import pydantic  # noqa: E402
from typing_extensions import NotRequired, TypedDict  # noqa: E402  (3.10: typing has no NotRequired)

from edgee.tools import json_schema  # noqa: E402


@attrs.define
class Street:
    """A street address.

    More detail that is not part of the description.
    """

    line: str = attrs.field(metadata={"description": "Number and street."})
    unit: Unit = Unit.CELSIUS
    postcode: str | None = None


@attrs.define
class Customer:
    name: str
    addresses: list[Street]
    tier: Literal["free", "pro"] = "free"
    nickname: str | None = None


def test_nested_attrs_class_schema() -> None:
    street = {
        "type": "object",
        "description": "A street address.",
        "properties": {
            "line": {"type": "string", "description": "Number and street."},
            "unit": {"type": "string", "enum": ["c", "f"]},
            "postcode": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["line"],
        "additionalProperties": False,
    }
    assert json_schema(Customer) == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "addresses": {"type": "array", "items": street},
            "tier": {"type": "string", "enum": ["free", "pro"]},
            "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["name", "addresses"],
        "additionalProperties": False,
    }


def test_nested_attrs_class_strict_schema() -> None:
    assert json_schema(Customer, strict=True) == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "addresses": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "A street address.",
                    "properties": {
                        "line": {"type": "string", "description": "Number and street."},
                        "unit": {"type": "string", "enum": ["c", "f"]},
                        "postcode": {"type": ["string", "null"]},
                    },
                    "required": ["line", "unit", "postcode"],
                    "additionalProperties": False,
                },
            },
            "tier": {"type": "string", "enum": ["free", "pro"]},
            "nickname": {"type": ["string", "null"]},
        },
        "required": ["name", "addresses", "tier", "nickname"],
        "additionalProperties": False,
    }


@dataclasses.dataclass
class Movie:
    title: str
    year: int | None
    rating: float | None = None
    genres: list[Literal["drama", "comedy"]] = dataclasses.field(default_factory=list)
    director: Place | None = dataclasses.field(
        default=None, metadata={"description": "Who made it."}
    )


def test_dataclass_with_optionals_schema() -> None:
    place = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "country": {"type": ["string", "null"]}},
        "required": ["city", "country"],
        "additionalProperties": False,
    }
    assert json_schema(Movie, strict=True) == {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "year": {"type": ["integer", "null"]},
            "rating": {"type": ["number", "null"]},
            "genres": {"type": "array", "items": {"type": "string", "enum": ["drama", "comedy"]}},
            "director": {"anyOf": [place, {"type": "null"}], "description": "Who made it."},
        },
        "required": ["title", "year", "rating", "genres", "director"],
        "additionalProperties": False,
    }
    # Not strict: only fields without a default are required; the generated
    # dataclass docstring ("Movie(title: str, ...)") is not a description.
    loose = json_schema(Movie)
    assert loose["required"] == ["title", "year"]
    assert "description" not in loose
    assert loose["properties"]["year"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}


class Weather(TypedDict, total=False):
    city: str
    temperature: float | None


class Report(TypedDict):
    """A weather report."""

    station: str
    readings: list[Weather]
    note: NotRequired[str]


def test_typeddict_schema() -> None:
    weather_strict = {
        "type": "object",
        "properties": {
            "city": {"type": ["string", "null"]},
            "temperature": {"type": ["number", "null"]},
        },
        "required": ["city", "temperature"],
        "additionalProperties": False,
    }
    assert json_schema(Report, strict=True) == {
        "type": "object",
        "description": "A weather report.",
        "properties": {
            "station": {"type": "string"},
            "readings": {"type": "array", "items": weather_strict},
            "note": {"type": ["string", "null"]},
        },
        "required": ["station", "readings", "note"],
        "additionalProperties": False,
    }
    assert json_schema(Report) == {
        "type": "object",
        "description": "A weather report.",
        "properties": {
            "station": {"type": "string"},
            "readings": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string"},
                        "temperature": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                    },
                    "additionalProperties": False,
                },
            },
            "note": {"type": "string"},
        },
        "required": ["station", "readings"],
        "additionalProperties": False,
    }


class PAddress(pydantic.BaseModel):
    city: str
    zip: str | None = None


class PUser(pydantic.BaseModel):
    name: str = pydantic.Field(description="Full name.")
    home: PAddress
    work: PAddress | None = None
    age: int = 30


def test_pydantic_model_strict_schema() -> None:
    assert json_schema(PUser, strict=True) == {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "Full name."},
            "home": {"$ref": "#/$defs/PAddress"},
            "work": {"anyOf": [{"$ref": "#/$defs/PAddress"}, {"type": "null"}]},
            "age": {"type": "integer"},
        },
        "required": ["name", "home", "work", "age"],
        "additionalProperties": False,
        "$defs": {
            "PAddress": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "zip": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                },
                "required": ["city", "zip"],
                "additionalProperties": False,
            }
        },
    }


@attrs.define
class TreeNode:
    label: str
    children: list[TreeNode] = attrs.Factory(list)


def test_recursive_class_uses_defs() -> None:
    node = {
        "type": "object",
        "properties": {
            "label": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/TreeNode"}},
        },
        "required": ["label", "children"],
        "additionalProperties": False,
    }
    assert json_schema(TreeNode, strict=True) == {**node, "$defs": {"TreeNode": node}}


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (Any, "Any cannot"),
        (dict[str, int], "free-form keys"),
        (tuple[int, str], "fixed-length"),
        (list, "item type"),
    ],
)
def test_strict_mode_refuses_what_it_cannot_express(annotation: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        json_schema(annotation, strict=True)


def test_free_form_pydantic_mapping_is_refused_in_strict_mode() -> None:
    class Bag(pydantic.BaseModel):
        items: dict[str, int]

    with pytest.raises(TypeError, match="free-form"):
        json_schema(Bag, strict=True)


def test_tool_parameters_of_every_class_kind_are_bound() -> None:
    @tool
    def book(movie: Movie, report: Report, user: PUser, pair: tuple[int, str]) -> None:
        """Book it."""

    kwargs = book.bind(
        {
            "movie": {"title": "Heat", "year": 1995, "genres": ["drama"]},
            "report": {"station": "X", "readings": [{"city": "Paris"}]},
            "user": {"name": "Ann", "home": {"city": "Oslo"}},
            "pair": [1, "a"],
        }
    )
    assert kwargs["movie"] == Movie(title="Heat", year=1995, genres=["drama"])
    assert kwargs["report"] == {"station": "X", "readings": [{"city": "Paris"}]}
    assert kwargs["user"] == PUser(name="Ann", home=PAddress(city="Oslo"))
    assert kwargs["pair"] == (1, "a")
    assert book.parameters["properties"]["pair"] == {
        "type": "array",
        "prefixItems": [{"type": "integer"}, {"type": "string"}],
        "minItems": 2,
        "maxItems": 2,
    }
    for bad, message in [
        ({"movie": {"title": "x"}}, "movie: missing field year"),
        ({"report": {"station": "X", "readings": [{"town": 1}]}}, "unexpected field"),
        ({"user": {"name": "A", "home": {}}}, "user:"),
        ({"pair": [1]}, "list of 2 items"),
    ]:
        base: dict[str, Any] = {
            "movie": {"title": "Heat", "year": None},
            "report": {"station": "X", "readings": []},
            "user": {"name": "Ann", "home": {"city": "Oslo"}},
            "pair": [1, "a"],
        }
        with pytest.raises(ToolArgumentsError, match=message):
            book.bind({**base, **bad})


def test_recursive_tool_parameter_puts_defs_at_the_root() -> None:
    @tool
    def draw(tree: TreeNode) -> None:
        """Draw a tree."""

    assert draw.parameters["properties"]["tree"]["properties"]["children"] == {
        "type": "array",
        "items": {"$ref": "#/$defs/TreeNode"},
    }
    assert set(draw.parameters["$defs"]) == {"TreeNode"}
    kwargs = draw.bind({"tree": {"label": "a", "children": [{"label": "b"}]}})
    assert kwargs == {"tree": TreeNode("a", [TreeNode("b")])}


def test_strict_tool_sends_the_strict_form() -> None:
    @tool(strict=True)
    def find(query: str, place: Place | None = None, limit: int = 5) -> None:
        """Find things.

        Args:
            query: What to look for.
        """

    assert find.strict and not get_weather.strict
    assert find.to_dict() == {
        "type": "function",
        "function": {
            "name": "find",
            "description": "Find things.",
            "strict": True,
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What to look for."},
                    "place": {
                        "anyOf": [
                            {
                                "type": "object",
                                "properties": {
                                    "city": {"type": "string"},
                                    "country": {"type": ["string", "null"]},
                                },
                                "required": ["city", "country"],
                                "additionalProperties": False,
                            },
                            {"type": "null"},
                        ]
                    },
                    "limit": {"type": "integer"},
                },
                "required": ["query", "place", "limit"],
                "additionalProperties": False,
            },
        },
    }
    assert find.bind('{"query": "q", "place": null, "limit": 2}') == {
        "query": "q",
        "place": None,
        "limit": 2,
    }
    assert "strict" not in get_weather.to_dict()["function"]  # the default is unchanged


class PNode(pydantic.BaseModel):
    label: str
    children: list[PNode] = []


def test_recursive_pydantic_model_is_an_object_at_the_root() -> None:
    node = {
        "type": "object",
        "properties": {
            "label": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/PNode"}},
        },
        "required": ["label", "children"],
        "additionalProperties": False,
    }
    schema = json_schema(PNode, strict=True)
    assert {k: v for k, v in schema.items() if k != "$defs"} == node
    assert schema["$defs"] == {"PNode": node}
