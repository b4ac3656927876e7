"""The one cattrs converter between wire JSON and the generated models.

Three rules the stock converter does not follow, and why:

* Unknown keys are kept. The gateway adds fields faster than SDKs ship;
  dropping them would lose data, so each model keeps them in ``_extra`` and
  writes them back in ``to_dict()``.
* ``to_dict()`` leaves out ``None`` fields but keeps every other default
  (``index: 0``, ``type: "function"``), which ``omit_if_default`` would drop.
* ``str | list[ContentPart] | None`` (message content) is structured by shape.

Structure functions are generated once per class by cattrs and cached by the
converter, so the per-chunk cost is one generated call per nested object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from edgee.models import _generated as g
from edgee.models._base import OpenEnum, WireModel

__all__ = ["converter", "structure", "unstructure"]

T = TypeVar("T")

converter = cattrs.Converter()


def _wire_name(a: attrs.Attribute[Any]) -> str:
    return str(a.metadata.get("wire", a.name))


def _content(value: Any, _: Any) -> str | list[g.ContentPart] | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return [converter.structure(p, g.ContentPart) for p in value]
    raise TypeError(f"content must be a string or a list of parts, not {type(value).__name__}")


def _any_json(value: Any, _: Any) -> Any:
    return value


def _make_structure(cls: type[Any]) -> Callable[[Any, Any], Any]:
    fields = [a for a in attrs.fields(cls) if a.name != "_extra"]
    known = frozenset(_wire_name(a) for a in fields)
    overrides: dict[str, Any] = {
        a.name: override(rename=_wire_name(a)) for a in fields if "wire" in a.metadata
    }
    base = make_dict_structure_fn(cls, converter, _extra=override(omit=True), **overrides)

    def structure_model(data: Any, _: Any) -> Any:
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__} must be a JSON object, not {type(data).__name__}")
        obj = base(data, cls)
        # Subset test in C first: the common case (no unknown keys) pays nothing more.
        if not data.keys() <= known:
            extra = {k: v for k, v in data.items() if k not in known}
            object.__setattr__(obj, "_extra", extra)
        return obj

    return structure_model


def _make_unstructure(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    plan = [(a.name, _wire_name(a)) for a in attrs.fields(cls) if a.name != "_extra"]
    unstructure_value = converter.unstructure

    def unstructure_model(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, wire in plan:
            value = getattr(obj, name)
            if value is not None:
                out[wire] = unstructure_value(value)
        extra = obj._extra
        if extra:
            for key, value in extra.items():
                out.setdefault(key, value)
        return out

    return unstructure_model


def _enum_value(member: OpenEnum) -> str:
    return str(member.value)


def _is_model(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, WireModel) and attrs.has(cls)


converter.register_structure_hook(str | list[g.ContentPart] | None, _content)
converter.register_structure_hook(str | dict[str, Any] | None, _any_json)
converter.register_structure_hook(str | int | None, _any_json)
converter.register_structure_hook(Any, _any_json)
converter.register_structure_hook_factory(_is_model, _make_structure)
converter.register_unstructure_hook_factory(_is_model, _make_unstructure)
# An open enum is a str subclass: without this hook cattrs would pass the
# member through and to_dict() would hold enum objects instead of strings.
converter.register_unstructure_hook(OpenEnum, _enum_value)


def structure(data: Any, cls: type[T]) -> T:
    """Build ``cls`` from wire JSON."""
    return converter.structure(data, cls)


def unstructure(obj: Any) -> Any:
    """Turn a model (or a list of them) back into wire JSON."""
    return converter.unstructure(obj)
