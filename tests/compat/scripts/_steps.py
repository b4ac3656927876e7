"""Output helpers shared by the differential scripts.

Standard library only, and no knowledge of either SDK: a script prints one line per step,
``name: value``, where `value` is the ``repr`` of plain data (str, int, float, bool, None,
and lists/tuples/dicts of those) or ``raised <Kind>``, `<Kind>` being the first class of the
official SDK's exception vocabulary (built-in classes) the exception is an instance of.
SDK objects are never printed by repr (their reprs are free to differ): ``<object>``, or
the plain data they hold when they are mappings (whether they are `dict` instances is
asked explicitly where it matters).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# The classes code written against the official SDK can catch, most specific first.
KINDS: tuple[type[BaseException], ...] = (
    RuntimeError,
    ConnectionError,
    OSError,
    UnicodeError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    StopIteration,
    Exception,
)

MODEL = "openai/gpt-4o"
SCRIPT = os.path.abspath(sys.argv[0])


def kind(exc: BaseException) -> str:
    """The official-vocabulary name of `exc`'s class."""
    for cls in KINDS:
        if isinstance(exc, cls):
            return cls.__name__
    return "BaseException"


def show(value: Any) -> str:
    """``repr`` of plain data; ``<object>`` for anything else (SDK objects)."""
    return repr(_plain(value))


class _Opaque:
    def __repr__(self) -> str:
        return "<object>"


def _plain(value: Any) -> Any:
    if value is None or type(value) in (int, float, bool, bytes):
        return value
    if isinstance(value, str) and str(value) == str.__str__(value):
        return str.__str__(value)  # a str, or a str enum that prints as its value
    if isinstance(value, (list, tuple)):
        return (list if isinstance(value, list) else tuple)(_plain(v) for v in value)
    if isinstance(value, Mapping):  # a dict, or a model with the mapping protocol
        return {_plain(k): _plain(v) for k, v in value.items()}
    return _Opaque()


def out(name: str, value: Any) -> None:
    """Print one observation."""
    print(f"{name}: {show(value)}", flush=True)


def step(name: str, fn: Callable[[], Any]) -> Any:
    """Run `fn`, print its value (or the kind of what it raised); return the value or None."""
    try:
        value = fn()
    except Exception as exc:
        print(f"{name}: raised {kind(exc)}", flush=True)
        return None
    out(name, value)
    return value


def warned(name: str, fn: Callable[[], Any]) -> Any:
    """`step`, plus a line ``<name>.warnings`` listing each warning's category family
    and whether it points at this script (the caller's line, not the SDK's frames)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = step(name, fn)
    seen = []
    for w in caught:
        family = (
            "DeprecationWarning"
            if issubclass(w.category, DeprecationWarning)
            else ("UserWarning" if issubclass(w.category, UserWarning) else "Warning")
        )
        seen.append((family, os.path.abspath(w.filename) == SCRIPT))
    out(f"{name}.warnings", seen)
    return value


def drain(name: str, make: Callable[[], Iterable[Any]], each: Callable[[Any], Any]) -> list[Any]:
    """Iterate what `make()` returns, printing ``<name>.items`` (``each(item)`` for every
    item) and ``<name>.end``: ``'ok'`` or ``raised <Kind>`` if making or iterating raised."""
    items: list[Any] = []
    end = "'ok'"
    try:
        for item in make():
            items.append(each(item))
    except Exception as exc:
        end = f"raised {kind(exc)}"
    out(f"{name}.items", items)
    print(f"{name}.end: {end}", flush=True)
    return items
