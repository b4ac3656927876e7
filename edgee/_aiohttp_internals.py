"""The one place the SDK touches non-public parts of ``aiohttp``.

Each use is checked by ``tests/clients/test_library_internals.py``, which fails
with a clear message if a new release renames or removes it.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from typing import Any

import aiohttp
import aiohttp.helpers
import yarl

__all__ = [
    "CURRENT_USE",
    "ConnectionUse",
    "EdgeeConnector",
    "buffered_bytes",
    "env_proxy_for",
    "take_read_timeout",
]


class ConnectionUse:
    """Per request: did it go out on a reused connection, is it waiting for a pooled one?"""

    __slots__ = ("pool_timeout", "queued", "reused")

    def __init__(self, pool_timeout: float | None = None) -> None:
        self.reused = False
        self.queued = False
        #: ``Timeout.pool``: the longest this request waits for a free pooled connection.
        self.pool_timeout = pool_timeout


#: The request the current task is sending (set by the driver around ``session.request``).
CURRENT_USE: contextvars.ContextVar[ConnectionUse | None] = contextvars.ContextVar(
    "edgee_connection_use", default=None
)


class EdgeeConnector(aiohttp.TCPConnector):
    """A ``TCPConnector`` that tells the request being sent (:data:`CURRENT_USE`) whether
    it got a pooled connection and whether it waited for one.

    aiohttp's tracing says the same, at the cost of a Trace object and about ten
    awaited signals per request (5% of a ``send()``); these two private hooks
    (``_get``, ``_wait_for_available_connection``) cost nothing when not hit.
    """

    def _get(self, *args: Any) -> Any:
        found = super()._get(*args)
        if inspect.isawaitable(found):  # aiohttp >= 3.10: a coroutine
            return _marked(found)
        _mark_reused(found)
        return found

    async def _wait_for_available_connection(self, *args: Any) -> None:
        use = CURRENT_USE.get()
        if use is None:
            await super()._wait_for_available_connection(*args)
            return
        use.queued = True  # left set by a timeout: the error mapping says "pool"
        # Only the wait is bounded here: aiohttp's own `connect` timeout would bound the
        # wait and the connecting together, cutting slow connects at Timeout.pool.
        await asyncio.wait_for(super()._wait_for_available_connection(*args), use.pool_timeout)
        use.queued = False


async def _marked(found: Any) -> Any:
    conn = await found
    _mark_reused(conn)
    return conn


def _mark_reused(conn: Any) -> None:
    if conn is not None:
        use = CURRENT_USE.get()
        if use is not None:
            use.reused = True


def buffered_bytes(content: aiohttp.StreamReader) -> bytes:
    """The bytes aiohttp received before the connection failed.

    Its ``read()`` raises the failure first and would drop them (a body cut
    short right after its last chunks loses those chunks); the sync client
    gets them, so this one must too. ``StreamReader._read_nowait`` is private
    but is the only way to them.
    """
    try:
        return content._read_nowait(-1)
    except Exception:  # a timeout, or another aiohttp: nothing to salvage
        return b""


def env_proxy_for(url: str) -> tuple[Any, Any]:
    """``(proxy, proxy_auth)`` for ``url`` from HTTP(S)_PROXY/NO_PROXY (``aiohttp.helpers``)."""
    try:
        return aiohttp.helpers.get_env_proxy_for_url(yarl.URL(url))
    except LookupError:
        return None, None


def take_read_timeout(response: aiohttp.ClientResponse) -> float | None:
    """Turn off aiohttp's idle read timer for the rest of ``response``; return its timeout.

    aiohttp cancels and re-creates a ``call_later`` timer on every socket read
    (``sock_read``), about 7 us per event when events come one by one; a
    stream watches its own progress instead (``_async_stream._Watchdog``).
    Uses the response handler's ``read_timeout`` property (``Connection.protocol``
    is public, the handler class is not documented). The timer armed by the
    last read still runs out as before; the next request on the connection
    sets its own timeout again. None when there is no timer to take over.
    """
    connection = response.connection
    protocol = getattr(connection, "protocol", None) if connection is not None else None
    timeout = getattr(protocol, "read_timeout", None)
    if not timeout:
        return None
    protocol.read_timeout = None  # type: ignore[union-attr]
    return float(timeout)
