"""The one place the SDK touches non-public parts of ``aiohttp``.

Each use is checked by ``tests/clients/test_library_internals.py``, which fails
with a clear message if a new release renames or removes it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from typing import Any

import aiohttp
import aiohttp.client_proto
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


class _ResponseHandler(aiohttp.client_proto.ResponseHandler):
    """aiohttp's connection protocol with a lazy ``sock_read`` timer.

    aiohttp cancels its read timer and makes a new one (a ``TimerHandle`` pushed
    on the loop's heap, compared there in Python) on every socket read and at the
    start of every response: two per small request, more than the rest of the
    SDK's driver costs. This one keeps at most one timer per connection and moves
    a deadline instead: a read (or a new response) moves the deadline; the timer,
    when it fires, times the read out if the deadline has passed and otherwise
    waits for the new one. The timeout fires when it did (``sock_read`` seconds
    after the last byte); a dropped timeout leaves the timer to lapse, unless the
    connection is lost (then it is cancelled, so the protocol is not kept).
    Uses ``ResponseHandler._reschedule_timeout`` / ``_drop_timeout`` /
    ``_on_read_timeout`` / ``_read_timeout`` / ``_read_timeout_handle``.
    """

    _edgee_due: float | None = None  # loop time the read times out at; None: not timed

    def _reschedule_timeout(self) -> None:
        timeout = self._read_timeout
        if not timeout:
            self._edgee_due = None
            return
        loop = self._loop
        due = self._edgee_due = loop.time() + timeout
        handle = self._read_timeout_handle
        # A pending timer due later (the last response had a longer timeout) is replaced.
        if handle is None or handle.when() > due:
            if handle is not None:
                handle.cancel()
            self._read_timeout_handle = loop.call_at(due, self._edgee_expired)

    def _drop_timeout(self) -> None:
        self._edgee_due = None  # a pending timer finds nothing to do

    def _edgee_expired(self) -> None:
        self._read_timeout_handle = None
        due = self._edgee_due
        if due is None:
            return
        if self._loop.time() < due:  # bytes came meanwhile: wait until the moved deadline
            self._read_timeout_handle = self._loop.call_at(due, self._edgee_expired)
            return
        self._edgee_due = None
        self._on_read_timeout()

    def connection_lost(self, exc: BaseException | None) -> None:
        handle = self._read_timeout_handle
        if handle is not None:
            handle.cancel()
            self._read_timeout_handle = None
        super().connection_lost(exc)


class EdgeeConnector(aiohttp.TCPConnector):
    """A ``TCPConnector`` that tells the request being sent (:data:`CURRENT_USE`) whether
    it got a pooled connection and whether it waited for one, and whose connections
    time reads lazily (:class:`_ResponseHandler`, made through ``BaseConnector._factory``).

    aiohttp's tracing says the same, at the cost of a Trace object and about ten
    awaited signals per request (5% of a ``send()``); these two private hooks
    (``_get``, ``_wait_for_available_connection``) cost nothing when not hit.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._factory = functools.partial(_ResponseHandler, loop=self._loop)  # type: ignore[assignment]

    async def _get(self, *args: Any) -> Any:  # a coroutine since aiohttp 3.10
        conn = await super()._get(*args)
        _mark_reused(conn)
        return conn

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
