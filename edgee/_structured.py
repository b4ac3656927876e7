"""Structured outputs: a Python type in, its JSON Schema sent, an instance back.

Sans-IO, shared by both clients:

* :func:`structured_format` compiles a target ``T`` (an attrs class, a
  dataclass, a ``TypedDict``, a pydantic model when pydantic is installed, or
  a JSON Schema dict) once into a :class:`StructuredFormat`: the
  ``response_format`` to send (the strict schema from :func:`edgee.tools.json_schema`),
  and how to turn the answer's text into ``T``.
* :func:`parse_response` turns a :class:`SendResponse` into a
  :class:`ParsedResponse` (a ``SendResponse`` with ``parsed`` and ``refusal``),
  raising the :class:`~edgee.errors.StructuredOutputError` subclass that fits
  when the answer cannot be ``T``.
* :func:`split_response_format` takes ``response_format=T`` out of request
  options and puts the wire form back, for ``parse()`` and ``stream()``.

Parsing: the JSON is first checked against ``T``'s (non-strict) schema, which
gives errors that name the place (``$.items[2].price: expected number``), then
structured by cattrs (attrs classes, dataclasses; a ``TypedDict`` gives the checked dict)
or by pydantic's ``model_validate_json``. The check follows ``T``, not the strict
wire schema, so a provider that leaves out an optional key is still accepted.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs
import cattrs
from typing_extensions import TypeVar as TypeVarDefault  # PEP 696 defaults (3.13's typing)

from edgee.errors import (
    ContentFilterFinishReasonError,
    LengthFinishReasonError,
    OutputValidationError,
)
from edgee.models import SendResponse, ToolCall
from edgee.tools import (
    FunctionTool,
    ToolArgumentsError,
    _class_fields,
    _is_optional,
    is_pydantic_model,
    is_structured_class,
    is_typeddict,
    json_schema,
)

__all__ = [
    "CallPlan",
    "ParsedResponse",
    "ParsedToolCall",
    "ResponseT",
    "StructuredFormat",
    "parse_response",
    "parse_tool_call",
    "plan_call",
    "split_response_format",
    "structured_format",
    "validate_json",
]

T = TypeVar("T")
#: ``parse()``'s answer type: ``T`` for ``response_format=T``, ``Any`` for a schema dict.
ResponseT = TypeVarDefault("ResponseT", default=Any)

# Plain cattrs for user types: the SDK's wire converter keeps unknown keys,
# which a strict schema forbids.
_converter = cattrs.Converter(forbid_extra_keys=True)
_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is_integer(value: Any) -> bool:
    kind = type(value)
    return kind is int or (kind is float and value.is_integer())


# Exact types, as json.loads makes them (bool is not an integer here).
_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "null": lambda v: v is None,
    "boolean": lambda v: type(v) is bool,
    "integer": _is_integer,
    "number": lambda v: type(v) is int or type(v) is float,
    "string": lambda v: type(v) is str,
    "array": lambda v: type(v) is list,
    "object": lambda v: type(v) is dict,
}

Validator = Callable[[Any, str], None]


def _accept(value: Any, path: str) -> None:
    return None


def validate_json(value: Any, schema: Mapping[str, Any], path: str = "$") -> None:
    """Check a decoded JSON value against a JSON Schema; raise ``ValueError`` naming the place.

    A best-effort checker of the keywords the schema builder writes, and the
    usual shape keywords of hand-written schemas: ``type``, ``enum``, ``const``,
    ``properties``, ``required``, ``additionalProperties``, ``items``,
    ``prefixItems``, ``minItems``/``maxItems``, ``anyOf``/``oneOf``/``allOf`` and
    local ``$ref`` (``#`` and ``#/$defs/...``). Other keywords are not checked.
    """
    compile_validator(schema)(value, path)


def compile_validator(schema: Mapping[str, Any]) -> Validator:
    """:func:`validate_json` for one schema, compiled once into nested closures.

    A structured format checks every partial value of a stream against the
    same schema, so the schema is read once and each check is a few calls.
    """
    return _compile(schema, schema, {})


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    if ref == "#":
        return root
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        if not isinstance(node, Mapping) or part not in node:
            raise ValueError(f"unresolvable $ref {ref!r}")
        node = node[part]
    if not isinstance(node, Mapping):
        raise ValueError(f"$ref {ref!r} is not a schema")
    return node


def _compile(schema: Any, root: Mapping[str, Any], refs: dict[str, Validator]) -> Validator:
    if not isinstance(schema, Mapping):
        return _accept
    checks: list[Validator] = []
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        if ref not in refs:
            holder: list[Validator] = []
            refs[ref] = lambda v, p: holder[0](v, p)  # late-bound: the target may recurse
            holder.append(_compile(_resolve(ref, root), root, refs))
        checks.append(refs[ref])
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            checks.append(_any_of([_compile(o, root, refs) for o in options]))
    for option in schema.get("allOf") or ():
        checks.append(_compile(option, root, refs))
    kind = schema.get("type")
    kinds = [kind] if isinstance(kind, str) else kind
    if isinstance(kinds, list) and kinds and all(k in _TYPE_TESTS for k in kinds):
        checks.append(_type_check(kinds))
    if "enum" in schema:
        allowed = list(schema["enum"])

        def check_enum(value: Any, path: str) -> None:
            if value not in allowed or not any(_same(value, a) for a in allowed):
                shown = ", ".join(json.dumps(v) for v in allowed)
                raise ValueError(f"{path}: {json.dumps(value)} is not one of {shown}")

        checks.append(check_enum)
    if "const" in schema:
        const = schema["const"]

        def check_const(value: Any, path: str) -> None:
            if not _same(value, const):
                raise ValueError(f"{path}: expected {json.dumps(const)}")

        checks.append(check_const)
    if any(k in schema for k in ("properties", "required", "additionalProperties")):
        checks.append(_object_check(schema, root, refs))
    if any(k in schema for k in ("items", "prefixItems", "minItems", "maxItems")):
        checks.append(_array_check(schema, root, refs))
    if not checks:
        return _accept
    if len(checks) == 1:
        return checks[0]

    def check_all(value: Any, path: str) -> None:
        for check in checks:
            check(value, path)

    return check_all


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``."""
    return a == b and (type(a) is bool) == (type(b) is bool)


def _type_check(kinds: list[str]) -> Validator:
    tests = [_TYPE_TESTS[k] for k in kinds]
    expected = " or ".join(kinds)
    if len(tests) == 1:
        test = tests[0]

        def check_one(value: Any, path: str) -> None:
            if not test(value):
                raise ValueError(f"{path}: expected {expected}, got {_json_type(value)}")

        return check_one

    def check_types(value: Any, path: str) -> None:
        if not any(t(value) for t in tests):
            raise ValueError(f"{path}: expected {expected}, got {_json_type(value)}")

    return check_types


def _any_of(options: list[Validator]) -> Validator:
    def check_any(value: Any, path: str) -> None:
        first: str | None = None
        for option in options:
            try:
                option(value, path)
                return
            except ValueError as exc:
                first = first or str(exc)
        raise ValueError(f"{path}: matches none of the allowed forms ({first})")

    return check_any


def _object_check(
    schema: Mapping[str, Any], root: Mapping[str, Any], refs: dict[str, Validator]
) -> Validator:
    properties = {
        name: _compile(sub, root, refs) for name, sub in (schema.get("properties") or {}).items()
    }
    required = tuple(schema.get("required") or ())
    extra = schema.get("additionalProperties", True)
    forbid = extra is False
    extra_check = _compile(extra, root, refs) if isinstance(extra, Mapping) else _accept

    def check_object(value: Any, path: str) -> None:
        if type(value) is not dict:
            return
        for name in required:
            if name not in value:
                raise ValueError(f"{path}: missing required property {name!r}")
        for name, item in value.items():
            check = properties.get(name)
            if check is not None:
                check(item, f"{path}.{name}")
            elif forbid:
                raise ValueError(f"{path}: unexpected property {name!r}")
            else:
                extra_check(item, f"{path}.{name}")

    return check_object


def _array_check(
    schema: Mapping[str, Any], root: Mapping[str, Any], refs: dict[str, Validator]
) -> Validator:
    prefix = [_compile(s, root, refs) for s in schema.get("prefixItems") or ()]
    items = _compile(schema.get("items", True), root, refs)
    low, high = schema.get("minItems"), schema.get("maxItems")

    def check_array(value: Any, path: str) -> None:
        if type(value) is not list:
            return
        n = len(prefix)
        for i, item in enumerate(value):
            (prefix[i] if i < n else items)(item, f"{path}[{i}]")
        if isinstance(low, int) and len(value) < low:
            raise ValueError(f"{path}: expected at least {low} items, got {len(value)}")
        if isinstance(high, int) and len(value) > high:
            raise ValueError(f"{path}: expected at most {high} items, got {len(value)}")

    return check_array


def _drop_null_optionals(value: Any, tp: Any) -> Any:
    """Undo the strict schema's nullable stand-ins for keys a ``TypedDict`` may leave out.

    Strict mode has no optional keys, so such a key is sent as required and
    nullable; the model's ``null`` there means "left out".
    """
    optional, inner = _is_optional(tp)
    if optional:
        return None if value is None else _drop_null_optionals(value, inner)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (list, tuple, set, frozenset) and args and isinstance(value, list):
        return [_drop_null_optionals(v, args[0]) for v in value]
    if isinstance(tp, type) and is_structured_class(tp) and not is_pydantic_model(tp):
        if not isinstance(value, dict):
            return value
        out = dict(value)
        for field in _class_fields(tp):
            if field.key not in out:
                continue
            if (
                out[field.key] is None
                and not field.required
                and is_typeddict(tp)
                and not _is_optional(field.annotation)[0]
            ):
                del out[field.key]
            else:
                out[field.key] = _drop_null_optionals(out[field.key], field.annotation)
        return out
    return value


def _has_null_stand_ins(tp: Any, seen: set[Any]) -> bool:
    """Whether ``tp`` reaches a TypedDict key that may be left out (strict mode makes it null)."""
    optional, inner = _is_optional(tp)
    if optional:
        return _has_null_stand_ins(inner, seen)
    args = typing.get_args(tp)
    if args and typing.get_origin(tp) is not typing.Literal:
        return any(_has_null_stand_ins(a, seen) for a in args if a is not Ellipsis)
    if not (isinstance(tp, type) and is_structured_class(tp)) or is_pydantic_model(tp):
        return False
    if tp in seen:
        return False
    seen.add(tp)
    for field in _class_fields(tp):
        if is_typeddict(tp) and not field.required and not _is_optional(field.annotation)[0]:
            return True
        if _has_null_stand_ins(field.annotation, seen):
            return True
    return False


@attrs.frozen(eq=False)
class StructuredFormat(Generic[T]):
    """A compiled structured-output target: what to send, and how to read the answer.

    ``target`` is the Python type (``None`` for a JSON Schema given as a dict,
    whose answers parse to plain JSON values); ``name``, ``schema`` and
    ``strict`` form the ``json_schema`` response format. Build one with
    :func:`structured_format`.
    """

    target: Any
    name: str
    schema: dict[str, Any]
    strict: bool
    #: What answers are checked against: ``T``'s own (non-strict) schema, the given one for a
    #: dict, ``None`` when the answer is only required to be JSON (``json_object`` mode).
    check_schema: dict[str, Any] | None = attrs.field(repr=False)
    wire: dict[str, Any] = attrs.field(repr=False)
    #: Whether answers may hold the strict schema's null stand-ins for left-out TypedDict keys.
    null_stand_ins: bool = attrs.field(default=False, repr=False)
    _check: Validator = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        schema = self.check_schema
        check = compile_validator(schema) if schema is not None else _accept
        object.__setattr__(self, "_check", check)

    def response_format(self) -> dict[str, Any]:
        """The request's ``response_format`` value (a fresh dict)."""
        return json.loads(json.dumps(self.wire))  # type: ignore[no-any-return]

    def parse(self, content: str) -> T:
        """Turn the answer's text into ``T``; raise :class:`OutputValidationError` if it is not.

        The error carries ``content``; :func:`parse_response` adds the response.
        """
        if is_pydantic_model(self.target):
            try:
                return self.target.model_validate_json(content)  # type: ignore[no-any-return]
            except ValueError as exc:  # pydantic's ValidationError is a ValueError
                raise OutputValidationError(
                    f"the answer does not fit {self.target.__name__}: {exc}", content=content
                ) from exc
        try:
            value = json.loads(content)
        except (ValueError, RecursionError) as exc:
            raise OutputValidationError(
                f"the answer is not valid JSON: {exc}", content=content
            ) from None
        try:
            return self.from_json(value)
        except ValueError as exc:
            raise OutputValidationError(str(exc), content=content) from exc

    def from_json(self, value: Any) -> T:
        """Turn a decoded JSON value into ``T``; raise ``ValueError`` saying what does not fit."""
        target = self.target
        if is_pydantic_model(target):
            return target.model_validate(value)  # type: ignore[no-any-return]
        if self.null_stand_ins:
            value = _drop_null_optionals(value, target)
        if self.check_schema is not None:
            try:
                self._check(value, "$")
            except ValueError as exc:
                what = target.__name__ if target is not None else "the schema"
                raise ValueError(f"the answer does not fit {what}: {exc}") from None
        if target is None or is_typeddict(target):
            return value  # type: ignore[no-any-return]  # checked JSON: the dict itself
        try:
            return _converter.structure(value, target)  # type: ignore[no-any-return]
        except Exception as exc:  # cattrs raises several types, some grouping others
            detail = "; ".join(cattrs.transform_error(exc))
            raise ValueError(f"the answer does not fit {target.__name__}: {detail}") from exc

    def partial(self, value: Any) -> Any:
        """``T`` when a partial JSON value already fits it, else the value as it is."""
        if value is None or (self.target is not None and not isinstance(value, dict)):
            return value
        try:
            return self.from_json(value)
        except Exception:  # a partial value that does not fit yet is expected
            return value


def _wire_name(name: str) -> str:
    return _NAME_CHARS.sub("_", name)[:64] or "response"


_CACHE: dict[tuple[Any, str | None, bool], StructuredFormat[Any]] = {}


def structured_format(
    target: Any, *, name: str | None = None, strict: bool = True
) -> StructuredFormat[Any]:
    """Compile ``target`` into a :class:`StructuredFormat` (cached per type).

    ``target`` is an attrs class, a dataclass, a ``TypedDict``, a pydantic
    model, a :class:`StructuredFormat` (returned as is), or a dict: a whole
    ``response_format`` (``{"type": "json_schema", ...}`` or ``{"type":
    "json_object"}``), or a bare JSON Schema (sent strict, named by its
    ``title`` or ``"response"``). ``strict=False`` sends ``T``'s non-strict schema
    with ``"strict": false``. Raises ``TypeError`` for anything else.
    """
    if isinstance(target, StructuredFormat):
        return target
    if isinstance(target, Mapping):
        return _from_dict(target, name, strict)
    if not (isinstance(target, type) and is_structured_class(target)):
        raise TypeError(
            "response_format must be an attrs class, a dataclass, a TypedDict, a pydantic "
            f"model or a JSON Schema dict, not {target!r}"
        )
    key = (target, name, strict)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    schema = json_schema(target, strict=strict)
    wire_name = _wire_name(name or target.__name__)
    compiled: StructuredFormat[Any] = StructuredFormat(
        target=target,
        name=wire_name,
        schema=schema,
        strict=strict,
        check_schema=None if is_pydantic_model(target) else json_schema(target, strict=False),
        wire={
            "type": "json_schema",
            "json_schema": {"name": wire_name, "schema": schema, "strict": strict},
        },
        null_stand_ins=strict and _has_null_stand_ins(target, set()),
    )
    _CACHE[key] = compiled
    return compiled


def _from_dict(data: Mapping[str, Any], name: str | None, strict: bool) -> StructuredFormat[Any]:
    kind = data.get("type")
    if kind == "json_object":
        return StructuredFormat(
            target=None, name="json_object", schema={}, strict=False, check_schema=None,
            wire=dict(data),
        )  # fmt: skip
    if kind == "json_schema":
        inner = data.get("json_schema")
        if not isinstance(inner, Mapping) or not isinstance(inner.get("schema"), Mapping):
            raise TypeError('a "json_schema" response_format needs json_schema.schema (an object)')
        schema = dict(inner["schema"])
        return StructuredFormat(
            target=None,
            name=str(inner.get("name") or "response"),
            schema=schema,
            strict=bool(inner.get("strict", False)),
            check_schema=schema,
            wire=dict(data),
        )
    if kind == "text":
        raise TypeError('response_format {"type": "text"} asks for no structured output')
    schema = dict(data)
    wire_name = _wire_name(name or str(schema.get("title") or "response"))
    return StructuredFormat(
        target=None,
        name=wire_name,
        schema=schema,
        strict=strict,
        check_schema=schema,
        wire={
            "type": "json_schema",
            "json_schema": {"name": wire_name, "schema": schema, "strict": strict},
        },
    )


def split_response_format(options: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
    """Take a typed ``response_format`` out of request options.

    Returns the options with ``response_format`` in its wire form, and the
    :class:`StructuredFormat` to read the answer with (``None`` when there is
    no ``response_format``, or when it is ``{"type": "text"}`` or another dict
    this SDK does not read, which is then sent unchanged).
    """
    out = dict(options)
    given = out.get("response_format")
    if given is None:
        return out, None
    if isinstance(given, Mapping) and given.get("type") not in ("json_schema", "json_object"):
        return out, None
    compiled = structured_format(given)
    out["response_format"] = compiled.response_format()
    return out, compiled


class ParsedToolCall(ToolCall):
    """A :class:`ToolCall` of a parse request, with its arguments read.

    ``parsed_arguments`` is what :meth:`FunctionTool.bind` returns for an
    ``@tool`` function (keyword arguments, typed), the decoded JSON object
    for any other tool, and ``None`` when the arguments do not fit;
    ``arguments_error`` then says why (the call is still there to answer).
    """

    __slots__ = ("arguments_error", "parsed_arguments")

    if TYPE_CHECKING:  # attributes, not wire keys: a DictModel makes every annotation a key
        parsed_arguments: dict[str, Any] | None
        arguments_error: str | None


def parse_tool_call(
    call: ToolCall, tools: Iterable[Any] = ()
) -> tuple[dict[str, Any] | None, str | None]:
    """(parsed arguments, error) of one tool call, by the ``@tool`` signature when known."""
    name = call.function.name
    for candidate in tools:
        if isinstance(candidate, FunctionTool) and candidate.name == name:
            try:
                return candidate.bind(call.function.arguments), None
            except ToolArgumentsError as exc:
                return None, str(exc)
    raw = call.function.arguments
    try:
        data = json.loads(raw) if raw else {}
    except (ValueError, RecursionError) as exc:
        return None, f"arguments are not valid JSON: {exc}"
    if not isinstance(data, dict):
        return None, "arguments must be a JSON object"
    return data, None


def _parsed_call(call: ToolCall, tools: Iterable[Any]) -> ParsedToolCall:
    made = ParsedToolCall.from_dict(call.to_dict())
    arguments, error = parse_tool_call(call, tools)
    object.__setattr__(made, "parsed_arguments", arguments)
    object.__setattr__(made, "arguments_error", error)
    return made


class ParsedResponse(SendResponse, Generic[T]):
    """A :class:`SendResponse` whose answer was read as ``T``.

    Everything of the response is there (``text``, ``usage``, ``choices``,
    ``to_dict()``, the headers); in addition:

    * ``parsed``: the first choice's content as ``T``, or ``None`` when the
      model refused, or only called tools;
    * ``refusal``: the provider's refusal text, or ``None``;
    * ``tool_calls``: the calls as :class:`ParsedToolCall`, arguments read.
    """

    __slots__ = ("_parsed_calls", "_parsed_headers", "parsed", "refusal")

    parsed: T | None
    refusal: str | None
    _parsed_calls: list[ParsedToolCall] | None
    _parsed_headers: Mapping[str, str]

    @property
    def tool_calls(self) -> list[ParsedToolCall] | None:
        """The first choice's tool calls, each with ``parsed_arguments``; ``None`` if none."""
        return self._parsed_calls

    @property
    def headers(self) -> Mapping[str, str]:
        """The HTTP response headers of the response this one was read from."""
        return self._parsed_headers

    def __repr__(self) -> str:
        return f"ParsedResponse(parsed={self.parsed!r}, refusal={self.refusal!r}, id={self.id!r})"


class _ParsedResponseOf(ParsedResponse[Any]):
    """The runtime class of parsed responses: no type parameter left for cattrs to ask about."""

    __slots__ = ()


def parse_response(
    response: SendResponse,
    format: StructuredFormat[T] | None,
    *,
    tools: Iterable[Any] = (),
) -> ParsedResponse[T]:
    """Read ``response`` (its first choice) as ``format`` says; tool calls by ``tools``.

    Raises :class:`LengthFinishReasonError` when the answer was cut by the token
    limit, :class:`ContentFilterFinishReasonError` when a filter stopped it,
    and :class:`OutputValidationError` when its content is missing, not JSON,
    or does not fit; each carries ``content`` and ``response``. A refusal
    (``message.refusal``) is not an error: ``parsed`` is ``None`` and
    ``refusal`` holds the text. With ``format=None`` only tool calls are read.
    """
    tools = list(tools)
    message = response.message
    content = message.content if message is not None else None
    refusal = (message.refusal or None) if message is not None else None
    calls = response.tool_calls
    parsed: Any = None
    if format is not None:
        finish = response.finish_reason
        if finish == "length":
            raise LengthFinishReasonError(
                "the structured answer was cut by the token limit (finish_reason 'length'); "
                "raise max_tokens or ask for less",
                content=content,
                response=response,
            )
        if finish == "content_filter":
            raise ContentFilterFinishReasonError(
                "the provider's content filter stopped the structured answer",
                content=content,
                response=response,
            )
        if refusal is None and not (content is None and calls):
            if content is None or not content.strip():
                raise OutputValidationError(
                    "the answer has no content to parse", content=content, response=response
                )
            try:
                parsed = format.parse(content)
            except OutputValidationError as exc:
                exc.response = response
                raise
    made: ParsedResponse[T] = _ParsedResponseOf.from_dict(response.to_dict())
    object.__setattr__(made, "parsed", parsed)
    object.__setattr__(made, "refusal", refusal)
    object.__setattr__(made, "_parsed_headers", response.headers)
    object.__setattr__(
        made, "_parsed_calls", [_parsed_call(c, tools) for c in calls] if calls else None
    )
    return made


@attrs.frozen
class CallPlan:
    """What a ``parse()`` or ``stream()`` call sends, and how its answer is read.

    ``options`` are the request options in wire form (``response_format``
    compiled, ``@tool`` functions replaced by their wire tools); ``format`` and
    ``tools`` (the ``@tool`` functions) say how the answer is read.
    """

    options: Mapping[str, Any]
    format: StructuredFormat[Any] | None = None
    tools: tuple[FunctionTool, ...] = ()

    def read(self, response: SendResponse) -> ParsedResponse[Any]:
        """The answer as :func:`parse_response` reads it."""
        return parse_response(response, self.format, tools=self.tools)


def plan_call(options: Mapping[str, Any], *, parse: bool = False) -> CallPlan:
    """The :class:`CallPlan` of a call's options, decided once for both clients.

    For ``stream()`` (``parse=False``) only a class (or a compiled
    :class:`StructuredFormat`) as ``response_format`` turns reading on; a dict
    is sent as given, as ``send()`` does, so code that streamed with a
    ``response_format`` dict before keeps getting plain responses. ``parse()``
    reads dicts too (a JSON Schema or ``{"type": "json_object"}`` gives plain
    JSON values) and refuses ``stream=True``. ``@tool`` functions in ``tools``
    are sent as their wire tools and their calls' arguments are bound.
    """
    if "response_format" not in options and "tools" not in options:
        return CallPlan(options)  # the common stream(): nothing to read, nothing copied
    if parse and options.get("stream"):
        raise TypeError("parse() does not stream: use stream(..., response_format=T)")
    out = dict(options)
    format: StructuredFormat[Any] | None = None
    given = out.get("response_format")
    if parse or (given is not None and not isinstance(given, Mapping)):
        if given is None:
            raise TypeError("parse() needs a structured response_format (a class or a schema)")
        format = structured_format(given)  # TypeError for {"type": "text"} or a non-class
        out["response_format"] = format.response_format()
    tools: tuple[FunctionTool, ...] = ()
    listed = out.get("tools")
    if isinstance(listed, (list, tuple)) and any(isinstance(t, FunctionTool) for t in listed):
        tools = tuple(t for t in listed if isinstance(t, FunctionTool))
        out["tools"] = [t.tool if isinstance(t, FunctionTool) else t for t in listed]
    return CallPlan(out, format, tools)
