"""The one place the SDK touches non-public parts of ``requests`` / ``urllib3``.

Each use is checked by ``tests/clients/test_library_internals.py``, which fails
with a clear message if a new release renames or removes it.
"""

from __future__ import annotations

import contextlib
import http.client
from collections.abc import Callable, Iterator

import requests
import urllib3.exceptions

__all__ = ["chunked_body_reader", "close_pools", "is_timeout", "release_chunked_body"]


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
