"""Walking an exception's chain: the one place the SDK looks through what a failure wraps.

requests, urllib3 and aiohttp wrap the real cause (a timeout, a certificate check, a
reset) several layers deep, in ``args``, urllib3's ``.reason``, aiohttp's
``.certificate_error`` or the ``__cause__``/``__context__`` chain.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["causes"]


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps, each once (depth first)."""
    stack, seen = [exc], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (
            *current.args,
            getattr(current, "reason", None),
            getattr(current, "certificate_error", None),  # aiohttp's certificate error
            current.__cause__,
            current.__context__,
        ):
            if isinstance(inner, BaseException):
                stack.append(inner)
