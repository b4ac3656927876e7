"""How the async client hands one request to ``aiohttp``: what it passes, worked out once.

The twin of ``_requests_send``. Per URL a client calls, :class:`Sender`
remembers the proxy (``Pool.proxy_for``: ``HTTP(S)_PROXY``/``NO_PROXY``, looked
up once per origin) and the ``aiohttp.ClientTimeout`` of the request's
:class:`~edgee._config.Timeout`, so a request costs a dict lookup instead of a
URL split and a hashed cache. It also marks the request as the one being sent
(``_aiohttp_internals.CURRENT_USE``) for the connector's hooks.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import aiohttp

from edgee._aiohttp_internals import CURRENT_USE, ConnectionUse
from edgee._aiohttp_pool import Pool
from edgee._config import Timeout
from edgee._request import PreparedRequest

__all__ = ["Sender", "client_timeout"]

# Distinct URLs remembered per client (endpoints, plus redirect targets).
_MAX_ROUTES = 64


def client_timeout(t: Timeout) -> aiohttp.ClientTimeout:
    """aiohttp's timeout for ``t``.

    No total deadline here: Timeout.total is the attempt flow's (aiohttp's
    default total=300 s would cut every long stream). sock_read is an idle
    timeout, the contract's `read`; Timeout.pool bounds only the wait for a
    free pooled connection (_aiohttp_internals.EdgeeConnector), so aiohttp's
    `connect` (wait + connect) is off.
    """
    return aiohttp.ClientTimeout(total=None, sock_connect=t.connect, sock_read=t.read)


class _Route:
    __slots__ = ("proxy", "proxy_auth", "timeouts")

    def __init__(self, proxy: Any, proxy_auth: Any) -> None:
        self.proxy = proxy
        self.proxy_auth = proxy_auth
        # The last Timeout seen and aiohttp's for it, as one tuple (as in _requests_send).
        self.timeouts: tuple[Timeout | None, aiohttp.ClientTimeout] = (
            None,
            aiohttp.ClientTimeout(total=None),
        )


class Sender:
    """Sends a :class:`~edgee._request.PreparedRequest` on the pool's session.

    Shared by a client's ``with_options`` copies, as the pool is.
    """

    __slots__ = ("_pool", "_routes")

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._routes: dict[str, _Route] = {}

    def send(
        self, session: aiohttp.ClientSession, request: PreparedRequest, use: ConnectionUse
    ) -> Awaitable[aiohttp.ClientResponse]:
        """Start sending ``request`` (await the result for its head); ``use`` is told
        whether it went out on a reused connection and whether it waited for one."""
        route = self._routes.get(request.url)
        if route is None:
            route = _Route(*self._pool.proxy_for(request.url))
            if len(self._routes) >= _MAX_ROUTES:
                self._routes.clear()
            self._routes[request.url] = route
        timeout = request.timeout
        known, timeouts = route.timeouts
        if known is not timeout:
            timeouts = client_timeout(timeout)
            route.timeouts = (timeout, timeouts)
        CURRENT_USE.set(use)
        if route.proxy is None:  # the usual case: fewer keywords to pass through aiohttp
            return session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.body,
                timeout=timeouts,
                allow_redirects=False,
                ssl=self._pool.ssl or True,
                auto_decompress=False,
            )
        return session.request(
            request.method,
            request.url,
            headers=request.headers,
            data=request.body,
            timeout=timeouts,
            proxy=route.proxy,
            proxy_auth=route.proxy_auth,
            allow_redirects=False,
            ssl=self._pool.ssl or True,
            auto_decompress=False,
        )
