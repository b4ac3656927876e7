"""The one ``aiohttp.ClientSession`` of an ``AsyncEdgee`` and its copies, made lazily.

It also owns what belongs to the session's life: the event loop it was made
in, the proxy looked up once per origin, and the open streams to end when
the client closes.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.parse
import weakref
from typing import Any, Protocol

import aiohttp

from edgee._aiohttp_internals import EdgeeConnector, env_proxy_for
from edgee._tls import TLSSettings, VerifyOption, resolve_tls
from edgee.errors import ClientStateError

__all__ = ["Abortable", "Pool"]


class Abortable(Protocol):
    """An open stream's body: ended from outside when the client closes."""

    def abort(self, reason: str) -> None:
        """Stop the stream; its reader raises :class:`~edgee.errors.StreamError` with ``reason``."""


class Pool:
    """The one ClientSession of a client (and of its with_options copies), made lazily.

    aiohttp sessions belong to the event loop they were created in; the pool
    remembers it and refuses use from another loop with a clear error.
    """

    def __init__(
        self, session: aiohttp.ClientSession | None, limit: int, verify: VerifyOption | None = None
    ) -> None:
        self.session = session
        self.owned = session is None
        self.limit = limit
        self.tls: TLSSettings = resolve_tls(verify, own_session=not self.owned)
        self._ssl: ssl.SSLContext | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closed = False
        # The bodies of open streams, told to abort when the client closes.
        self.streams: weakref.WeakSet[Abortable] = weakref.WeakSet()
        self.proxies: dict[str, tuple[Any, Any]] = {}

    @property
    def ssl(self) -> ssl.SSLContext | None:
        """``ssl=`` per request: the resolved context (shared per process, made on
        first use), or ``None`` on a user's session without ``verify=`` (its
        connector's own settings decide)."""
        if self._ssl is None and not self.tls.from_session:
            self._ssl = self.tls.context()
        return self._ssl

    def proxy_for(self, url: str) -> tuple[Any, Any]:
        """``(proxy, proxy_auth)`` for ``url`` from HTTP(S)_PROXY/NO_PROXY, once per origin.

        Not aiohttp's ``trust_env``: that looks the proxy up, and reads ~/.netrc,
        in a worker thread on every request (about 0.5 ms each), and a netrc
        entry for the gateway would clash with our Authorization header.
        """
        if not self.owned:
            return None, None  # the caller's session decides
        parts = urllib.parse.urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        found = self.proxies.get(origin)
        if found is None:
            found = self.proxies[origin] = env_proxy_for(url)
        return found

    def get(self) -> aiohttp.ClientSession:
        """The session, made on first use; refused once closed or from another loop."""
        if self.closed:
            raise ClientStateError("this AsyncEdgee client is closed")
        loop = asyncio.get_running_loop()
        if self.loop is None:
            self.loop = loop
        elif loop is not self.loop:
            raise ClientStateError(
                "this AsyncEdgee client was first used in another event loop; "
                "create one client per event loop"
            )
        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=EdgeeConnector(limit=self.limit, ssl=self.ssl or True),
                trust_env=False,  # HTTP(S)_PROXY is honoured through proxy_for()
                timeout=aiohttp.ClientTimeout(total=None),
                # The core decodes content codings (the same decoder on both clients).
                auto_decompress=False,
            )
        return self.session

    async def close(self) -> None:
        """End the open streams (they raise StreamError) and close an owned session."""
        if self.closed:
            return
        self.closed = True
        for stream in list(self.streams):
            stream.abort("the client was closed while this stream was open")
        if self.session is not None and self.owned:
            await self.session.close()
