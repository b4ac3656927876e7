"""Checking scripting arguments: each ``FakeGateway.reply_*`` turns its friendly keyword
arguments into frozen reply objects here, failing with `ValueError` at scripting time (in
the test's own thread) rather than as a broken answer later.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from edgee.testing._codings import check_coding
from edgee.testing._completion import ToolCallSpec
from edgee.testing._headers import check_header
from edgee.testing._replies import Delivery

__all__ = [
    "checked_after",
    "checked_compression",
    "checked_delay",
    "delivery",
    "tool_call_specs",
]


def checked_delay(seconds: float) -> float:
    if seconds < 0:
        raise ValueError("delay must be >= 0")
    return float(seconds)


def checked_after(after: int) -> int:
    if after < 0:
        raise ValueError("after must be >= 0")
    return after


def _checked_interim(interim: Iterable[int]) -> tuple[int, ...]:
    statuses = tuple(interim)
    for status in statuses:
        # 101 Switching Protocols ends HTTP/1.1 on the connection: not an interim answer.
        if not isinstance(status, int) or not 100 <= status <= 199 or status == 101:
            raise ValueError(f"interim statuses must be 1xx (not 101), got {status!r}")
    return statuses


def delivery(
    *,
    headers: Mapping[str, str] | None = None,
    fallback: str | None = None,
    interim: Iterable[int] = (),
    content_encoding: str | None = None,
    chunked: bool = True,
    delay: float = 0.0,
) -> Delivery:
    """The wire options shared by the ``reply_*`` methods, checked.

    `fallback` names the provider that answered instead: it becomes ``X-Edgee-Provider``
    and adds ``X-Edgee-Fallback-Used: 1`` (the documented value); `headers` still win.
    """
    merged: dict[str, str] = {}
    if fallback is not None:
        if not fallback:
            raise ValueError("fallback must name a provider")
        merged = {"X-Edgee-Provider": fallback, "X-Edgee-Fallback-Used": "1"}
    if headers:
        lowered = {name.lower() for name in headers}
        merged = {k: v for k, v in merged.items() if k.lower() not in lowered}
        merged.update(headers)
    for name, value in merged.items():
        check_header(name, value)
    return Delivery(
        headers=merged or None,
        interim=_checked_interim(interim),
        coding=check_coding(content_encoding),
        chunked=chunked,
        delay=checked_delay(delay),
    )


_COMPRESSION_INTS = ("saved_tokens", "cost_savings", "time_ms")


def checked_compression(compression: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A chat answer's ``compression`` in the documented types: integer ``saved_tokens``,
    ``cost_savings`` (micro-USD) and ``time_ms``; ``reduction`` a float percent."""
    if compression is None:
        return None
    out = dict(compression)
    for key in _COMPRESSION_INTS:
        value = out.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"compression[{key!r}] must be an integer, got {value!r}")
    reduction = out.get("reduction")
    if reduction is not None:
        if isinstance(reduction, bool) or not isinstance(reduction, (int, float)):
            raise ValueError(f"compression['reduction'] must be a number, got {reduction!r}")
        out["reduction"] = float(reduction)
    return out


def tool_call_specs(
    calls: Iterable[Mapping[str, Any]], numbers: itertools.count[int]
) -> tuple[ToolCallSpec, ...]:
    """`calls` (``{"name", "arguments": str | JSON-able, "id"?}``) as specs with ids."""
    specs = []
    for call in calls:
        name = call.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"tool call without a name: {call!r}")
        arguments = call.get("arguments", "{}")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        call_id = call.get("id")
        if call_id is None:
            call_id = f"call_{next(numbers)}"
        specs.append(ToolCallSpec(id=str(call_id), name=name, arguments=arguments))
    return tuple(specs)
