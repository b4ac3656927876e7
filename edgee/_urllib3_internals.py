"""The one place the SDK touches non-public parts of ``requests`` / ``urllib3``.

Each use is checked by ``tests/clients/test_library_internals.py``, which fails
with a clear message if a new release renames or removes it.
"""

from __future__ import annotations

import contextlib
import http.client
import ssl
import threading
from collections.abc import Callable
from typing import Any

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from edgee._causes import causes
from edgee._response import is_interim

__all__ = [
    "EdgeeAdapter",
    "chunked_body_reader",
    "close_pools",
    "drop_pools",
    "is_pool_timeout",
    "is_stale_failure",
    "is_timeout",
    "release_chunked_body",
    "set_pool_timeout",
    "set_read_timeout",
]

# Per thread: the pool wait of the request being sent, and whether it went out on a
# connection that had served a request before (urllib3 gives neither to the caller).
_local = threading.local()


def set_pool_timeout(seconds: float | None) -> None:
    """The longest this thread's next request waits for a free pooled connection."""
    _local.pool_timeout = seconds
    _local.reused = False


class _InterimSkippingResponse(http.client.HTTPResponse):
    """http.client skips ``100 Continue`` only and takes any other 1xx (``103 Early
    Hints``) for the final response; this one skips every interim head."""

    def _read_status(self) -> tuple[str, int, str]:
        while True:
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if not is_interim(status):
                return version, status, reason
            http.client.parse_headers(self.fp)  # the interim head's headers: dropped


class _Connection(HTTPConnection):
    response_class = _InterimSkippingResponse

    def request(self, *args: Any, **kwargs: Any) -> None:
        _local.reused = self.sock is not None  # urllib3 resets a dropped one first
        super().request(*args, **kwargs)


class _TLSConnection(HTTPSConnection):
    response_class = _InterimSkippingResponse

    def request(self, *args: Any, **kwargs: Any) -> None:
        _local.reused = self.sock is not None
        super().request(*args, **kwargs)


def _get_conn(pool: Any, base: Any, timeout: float | None) -> Any:
    # requests never passes urllib3 a pool_timeout: the client's Timeout.pool does.
    if timeout is None:
        timeout = getattr(_local, "pool_timeout", None)
    return base._get_conn(pool, timeout)


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection

    def _get_conn(self, timeout: float | None = None) -> Any:
        return _get_conn(self, HTTPConnectionPool, timeout)


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        return _get_conn(self, HTTPSConnectionPool, timeout)


_POOL_CLASSES = {"http": _Pool, "https": _TLSPool}


class EdgeeAdapter(HTTPAdapter):
    """The ``HTTPAdapter`` of a session the sync client owns.

    * every HTTPS connection uses one :class:`ssl.SSLContext` (the client's
      resolved ``_tls.TLSSettings``): it is in the pool key, and requests' own
      CA settings (certifi, ``REQUESTS_CA_BUNDLE`` per request) are dropped;
    * its pools skip 1xx interim responses, honour ``Timeout.pool`` and
      record whether a request went out on a reused connection;
    * ``pool_maxsize`` / ``pool_block`` pass through (the ``connection_limit``).
    """

    def __init__(
        self, ssl_context: Callable[[], ssl.SSLContext] | None = None, **kwargs: Any
    ) -> None:
        # A factory, called at the first HTTPS request: a client that only ever
        # talks plain HTTP never loads a trust store.
        self._edgee_context = ssl_context
        super().__init__(**kwargs)

    @property
    def edgee_ssl_context(self) -> ssl.SSLContext | None:
        """The one context of this adapter's HTTPS connections (built on first use)."""
        return None if self._edgee_context is None else self._edgee_context()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOL_CLASSES
        return manager

    def build_connection_pool_key_attributes(  # type: ignore[override]
        self, request: Any, verify: Any, cert: Any = None
    ) -> tuple[Any, dict[str, Any]]:
        host_params, kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if self._edgee_context is None or host_params.get("scheme") != "https":
            return host_params, dict(kwargs)
        pool_kwargs: dict[str, Any] = dict(kwargs)
        for key in ("ca_certs", "ca_cert_dir", "cert_reqs"):
            pool_kwargs.pop(key, None)
        pool_kwargs["ssl_context"] = self._edgee_context()
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        if self._edgee_context is None:
            super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]
            return
        # The context decides verification; only a client certificate passes through.
        if cert:
            super().cert_verify(conn, url, False, cert)  # type: ignore[no-untyped-call]
            if url.lower().startswith("https"):
                conn.cert_reqs = self._edgee_context().verify_mode
            conn.ca_certs = conn.ca_cert_dir = None


def set_read_timeout(response: requests.Response, seconds: float, read: float | None) -> None:
    """Bound the next read of ``response``'s body by ``seconds`` (at most ``read``).

    Sets the socket timeout of its connection (``HTTPResponse._connection.sock``);
    urllib3 sets it again when the connection is next used.
    """
    conn = getattr(response.raw, "_connection", None)
    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.settimeout(seconds if read is None else min(seconds, read))


def drop_pools(session: requests.Session) -> None:
    """Forget the pooled connections of ``session`` without a word on their sockets.

    For a forked child: the parent's connections are the parent's. Closing the
    child's copies of their file descriptors sends nothing (the parent still
    holds them), so the parent's connections keep working.
    """
    for adapter in session.adapters.values():
        managers = [getattr(adapter, "poolmanager", None)]
        managers.extend(getattr(adapter, "proxy_manager", {}).values())
        for manager in managers:
            if manager is not None:
                with contextlib.suppress(Exception):
                    manager.clear()


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


_STALE = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
)


def is_stale_failure(exc: BaseException) -> bool:
    """Whether ``exc`` ended a request sent on a reused connection before any answer byte.

    The keep-alive race: the server closed an idle pooled connection as this
    thread reused it (``RemoteDisconnected``: the connection closed before a
    status line; a reset or a broken pipe while sending).
    """
    if not getattr(_local, "reused", False):
        return False
    return any(isinstance(c, _STALE) for c in causes(exc))


def is_pool_timeout(exc: BaseException) -> bool:
    """No pooled connection became free within ``Timeout.pool``."""
    return any(isinstance(c, urllib3.exceptions.EmptyPoolError) for c in causes(exc))


def is_timeout(exc: BaseException) -> bool:
    """requests reports a read timeout in the body as a ConnectionError around urllib3's."""
    chain = list(causes(exc))
    # urllib3's NewConnectionError (refused, DNS) subclasses its ConnectTimeoutError.
    if any(isinstance(c, urllib3.exceptions.NewConnectionError) for c in chain):
        return False
    return any(
        isinstance(c, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError))
        for c in chain
    )


def chunked_body_reader(response: requests.Response) -> Callable[[int], bytes] | None:
    """``read1`` of the socket file under a chunked body nobody has read yet, else None.

    The sync stream reads such a body there and undoes the framing itself
    (``edgee._chunked``): one call per socket read instead of urllib3's and
    ``http.client``'s layers per HTTP chunk. The bytes are what
    ``raw.read1`` would give (transfer-decoded, content-coded: requests asks
    urllib3 for ``decode_content=False``). The socket keeps the read timeout
    urllib3 set, so an idle read raises ``TimeoutError``.

    None (use the generic path) unless urllib3's ``HTTPResponse._fp`` is an
    ``http.client.HTTPResponse`` whose ``chunked`` is set, whose
    ``chunk_left`` is still None (no body byte read) and whose ``fp`` (the
    socket's ``BufferedReader``) is open.
    """
    fp = getattr(response.raw, "_fp", None)
    if not isinstance(fp, http.client.HTTPResponse):
        return None
    if fp.chunked is not True or fp.chunk_left is not None:
        return None
    sock_file = fp.fp
    read1 = getattr(sock_file, "read1", None)
    if read1 is None or getattr(sock_file, "closed", True):
        return None
    return read1  # type: ignore[no-any-return]


def release_chunked_body(response: requests.Response) -> None:
    """Give the connection of a chunked body read to its end back to urllib3's pool.

    What ``http.client`` does itself after the last chunk (``_close_conn()``:
    drops its socket file, not the socket, and marks the response closed so
    the connection may send again), then urllib3's public ``release_conn()``.
    """
    raw = response.raw
    fp = getattr(raw, "_fp", None)
    close_conn = getattr(fp, "_close_conn", None)
    if close_conn is None:
        response.close()
        return
    close_conn()
    raw.release_conn()
