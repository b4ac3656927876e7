"""The one place the SDK touches non-public parts of ``requests`` / ``urllib3``.

Each use is checked by ``tests/clients/test_library_internals.py``, which fails
with a clear message if a new release renames or removes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import requests
import urllib3.exceptions

__all__ = ["close_pools", "is_timeout"]


def close_pools(session: requests.Session) -> None:
    """Close the idle pooled connections of ``session`` now.

    ``Session.close()`` alone does not: since urllib3 2, ``PoolManager.clear()``
    drops its pools and leaves their sockets to close when each pool is
    garbage collected, which a reference cycle (an exception the caller kept,
    whose traceback reaches a response) delays until the cycle collector runs.
    Uses ``HTTPAdapter.poolmanager`` / ``.proxy_manager`` and ``PoolManager.pools``.
    """
    for adapter in session.adapters.values():
        managers = [getattr(adapter, "poolmanager", None)]
        managers.extend(getattr(adapter, "proxy_manager", {}).values())
        for manager in managers:
            pools = getattr(manager, "pools", None)
            if pools is None:
                continue
            for key in list(pools.keys()):
                with contextlib.suppress(Exception):  # closing must not fail the caller
                    pools[key].close()


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (args, urllib3's .reason, the cause chain)."""
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
            current.__cause__,
            current.__context__,
        ):
            if isinstance(inner, BaseException):
                stack.append(inner)


def is_timeout(exc: BaseException) -> bool:
    """requests reports a read timeout in the body as a ConnectionError around urllib3's."""
    causes = list(_causes(exc))
    # urllib3's NewConnectionError (refused, DNS) subclasses its ConnectTimeoutError.
    if any(isinstance(c, urllib3.exceptions.NewConnectionError) for c in causes):
        return False
    return any(
        isinstance(c, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError))
        for c in causes
    )
