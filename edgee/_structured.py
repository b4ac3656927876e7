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
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

import attrs
import cattrs

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
    "ParsedResponse",
    "ParsedToolCall",
    "StructuredFormat",
    "parse_response",
    "parse_tool_call",
    "split_response_format",
    "structured_format",
    "validate_json",
]

T = TypeVar("T")

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


def _is_type(value: Any, kind: str) -> bool:
    actual = _json_type(value)
    if kind == "number":
        return actual in ("integer", "number")
    if kind == "integer":
        return actual == "integer" or (actual == "number" and float(value).is_integer())
    return actual == kind


def validate_json(value: Any, schema: Mapping[str, Any], path: str = "$") -> None:
    """Check a decoded JSON value against a JSON Schema; raise ``ValueError`` naming the place.

    A best-effort checker of the keywords the schema builder writes, and the
    usual shape keywords of hand-written schemas: ``type``, ``enum``, ``const``,
    ``properties``, ``required``, ``additionalProperties``, ``items``,
    ``prefixItems``, ``minItems``/``maxItems``, ``anyOf``/``oneOf``/``allOf`` and
    local ``$ref`` (``#`` and ``#/$defs/...``). Other keywords are not checked.
    """
    _validate(value, schema, path, schema)


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


def _validate(value: Any, schema: Any, path: str, root: Mapping[str, Any]) -> None:
    if schema is True or not isinstance(schema, Mapping):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        _validate(value, _resolve(ref, root), path, root)
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            errors = []
            for option in options:
                try:
                    _validate(value, option, path, root)
                    break
                except ValueError as exc:
                    errors.append(str(exc))
            else:
                raise ValueError(f"{path}: matches none of the allowed forms ({errors[0]})")
    for option in schema.get("allOf") or ():
        _validate(value, option, path, root)
    kind = schema.get("type")
    if isinstance(kind, str):
        kind = [kind]
    if isinstance(kind, list) and kind and not any(_is_type(value, k) for k in kind):
        raise ValueError(f"{path}: expected {' or '.join(kind)}, got {_json_type(value)}")
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(json.dumps(v) for v in schema["enum"])
        raise ValueError(f"{path}: {json.dumps(value)} is not one of {allowed}")
    if "const" in schema and value != schema["const"]:
        raise ValueError(f"{path}: expected {json.dumps(schema['const'])}")
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for name in schema.get("required") or ():
            if name not in value:
                raise ValueError(f"{path}: missing required property {name!r}")
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                _validate(item, properties[name], f"{path}.{name}", root)
            elif extra is False:
                raise ValueError(f"{path}: unexpected property {name!r}")
            else:
                _validate(item, extra, f"{path}.{name}", root)
    elif isinstance(value, list):
        prefix = schema.get("prefixItems") or []
        for i, item in enumerate(value):
            sub = prefix[i] if i < len(prefix) else schema.get("items", True)
            _validate(item, sub, f"{path}[{i}]", root)
        low, high = schema.get("minItems"), schema.get("maxItems")
        if isinstance(low, int) and len(value) < low:
            raise ValueError(f"{path}: expected at least {low} items, got {len(value)}")
        if isinstance(high, int) and len(value) > high:
            raise ValueError(f"{path}: expected at most {high} items, got {len(value)}")


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
        if target is not None:
            value = _drop_null_optionals(value, target)
        if self.check_schema is not None:
            try:
                validate_json(value, self.check_schema)
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
    def tool_calls(self) -> list[ParsedToolCall] | None:  # type: ignore[override]
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
