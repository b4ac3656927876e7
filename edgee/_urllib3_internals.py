"""The one place the SDK touches non-public parts of ``requests`` / ``urllib3``.

Each use is checked by ``tests/clients/test_library_internals.py``, which fails
with a clear message if a new release renames or removes it.
"""

from __future__ import annotations

import contextlib

import requests

__all__ = ["close_pools"]


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
