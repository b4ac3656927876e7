"""Hand-written behaviour that the generated wire models inherit.

``make codegen`` writes data declarations only (``_generated.py``); every
method and property users call lives here, in slot-less mixins that the
generated classes name as their bases (``codegen/Makefile`` flags map each
class to its mixin). Nothing here may import ``_generated`` at module level:
the generated module imports this one.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

if TYPE_CHECKING:
    from edgee.models._generated import (
        ContentPart,
        Message,
        ResponseMessage,
        Role,
        StreamChoice,
        Tool,
        ToolCall,
        ToolCallDelta,
    )

__all__ = [
    "MessageBehaviour",
    "OpenEnum",
    "SendResponseBehaviour",
    "StreamChunkBehaviour",
    "ToolBehaviour",
    "ToolCallBehaviour",
    "WireModel",
    "fallback_used",
]

_T = TypeVar("_T", bound="WireModel")


class OpenEnum(str, enum.Enum):
    """A string enum that keeps values it does not know.

    The gateway may send a role this SDK has never heard of; instead of
    failing, ``Role("moderator")`` returns a pseudo-member that compares equal
    to ``"moderator"`` and writes back as it came.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


def _wire_names(cls: type) -> dict[str, str]:
    """Map each wire (JSON) key of an attrs model to its attribute name."""
    names = _WIRE_NAMES.get(cls)
    if names is None:
        names = {
            a.metadata.get("wire", a.name): a.name for a in attrs.fields(cls) if a.name != "_extra"
        }
        _WIRE_NAMES[cls] = names
    return names


_WIRE_NAMES: dict[type, dict[str, str]] = {}


class WireModel:
    """Base of every generated model: conversion and read-only dict-style access.

    Dict-style reads exist so that code written for the official ``edgee``
    package, whose messages and tool calls were plain dicts, keeps working:
    ``message["content"]``, ``tool_call["function"]["name"]``,
    ``message.get("tool_calls")``. A known key whose value is ``None`` reads
    as ``None`` (the gateway sends ``null`` for it); keys the schema does not
    know are served from :attr:`extra`.
    """

    __slots__ = ()

    if TYPE_CHECKING:
        _extra: dict[str, Any] | None

    @classmethod
    def from_dict(cls: type[_T], data: Mapping[str, Any]) -> _T:
        """Build the model from wire JSON (a dict as ``json.loads`` returns it)."""
        from edgee._convert import structure

        try:
            return structure(data, cls)
        except Exception as exc:  # cattrs raises several types, some grouping others
            raise ValueError(f"invalid {cls.__name__}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """Return the wire JSON of the model; ``None`` fields are left out."""
        from edgee._convert import unstructure

        result: dict[str, Any] = unstructure(self)
        return result

    @property
    def extra(self) -> dict[str, Any]:
        """JSON keys the schema does not know, as received (a copy)."""
        return dict(self._extra) if self._extra else {}

    def __getitem__(self, key: str) -> Any:
        name = _wire_names(type(self)).get(key)
        if name is not None:
            return getattr(self, name)
        if self._extra and key in self._extra:
            return self._extra[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        """Like ``dict.get``: the value of ``key``, or ``default`` when absent or ``None``."""
        try:
            value = self[key]
        except KeyError:
            return default
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def keys(self) -> list[str]:
        """The wire keys that have a value, as ``to_dict()`` would write them."""
        names = _wire_names(type(self))
        keys = [k for k, n in names.items() if getattr(self, n) is not None]
        if self._extra:
            keys.extend(k for k in self._extra if k not in names)
        return keys

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())


def fallback_used(headers: Mapping[str, str]) -> bool:
    """Read ``X-Edgee-Fallback-Used`` from lower-case headers: ``1`` or ``true`` means yes."""
    value = headers.get("x-edgee-fallback-used")
    return value is not None and value.strip().lower() in ("1", "true")


def _text_of(content: str | list[ContentPart] | None) -> str | None:
    if content is None or isinstance(content, str):
        return content
    texts = [p.text for p in content if p.text is not None]
    return "".join(texts) if texts else None


class MessageBehaviour(WireModel):
    """Constructors for each role: ``Message.user("hi")``, ``Message.tool(id, "42")``."""

    __slots__ = ()

    @classmethod
    def _make(cls, role: str, **fields: Any) -> Message:
        from edgee.models._generated import Role

        return cls(role=Role(role), **fields)  # type: ignore[return-value,call-arg]

    @classmethod
    def system(cls, content: str | list[ContentPart]) -> Message:
        """A system message: instructions for the model."""
        return cls._make("system", content=content)

    @classmethod
    def developer(cls, content: str | list[ContentPart]) -> Message:
        """A developer message (the newer name of system instructions)."""
        return cls._make("developer", content=content)

    @classmethod
    def user(cls, content: str | list[ContentPart]) -> Message:
        """A user message."""
        return cls._make("user", content=content)

    @classmethod
    def assistant(
        cls,
        content: str | list[ContentPart] | None = None,
        tool_calls: list[ToolCall] | None = None,
    ) -> Message:
        """An assistant message: earlier model text, or the tool calls it made."""
        return cls._make("assistant", content=content, tool_calls=tool_calls)

    @classmethod
    def tool(cls, tool_call_id: str, content: str | list[ContentPart]) -> Message:
        """A tool message: the result of the call ``tool_call_id``."""
        return cls._make("tool", content=content, tool_call_id=tool_call_id)

    @property
    def text(self) -> str | None:
        """The message's text: the content string, or its text parts joined."""
        return _text_of(self.content)  # type: ignore[attr-defined]


class ToolBehaviour(WireModel):
    """``Tool.function(name, description, parameters)`` builds a function tool."""

    __slots__ = ()

    @classmethod
    def function_tool(
        cls,
        name: str,
        description: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> Tool:
        """A function tool; same as :meth:`function` under a name that cannot clash."""
        from edgee.models._generated import FunctionDefinition

        definition = FunctionDefinition(
            name=name,
            description=description,
            parameters=dict(parameters) if parameters is not None else None,
        )
        return cls(type="function", function=definition)  # type: ignore[return-value,call-arg]


class ToolCallBehaviour(WireModel):
    """Parsing of a tool call's JSON arguments."""

    __slots__ = ()

    def arguments_json(self) -> Any:
        """Parse ``function.arguments``; raise ``ValueError`` naming the call if it is not JSON."""
        raw = self.function.arguments  # type: ignore[attr-defined]
        try:
            return json.loads(raw) if raw else {}
        except ValueError as exc:
            name = self.function.name  # type: ignore[attr-defined]
            raise ValueError(
                f"tool call {self.id!r} ({name}): arguments are not valid JSON: {raw[:200]!r}"  # type: ignore[attr-defined]
            ) from exc


class StreamChunkBehaviour(WireModel):
    """Shortcuts to the first choice's delta of a stream chunk."""

    __slots__ = ()

    @property
    def _first(self) -> StreamChoice | None:
        choices = self.choices  # type: ignore[attr-defined]
        return choices[0] if choices else None

    @property
    def text(self) -> str | None:
        """``choices[0].delta.content``, or ``None``."""
        c = self._first
        return c.delta.content if c is not None and c.delta is not None else None

    @property
    def role(self) -> Role | None:
        """``choices[0].delta.role`` (first chunk only), or ``None``."""
        c = self._first
        return c.delta.role if c is not None and c.delta is not None else None

    @property
    def finish_reason(self) -> str | None:
        """``choices[0].finish_reason`` (last chunk only), or ``None``."""
        c = self._first
        return c.finish_reason if c is not None else None

    @property
    def tool_calls(self) -> list[ToolCallDelta] | None:
        """``choices[0].delta.tool_calls`` (fragments), or ``None``."""
        c = self._first
        return c.delta.tool_calls if c is not None and c.delta is not None else None


class SendResponseBehaviour(WireModel):
    """Shortcuts to the first choice, and the HTTP response's metadata.

    ``headers`` is not part of the wire JSON: the client attaches it after
    structuring, so it never appears in ``to_dict()``.
    """

    __slots__ = ("_http_headers",)

    if TYPE_CHECKING:
        _http_headers: Mapping[str, str]

    @property
    def message(self) -> ResponseMessage | None:
        """``choices[0].message``, or ``None`` when there are no choices."""
        choices = self.choices  # type: ignore[attr-defined]
        return choices[0].message if choices else None

    @property
    def text(self) -> str | None:
        """``choices[0].message.content``, or ``None``."""
        m = self.message
        return m.content if m is not None else None

    @property
    def finish_reason(self) -> str | None:
        """``choices[0].finish_reason``, or ``None``."""
        choices = self.choices  # type: ignore[attr-defined]
        return choices[0].finish_reason if choices else None

    @property
    def tool_calls(self) -> list[ToolCall] | None:
        """``choices[0].message.tool_calls``, or ``None``."""
        m = self.message
        return m.tool_calls if m is not None else None

    @property
    def headers(self) -> Mapping[str, str]:
        """The HTTP response headers (lower-case names); empty when built by hand."""
        try:
            return self._http_headers
        except AttributeError:
            return {}

    @property
    def provider(self) -> str | None:
        """The provider that answered, from the ``X-Edgee-Provider`` header."""
        return self.headers.get("x-edgee-provider")

    @property
    def fallback_used(self) -> bool:
        """Whether a fallback provider answered.

        The gateway sends ``X-Edgee-Fallback-Used: 1`` then, and no header
        otherwise; ``true`` (any case) is accepted too. Absent means ``False``.
        """
        return fallback_used(self.headers)

    @property
    def request_id(self) -> str | None:
        """``x-request-id`` when the response has one (best effort: the gateway documents none)."""
        return self.headers.get("x-request-id")

    def _attach_headers(self, headers: Mapping[str, str]) -> None:
        object.__setattr__(self, "_http_headers", headers)
