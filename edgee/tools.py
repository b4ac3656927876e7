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

Supported parameter types (see :func:`json_schema`): ``str``, ``int``,
``float``, ``bool``, ``Enum`` subclasses, ``Literal[...]``, ``list[X]``,
``dict[str, X]``, ``X | None``, ``Any``, and nested classes: attrs classes,
dataclasses, ``TypedDict`` and pydantic models. The docstring's first paragraph becomes
the tool's description; an ``Args:`` section (or ``:param x:`` lines)
describes each parameter. Arguments the model sends are checked against the
signature before the function runs; a mismatch is reported back to the model
instead of raising.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import re
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar, Union, overload

import attrs

try:
    # Where a user's TypedDict or NotRequired can come from typing_extensions, it is
    # installed (a dependency below Python 3.11); without it, typing has all we read.
    import typing_extensions as _typing
except ImportError:  # pragma: no cover - Python 3.11+ without typing_extensions
    _typing = typing  # type: ignore[misc]

from edgee.errors import EdgeeError, ToolArgumentsError
from edgee.models import FunctionDefinition, Message, SendResponse, Tool, ToolCall, Usage

__all__ = [
    "FunctionTool",
    "MaxIterationsError",
    "ToolArgumentsError",
    "ToolCallResult",
    "ToolRunResult",
    "is_structured_class",
    "json_schema",
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


def _type_hints(obj: Any) -> dict[str, Any]:
    """Resolved annotations, ``Annotated``/``Required``/``NotRequired`` wrappers removed."""
    try:
        return dict(_typing.get_type_hints(obj))
    except NameError as exc:
        raise TypeError(f"cannot resolve the annotations of {obj!r}: {exc}") from None


def is_typeddict(tp: Any) -> bool:
    """Whether ``tp`` is a ``TypedDict`` class (from ``typing`` or ``typing_extensions``)."""
    return bool(_typing.is_typeddict(tp))


def is_pydantic_model(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic ``BaseModel`` subclass; never imports pydantic itself.

    A class can only be a pydantic model once the user has imported pydantic,
    so the check looks in ``sys.modules`` and costs nothing otherwise.
    """
    pydantic = sys.modules.get("pydantic")
    if pydantic is None or not isinstance(tp, type):
        return False
    base = getattr(pydantic, "BaseModel", None)
    return base is not None and issubclass(tp, base)


def is_structured_class(tp: Any) -> bool:
    """Whether ``tp`` is a class the schema builder describes as an object.

    attrs classes, dataclasses, ``TypedDict`` classes and pydantic models.
    """
    return isinstance(tp, type) and (
        attrs.has(tp) or dataclasses.is_dataclass(tp) or is_typeddict(tp) or is_pydantic_model(tp)
    )


@attrs.frozen
class _Field:
    """One property of an object schema: its JSON key, type, and whether it may be left out."""

    key: str
    annotation: Any
    required: bool
    description: str | None


def _description(metadata: Mapping[str, Any]) -> str | None:
    value = metadata.get("description")
    return value if isinstance(value, str) else None


def _class_fields(cls: type) -> list[_Field]:
    """The properties of an attrs class, dataclass or TypedDict, in declaration order."""
    hints = _type_hints(cls)
    if attrs.has(cls):
        return [
            _Field(
                f.name,
                hints.get(f.name, Any),
                f.default is attrs.NOTHING,
                _description(f.metadata),
            )
            for f in attrs.fields(cls)
            if f.init
        ]
    if dataclasses.is_dataclass(cls):
        return [
            _Field(
                f.name,
                hints.get(f.name, Any),
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
                _description(f.metadata),
            )
            for f in dataclasses.fields(cls)
            if f.init
        ]
    return [
        _Field(name, hint, required, None) for (name, hint), required in _typeddict_keys(cls, hints)
    ]


# typing's own exist from Python 3.11; None must not be in these sets (no origin reads as None).
_NOT_REQUIRED = {_typing.NotRequired, getattr(typing, "NotRequired", _NONE)} - {_NONE}
_REQUIRED = {_typing.Required, getattr(typing, "Required", _NONE)} - {_NONE}


def _typeddict_keys(cls: type, hints: dict[str, Any]) -> list[tuple[tuple[str, Any], bool]]:
    """Each key of a TypedDict with whether it is required.

    ``__required_keys__`` misses ``NotRequired[...]`` written as a string
    annotation (``from __future__ import annotations``), so the wrappers are
    read from the resolved hints first.
    """
    try:
        wrapped = _typing.get_type_hints(cls, include_extras=True)
    except NameError:
        wrapped = {}
    required_keys = getattr(cls, "__required_keys__", frozenset(hints))
    keys = []
    for name, hint in hints.items():
        origin = _typing.get_origin(wrapped.get(name))
        if origin in _NOT_REQUIRED:
            required = False
        elif origin in _REQUIRED:
            required = True
        else:
            required = name in required_keys
        keys.append(((name, hint), required))
    return keys


def _class_description(cls: type) -> str | None:
    """The first paragraph of a class's own docstring (not dataclasses' generated one)."""
    doc = cls.__dict__.get("__doc__")
    if not isinstance(doc, str) or not doc.strip():
        return None
    if dataclasses.is_dataclass(cls) and doc.startswith(f"{cls.__name__}("):
        return None  # dataclasses write "Name(field: type, ...)" when there is no docstring
    first = inspect.cleandoc(doc).split("\n\n")[0]
    return " ".join(first.split()) or None


_SCALARS = ("string", "integer", "number", "boolean")


class _SchemaBuilder:
    """Builds the JSON Schema of annotations, nested classes inline.

    A class met again inside itself (a recursive type) is written as a
    ``{"$ref": "#/$defs/Name"}`` and its schema is added to :attr:`defs`, which
    the caller puts at the root. In strict mode (structured outputs, as
    OpenAI-compatible providers want them) every object has
    ``additionalProperties: false`` and lists every property in ``required``,
    a property that may be left out or is ``Optional`` is nullable instead,
    ``default`` is never written, and types that cannot be strict (``Any``,
    ``dict[str, X]``) are refused.
    """

    def __init__(self, *, strict: bool) -> None:
        self.strict = strict
        self.defs: dict[str, dict[str, Any]] = {}
        self._names: dict[Any, str] = {}
        self._building: set[Any] = set()
        self._recursive: set[Any] = set()

    def root(self, annotation: Any) -> dict[str, Any]:
        schema = self.build(annotation)
        return {**schema, "$defs": dict(self.defs)} if self.defs else schema

    def _def_name(self, key: Any, name: str) -> str:
        known = self._names.get(key)
        if known is not None:
            return known
        taken = set(self._names.values()) | set(self.defs)
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}{n}"
        self._names[key] = candidate
        return candidate

    def nullable(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` or null. Strict: ``{"type": [T, "null"]}`` for a scalar type, else anyOf."""
        if not schema:
            return schema  # Any already includes null
        kind = schema.get("type")
        if self.strict and kind in _SCALARS and "enum" not in schema and "const" not in schema:
            return {**schema, "type": [kind, "null"]}
        return {"anyOf": [schema, {"type": "null"}]}

    def build(self, annotation: Any) -> dict[str, Any]:
        if annotation is inspect.Parameter.empty or annotation is Any:
            if self.strict:
                raise TypeError("Any cannot be described in a strict schema; name a type")
            return {}
        if typing.get_origin(annotation) is typing.Annotated:
            return self.build(typing.get_args(annotation)[0])
        optional, inner = _is_optional(annotation)
        if optional:
            return self.nullable(self.build(inner))
        if annotation is str:
            return {"type": "string"}
        if annotation is bool:
            return {"type": "boolean"}
        if annotation is int:
            return {"type": "integer"}
        if annotation is float:
            return {"type": "number"}
        if annotation is _NONE or annotation is None:
            return {"type": "null"}
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            return _enum_schema([m.value for m in annotation])
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is Literal:
            return _enum_schema(list(args))
        if origin is tuple and args and args[-1] is not Ellipsis:
            if self.strict:
                raise TypeError(f"fixed-length {annotation!r} cannot be strict; use list[X]")
            prefix = [self.build(a) for a in args]
            return {
                "type": "array",
                "prefixItems": prefix,
                "minItems": len(prefix),
                "maxItems": len(prefix),
            }
        if origin in (list, Sequence, tuple, set, frozenset) or annotation in (
            list,
            tuple,
            set,
            frozenset,
        ):
            if not args and self.strict:
                raise TypeError(f"{annotation!r} needs an item type in a strict schema")
            items = self.build(args[0]) if args else {}
            return {"type": "array", "items": items}
        if origin in (dict, Mapping) or annotation is dict:
            if self.strict:
                raise TypeError(
                    f"{annotation!r} cannot be described in a strict schema (free-form keys); "
                    "use a class"
                )
            value = self.build(args[1]) if len(args) == 2 else {}
            return {"type": "object", "additionalProperties": value or True}
        if origin is Union or origin is types.UnionType:
            return {"anyOf": [self.build(a) for a in args]}
        if is_pydantic_model(annotation):
            return self._pydantic(annotation)
        if isinstance(annotation, type) and (
            attrs.has(annotation)
            or dataclasses.is_dataclass(annotation)
            or is_typeddict(annotation)
        ):
            return self._class(annotation)
        raise TypeError(f"no JSON Schema for type {annotation!r}")

    def _class(self, cls: type) -> dict[str, Any]:
        if cls in self._building:
            self._recursive.add(cls)
            return {"$ref": f"#/$defs/{self._def_name(cls, cls.__name__)}"}
        self._building.add(cls)
        try:
            properties: dict[str, Any] = {}
            required: list[str] = []
            for field in _class_fields(cls):
                schema = self.build(field.annotation)
                # Strict mode has no optional keys: a key a TypedDict may leave
                # out is required and nullable (parsing drops a null one).
                if (
                    self.strict
                    and not field.required
                    and is_typeddict(cls)
                    and not _is_optional(field.annotation)[0]
                ):
                    schema = self.nullable(schema)
                if field.description:
                    schema = {**schema, "description": field.description}
                properties[field.key] = schema
                if field.required or self.strict:
                    required.append(field.key)
        finally:
            self._building.discard(cls)
        result: dict[str, Any] = {"type": "object"}
        description = _class_description(cls)
        if description:
            result["description"] = description
        result["properties"] = properties
        if required:
            result["required"] = required
        result["additionalProperties"] = False
        if cls in self._recursive:
            self.defs[self._def_name(cls, cls.__name__)] = result
        return result

    def _pydantic(self, model: type) -> dict[str, Any]:
        raw: dict[str, Any] = model.model_json_schema()  # type: ignore[attr-defined]
        source: dict[str, Any] = raw.pop("$defs", {})
        rename = {name: self._def_name(("pydantic", model, name), name) for name in source}
        converted: dict[str, dict[str, Any]] = {}

        def resolve(ref: str) -> dict[str, Any]:
            name = ref.rsplit("/", 1)[-1]
            if name not in converted:
                converted[name] = {}  # a cycle reaching back here keeps its $ref
                converted[name] = walk(source[name])
            return converted[name]

        def walk(node: Any) -> Any:
            if isinstance(node, list):
                return [walk(n) for n in node]
            if not isinstance(node, dict):
                return node
            node = {k: v for k, v in node.items() if k != "title"}
            if self.strict:
                node.pop("default", None)
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.rsplit("/", 1)[-1]
                siblings = {k: v for k, v in node.items() if k != "$ref"}
                if siblings and self.strict and resolve(ref):
                    # OpenAI's strict mode takes no keyword beside a $ref: inline it.
                    return {**resolve(ref), **walk(siblings)}
                resolve(ref)
                node["$ref"] = f"#/$defs/{rename.get(name, name)}"
                return {k: walk(v) if k != "$ref" else v for k, v in node.items()}
            all_of = node.get("allOf")
            if isinstance(all_of, list) and len(all_of) == 1:
                rest = {k: v for k, v in node.items() if k != "allOf"}
                return walk({**all_of[0], **rest})
            out: dict[str, Any] = {}
            for key, value in node.items():
                if key in ("properties", "patternProperties"):
                    out[key] = {k: walk(v) for k, v in value.items()}
                elif key in ("items", "additionalProperties", "not", "contains"):
                    out[key] = walk(value)
                elif key in ("anyOf", "oneOf", "allOf", "prefixItems"):
                    out[key] = [walk(v) for v in value]
                else:
                    out[key] = value
            if self.strict and out.get("type") == "object":
                extra = out.get("additionalProperties")
                if isinstance(extra, dict) or extra is True:
                    raise TypeError(
                        f"{model.__name__}: a free-form mapping cannot be described in a "
                        "strict schema; use a model"
                    )
                properties = out.setdefault("properties", {})
                out["required"] = list(properties)
                out["additionalProperties"] = False
            return out

        schema: dict[str, Any] = walk(raw)
        if set(schema) == {"$ref"}:
            # A self-referencing model's schema is a bare $ref; a root must be an object.
            schema = dict(resolve(schema["$ref"]))
        for name in source:
            resolve(f"#/$defs/{name}")
        referenced = _refs(schema) | {r for d in converted.values() for r in _refs(d)}
        for name, definition in converted.items():
            if f"#/$defs/{rename[name]}" in referenced:
                self.defs[rename[name]] = definition
        return schema


def _refs(node: Any) -> set[str]:
    """Every ``$ref`` string inside a schema."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                found.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def json_schema(annotation: Any, *, strict: bool = False) -> dict[str, Any]:
    """The JSON Schema of one Python type annotation.

    ``str``, ``int``, ``float``, ``bool``, ``Enum`` subclasses, ``Literal[...]``,
    ``list[X]`` (and ``tuple``/``set``), ``dict[str, X]``, ``X | None``, unions,
    ``Any``, and classes: attrs classes, dataclasses, ``TypedDict`` (``total``
    and ``NotRequired`` honoured) and pydantic models (when pydantic is
    installed; their own ``model_json_schema()``). Nested classes are written
    inline; a recursive class is a ``$ref`` into ``$defs`` at the root. A
    field's description comes from its ``metadata={"description": ...}`` (attrs,
    dataclasses), an object's from its class docstring. Fields with a default
    are left out of ``required``.

    ``strict=True`` gives the form OpenAI-compatible providers accept for
    structured outputs: ``additionalProperties: false`` on every object, every
    property in ``required``, optional values nullable (``{"type": ["string",
    "null"]}``, or ``anyOf`` with ``{"type": "null"}``), no ``default``
    keywords; ``Any``, free-form ``dict`` keys and fixed-length tuples raise
    ``TypeError`` because strict mode cannot express them.
    """
    return _SchemaBuilder(strict=strict).root(annotation)


def _enum_schema(values: list[Any]) -> dict[str, Any]:
    kinds = {type(v) for v in values}
    schema: dict[str, Any] = {}
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if len(kinds) == 1 and next(iter(kinds)) in names:
        schema["type"] = names[next(iter(kinds))]
    schema["enum"] = values
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
    #: Whether ``parameters`` is the strict form and the tool asks the provider to follow it.
    strict: bool = False

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
                name=self.name,
                description=self.description,
                parameters=self.parameters,
                strict=True if self.strict else None,
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
    if origin is tuple and args and args[-1] is not Ellipsis:
        if not isinstance(value, list) or len(value) != len(args):
            raise ToolArgumentsError(f"{path} must be a list of {len(args)} items, not {value!r}")
        return tuple(
            _check(v, a, f"{path}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True))
        )
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
    if is_pydantic_model(annotation):
        try:
            return annotation.model_validate(value)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise ToolArgumentsError(f"{path}: {exc}") from None
    if isinstance(annotation, type) and is_structured_class(annotation):
        if not isinstance(value, dict):
            raise ToolArgumentsError(f"{path} must be an object, not {value!r}")
        fields = {f.key: f for f in _class_fields(annotation)}
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise ToolArgumentsError(f"{path}: unexpected field(s): {', '.join(unknown)}")
        checked: dict[str, Any] = {}
        for name, field in fields.items():
            if name in value:
                checked[name] = _check(value[name], field.annotation, f"{path}.{name}")
            elif field.required:
                raise ToolArgumentsError(f"{path}: missing field {name}")
        if is_typeddict(annotation):
            return checked
        if attrs.has(annotation):
            aliases = {f.name: f.alias for f in attrs.fields(annotation)}
            return annotation(**{aliases[k]: v for k, v in checked.items()})
        return annotation(**checked)
    return value


def _make_tool(
    func: Callable[..., Any], name: str | None, description: str | None, strict: bool = False
) -> FunctionTool:
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
    builder = _SchemaBuilder(strict=strict)
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
            schema = builder.build(annotation)
        except TypeError as exc:
            raise TypeError(f"tool {func.__name__}, parameter {param.name}: {exc}") from None
        if param.name in doc_params:
            schema = {**schema, "description": doc_params[param.name]}
        properties[param.name] = schema
        is_required = param.default is inspect.Parameter.empty
        if is_required or strict:  # strict: every parameter listed, the model sends them all
            required.append(param.name)
        params.append(_Parameter(param.name, annotation, is_required))
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    parameters["additionalProperties"] = False
    if builder.defs:
        parameters["$defs"] = builder.defs
    made = FunctionTool(
        func=func,
        name=name or func.__name__,
        description=description if description is not None else doc_description,
        parameters=parameters,
        params=tuple(params),
        strict=strict,
    )
    return made


@overload
def tool(func: Callable[..., Any], /) -> FunctionTool: ...


@overload
def tool(
    *, name: str | None = None, description: str | None = None, strict: bool = False
) -> Callable[[Callable[..., Any]], FunctionTool]: ...


def tool(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """Turn a typed function (sync or async) into a :class:`FunctionTool`.

    Use as ``@tool`` or ``@tool(name=..., description=..., strict=True)``.
    ``strict=True`` writes the parameters in the strict form of
    :func:`json_schema` (every parameter required, optional ones nullable)
    and sends ``"strict": true``, so OpenAI-compatible providers follow it.
    """
    if func is not None:
        return _make_tool(func, name, description, strict)
    return lambda f: _make_tool(f, name, description, strict)


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
