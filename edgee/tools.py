"""Python functions as tools: ``@tool`` derives the JSON Schema from the signature.

::

    from edgee.tools import tool

    @tool
    def get_weather(city: str, unit: Literal["c", "f"] = "c") -> dict:
        '''Current weather of a city.

        Args:
            city: Name of the city.
            unit: Temperature unit.
        '''
        return {"city": city, "temp": 21}

    result = client.run_tools("gpt-4o", "Weather in Paris?", tools=[get_weather])

Supported parameter types: ``str``, ``int``, ``float``, ``bool``, ``Enum``
subclasses, ``Literal[...]``, ``list[X]``, ``dict[str, X]``, ``X | None``,
attrs classes (nested), and ``Any``. The docstring's first paragraph becomes
the tool's description; an ``Args:`` section (or ``:param x:`` lines)
describes each parameter. Arguments the model sends are checked against the
signature before the function runs; a mismatch is reported back to the model
instead of raising.
"""

from __future__ import annotations

import enum
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar, Union, overload

import attrs

from edgee.errors import EdgeeError, ToolArgumentsError
from edgee.models import FunctionDefinition, Message, SendResponse, Tool, ToolCall, Usage

__all__ = [
    "FunctionTool",
    "MaxIterationsError",
    "ToolArgumentsError",
    "ToolCallResult",
    "ToolRunResult",
    "tool",
]

F = TypeVar("F", bound=Callable[..., Any])


_NONE = type(None)


def _is_optional(annotation: Any) -> tuple[bool, Any]:
    """(True, X) for ``X | None`` / ``Optional[X]``; (False, annotation) otherwise."""
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not _NONE]
        if len(args) < len(typing.get_args(annotation)):
            inner = args[0] if len(args) == 1 else Union[tuple(args)]  # noqa: UP007
            return True, inner
    return False, annotation


def json_schema(annotation: Any) -> dict[str, Any]:
    """The JSON Schema of one Python type annotation."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return {}
    optional, inner = _is_optional(annotation)
    if optional:
        return {"anyOf": [json_schema(inner), {"type": "null"}]}
    if annotation is str:
        return {"type": "string"}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if annotation is float:
        return {"type": "number"}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum_schema([m.value for m in annotation])
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        return _enum_schema(list(args))
    if origin in (list, Sequence, tuple, set, frozenset) or annotation in (list, tuple):
        items = json_schema(args[0]) if args else {}
        return {"type": "array", "items": items}
    if origin in (dict, Mapping) or annotation is dict:
        value = json_schema(args[1]) if len(args) == 2 else {}
        return {"type": "object", "additionalProperties": value or True}
    if origin is Union or origin is types.UnionType:
        return {"anyOf": [json_schema(a) for a in args]}
    if isinstance(annotation, type) and attrs.has(annotation):
        return _attrs_schema(annotation)
    raise TypeError(f"no JSON Schema for parameter type {annotation!r}")


def _enum_schema(values: list[Any]) -> dict[str, Any]:
    kinds = {type(v) for v in values}
    schema: dict[str, Any] = {}
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if len(kinds) == 1 and next(iter(kinds)) in names:
        schema["type"] = names[next(iter(kinds))]
    schema["enum"] = values
    return schema


def _attrs_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in attrs.fields(cls):
        properties[field.name] = json_schema(hints.get(field.name, Any))
        if field.default is attrs.NOTHING:
            required.append(field.name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters)\s*:\s*$")
_ARG_LINE = re.compile(r"^\s+(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_PARAM = re.compile(r"^\s*:param\s+(?:\w+\s+)?(\w+)\s*:\s*(.*)$")


def _parse_docstring(doc: str | None) -> tuple[str | None, dict[str, str]]:
    """(description, {parameter: description}) from a Google- or Sphinx-style docstring."""
    if not doc:
        return None, {}
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    params: dict[str, str] = {}
    current: str | None = None
    in_args = False
    for line in lines:
        sphinx = _SPHINX_PARAM.match(line)
        if sphinx:
            current = sphinx.group(1)
            params[current] = sphinx.group(2).strip()
            continue
        if _ARGS_HEADER.match(line):
            in_args, current = True, None
            continue
        if in_args:
            arg = _ARG_LINE.match(line)
            if arg:
                current = arg.group(1).lstrip("*")
                params[current] = arg.group(2).strip()
            elif line.strip() and line.startswith((" ", "\t")) and current:
                params[current] = f"{params[current]} {line.strip()}".strip()
            elif line.strip():
                in_args = False  # another section starts
            continue
        if not params and not in_args:
            summary.append(line)
    text = "\n".join(summary).strip().split("\n\n")[0].strip()
    return (" ".join(text.split()) or None), params


@attrs.frozen
class _Parameter:
    name: str
    annotation: Any
    required: bool


@attrs.frozen(eq=False)
class FunctionTool:
    """A Python function the model may call: its wire :class:`Tool` plus how to run it.

    Calling the object calls the function, so a decorated function still
    works as before.
    """

    func: Callable[..., Any]
    name: str
    description: str | None
    parameters: dict[str, Any]
    _params: tuple[_Parameter, ...] = attrs.field(repr=False, alias="params")

    @property
    def is_async(self) -> bool:
        """Whether the function is a coroutine function (awaited by the runner)."""
        return inspect.iscoroutinefunction(self.func)

    @property
    def tool(self) -> Tool:
        """The wire tool sent to the gateway."""
        return Tool(
            type="function",
            function=FunctionDefinition(
                name=self.name, description=self.description, parameters=self.parameters
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire JSON of :attr:`tool`."""
        return self.tool.to_dict()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def bind(self, arguments: str | Mapping[str, Any] | None) -> dict[str, Any]:
        """Check the model's arguments (a JSON string) against the signature.

        Returns the keyword arguments to call the function with; raises
        :class:`ToolArgumentsError` saying what does not fit.
        """
        if arguments is None or arguments == "":
            data: Any = {}
        elif isinstance(arguments, str):
            try:
                data = json.loads(arguments)
            except ValueError as exc:
                raise ToolArgumentsError(f"arguments are not valid JSON: {exc}") from None
        else:
            data = dict(arguments)
        if not isinstance(data, dict):
            raise ToolArgumentsError("arguments must be a JSON object")
        known = {p.name for p in self._params}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ToolArgumentsError(f"unexpected argument(s): {', '.join(unknown)}")
        kwargs: dict[str, Any] = {}
        for param in self._params:
            if param.name not in data:
                if param.required:
                    raise ToolArgumentsError(f"missing required argument: {param.name}")
                continue
            kwargs[param.name] = _check(data[param.name], param.annotation, param.name)
        return kwargs


def _check(value: Any, annotation: Any, path: str) -> Any:
    """Validate (and lightly convert) one argument value against its annotation."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return value
    optional, inner = _is_optional(annotation)
    if optional:
        return None if value is None else _check(value, inner, path)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise ToolArgumentsError(f"{path} must be a boolean, not {value!r}")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ToolArgumentsError(f"{path} must be an integer, not {value!r}")
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ToolArgumentsError(f"{path} must be a number, not {value!r}")
    if annotation is str:
        if isinstance(value, str):
            return value
        raise ToolArgumentsError(f"{path} must be a string, not {value!r}")
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        try:
            return annotation(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in annotation)
            raise ToolArgumentsError(f"{path} must be one of {allowed}, not {value!r}") from None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        if value in args:
            return value
        allowed = ", ".join(repr(a) for a in args)
        raise ToolArgumentsError(f"{path} must be one of {allowed}, not {value!r}")
    if origin in (list, Sequence, tuple, set, frozenset) or annotation in (list, tuple):
        if not isinstance(value, list):
            raise ToolArgumentsError(f"{path} must be a list, not {value!r}")
        item = args[0] if args else Any
        items = [_check(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
        return items if origin in (list, Sequence, None) else (origin or list)(items)
    if origin in (dict, Mapping) or annotation is dict:
        if not isinstance(value, dict):
            raise ToolArgumentsError(f"{path} must be an object, not {value!r}")
        item = args[1] if len(args) == 2 else Any
        return {k: _check(v, item, f"{path}.{k}") for k, v in value.items()}
    if origin is Union or origin is types.UnionType:
        for option in args:
            try:
                return _check(value, option, path)
            except ToolArgumentsError:
                continue
        raise ToolArgumentsError(f"{path} does not match any of {annotation!r}")
    if isinstance(annotation, type) and attrs.has(annotation):
        if not isinstance(value, dict):
            raise ToolArgumentsError(f"{path} must be an object, not {value!r}")
        hints = typing.get_type_hints(annotation)
        fields = {f.name: f for f in attrs.fields(annotation)}
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise ToolArgumentsError(f"{path}: unexpected field(s): {', '.join(unknown)}")
        init: dict[str, Any] = {}
        for name, field in fields.items():
            if name in value:
                init[field.alias] = _check(value[name], hints.get(name, Any), f"{path}.{name}")
            elif field.default is attrs.NOTHING:
                raise ToolArgumentsError(f"{path}: missing field {name}")
        return annotation(**init)
    return value


def _make_tool(func: Callable[..., Any], name: str | None, description: str | None) -> FunctionTool:
    if not callable(func):
        raise TypeError("@tool decorates a function")
    signature = inspect.signature(func)
    try:
        hints = typing.get_type_hints(func)
    except NameError:
        # A string annotation naming a local class cannot be resolved; the
        # parameter's check below reports which one.
        hints = {}
    doc_description, doc_params = _parse_docstring(func.__doc__)
    properties: dict[str, Any] = {}
    required: list[str] = []
    params: list[_Parameter] = []
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"tool {func.__name__}: *args/**kwargs cannot be described to a model")
        annotation = hints.get(param.name, param.annotation)
        try:
            if isinstance(annotation, str):
                raise TypeError(
                    f"cannot resolve the annotation {annotation!r} (define it at module level)"
                )
            schema = json_schema(annotation)
        except TypeError as exc:
            raise TypeError(f"tool {func.__name__}, parameter {param.name}: {exc}") from None
        if param.name in doc_params:
            schema = {**schema, "description": doc_params[param.name]}
        properties[param.name] = schema
        is_required = param.default is inspect.Parameter.empty
        if is_required:
            required.append(param.name)
        params.append(_Parameter(param.name, annotation, is_required))
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    parameters["additionalProperties"] = False
    made = FunctionTool(
        func=func,
        name=name or func.__name__,
        description=description if description is not None else doc_description,
        parameters=parameters,
        params=tuple(params),
    )
    return made


@overload
def tool(func: Callable[..., Any], /) -> FunctionTool: ...


@overload
def tool(
    *, name: str | None = None, description: str | None = None
) -> Callable[[Callable[..., Any]], FunctionTool]: ...


def tool(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """Turn a typed function (sync or async) into a :class:`FunctionTool`.

    Use as ``@tool`` or ``@tool(name=..., description=...)``.
    """
    if func is not None:
        return _make_tool(func, name, description)
    return lambda f: _make_tool(f, name, description)


@attrs.frozen
class ToolCallResult:
    """One tool call the runner executed: the call, the text sent back, and any error."""

    call: ToolCall
    output: str
    error: str | None = None

    @property
    def name(self) -> str:
        """The called function's name."""
        return self.call.function.name


@attrs.frozen
class ToolRunResult:
    """What ``run_tools()`` returns: the final answer, the whole transcript, summed usage."""

    response: SendResponse
    messages: list[Message]
    usage: Usage
    iterations: int
    tool_results: list[ToolCallResult]

    @property
    def text(self) -> str | None:
        """The final answer's text."""
        return self.response.text


class MaxIterationsError(EdgeeError, RuntimeError):
    """The model still asked for tools after ``max_iterations`` requests.

    ``result`` holds the run so far (its ``response`` is the last one received).
    Also a ``RuntimeError``, as the official SDK raised.
    """

    def __init__(self, max_iterations: int, result: ToolRunResult) -> None:
        super().__init__(f"max tool iterations ({max_iterations}) reached")
        self.max_iterations = max_iterations
        self.result = result
