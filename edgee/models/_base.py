"""Hand-written behaviour that the generated wire models inherit.

``make codegen`` writes data declarations only (``_generated.py``); every
method and property users call lives here, in slot-less mixins that the
generated classes name as their bases (``codegen/base_classes.json`` maps each
class to its mixin). This module imports the two model bases from
``edgee._convert`` and nothing generated: a mixin knows its class only through
``self`` / ``cls``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from edgee._convert import DictModel, WireModel, coerce_dict_fields

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "ChoiceBehaviour",
    "MessageBehaviour",
    "SendResponseBehaviour",
    "StreamChunkBehaviour",
    "ToolBehaviour",
    "ToolCallBehaviour",
    "fallback_used",
]


def fallback_used(headers: Mapping[str, str]) -> bool:
    """Read ``X-Edgee-Fallback-Used`` from lower-case headers: ``1`` or ``true`` means yes."""
    value = headers.get("x-edgee-fallback-used")
    return value is not None and value.strip().lower() in ("1", "true")


def _text_of(content: Any) -> str | None:
    if content is None or isinstance(content, str):
        return content
    texts = [p.get("text") for p in content if isinstance(p, Mapping)]
    joined = "".join(t for t in texts if isinstance(t, str))
    return joined if any(isinstance(t, str) for t in texts) else None


class MessageBehaviour(DictModel):
    """Constructors for each role: ``Message.user("hi")``, ``Message.tool(id, "42")``."""

    __slots__ = ()

    @classmethod
    def _make(cls, role: str, **fields: Any) -> Self:
        given = {k: v for k, v in fields.items() if v is not None}
        return cls(role=role, **given)

    @classmethod
    def system(cls, content: str | Sequence[Mapping[str, Any]]) -> Self:
        """A system message: instructions for the model."""
        return cls._make("system", content=content)

    @classmethod
    def developer(cls, content: str | Sequence[Mapping[str, Any]]) -> Self:
        """A developer message (the newer name of system instructions)."""
        return cls._make("developer", content=content)

    @classmethod
    def user(cls, content: str | Sequence[Mapping[str, Any]]) -> Self:
        """A user message."""
        return cls._make("user", content=content)

    @classmethod
    def assistant(
        cls,
        content: str | Sequence[Mapping[str, Any]] | None = None,
        tool_calls: Sequence[Mapping[str, Any]] | None = None,
    ) -> Self:
        """An assistant message: earlier model text, or the tool calls it made."""
        return cls._make("assistant", content=content, tool_calls=tool_calls)

    @classmethod
    def tool(cls, tool_call_id: str, content: str | Sequence[Mapping[str, Any]]) -> Self:
        """A tool message: the result of the call ``tool_call_id``."""
        return cls._make("tool", content=content, tool_call_id=tool_call_id)

    @property
    def text(self) -> str | None:
        """The message's text: the content string, or its text parts joined."""
        return _text_of(self.get("content"))


class ToolBehaviour(DictModel):
    """``Tool.function(name, description, parameters)`` builds a function tool."""

    __slots__ = ()

    @classmethod
    def function_tool(
        cls,
        name: str,
        description: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> Self:
        """A function tool; same as :meth:`function` under a name that cannot clash."""
        definition: dict[str, Any] = {"name": name}
        if description is not None:
            definition["description"] = description
        if parameters is not None:
            definition["parameters"] = dict(parameters)
        return cls(type="function", function=definition)


class ToolCallBehaviour(DictModel):
    """Parsing of a tool call's JSON arguments."""

    __slots__ = ()

    def arguments_json(self) -> Any:
        """Parse ``function.arguments``; raise ``ValueError`` naming the call if it is not JSON."""
        fn = self.get("function")
        raw = fn.get("arguments") if isinstance(fn, Mapping) else None
        try:
            return json.loads(raw) if raw else {}
        except (TypeError, ValueError) as exc:
            name = fn.get("name") if isinstance(fn, Mapping) else None
            raise ValueError(
                f"tool call {self.get('id')!r} ({name}): arguments are not valid JSON: "
                f"{str(raw)[:200]!r}"
            ) from exc


class ChoiceBehaviour(WireModel):
    """A choice built by hand with a plain message dict gets a ``ResponseMessage``."""

    __slots__ = ()

    def __attrs_post_init__(self) -> None:
        coerce_dict_fields(self)


class StreamChunkBehaviour(WireModel):
    """Shortcuts to the first choice of a stream chunk, as the official SDK has them.

    Each is ``None`` when the chunk has no choices or the value is empty
    (``""`` text, as on the first chunk that only carries the role).
    """

    __slots__ = ()

    @property
    def text(self) -> str | None:
        """``choices[0].delta.content``, or ``None`` when the chunk carries no text."""
        choices = self.choices  # type: ignore[attr-defined]
        if choices:
            delta = choices[0].delta
            if delta is not None:
                return delta.content or None
        return None

    def _delta_value(self, name: str) -> Any:
        choices = self.choices  # type: ignore[attr-defined]
        if not choices:
            return None
        delta = choices[0].delta
        return (getattr(delta, name) or None) if delta is not None else None

    @property
    def role(self) -> Any:
        """``choices[0].delta.role`` (first chunk only), or ``None``."""
        return self._delta_value("role")

    @property
    def finish_reason(self) -> Any:
        """``choices[0].finish_reason`` (last chunk only), or ``None``."""
        choices = self.choices  # type: ignore[attr-defined]
        return (choices[0].finish_reason or None) if choices else None

    @property
    def tool_calls(self) -> Any:
        """``choices[0].delta.tool_calls`` (fragments), or ``None``."""
        return self._delta_value("tool_calls")


class SendResponseBehaviour(WireModel):
    """Shortcuts to the first choice, and the HTTP response's metadata.

    ``headers`` is not part of the wire JSON: the client attaches it after
    structuring, so it never appears in ``to_dict()``.
    """

    __slots__ = ("_http_headers",)

    if TYPE_CHECKING:
        _http_headers: Mapping[str, str]

    @property
    def message(self) -> Any:
        """``choices[0].message`` (a dict of wire JSON), or ``None`` when there are no choices."""
        choices = self.choices  # type: ignore[attr-defined]
        return choices[0].message if choices else None

    @property
    def text(self) -> str | None:
        """``choices[0].message.content``, or ``None`` when absent or empty."""
        m = self.message
        return (m.get("content") or None) if m is not None else None

    @property
    def finish_reason(self) -> Any:
        """``choices[0].finish_reason``, or ``None``."""
        choices = self.choices  # type: ignore[attr-defined]
        return (choices[0].finish_reason or None) if choices else None

    @property
    def tool_calls(self) -> Any:
        """``choices[0].message.tool_calls``, or ``None`` when there are none."""
        m = self.message
        return (m.tool_calls or None) if m is not None else None

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

    def attach_http_headers(self, headers: Mapping[str, str]) -> None:
        """Give the response its HTTP headers (kept outside its wire fields and ``to_dict()``).

        The transports call it once per response; :attr:`headers` reads them.
        """
        object.__setattr__(self, "_http_headers", headers)
