"""The one place the SDK touches non-public parts of ``aiohttp``.

Each use is checked by ``tests/clients/test_library_internals.py``, which fails
with a clear message if a new release renames or removes it.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import aiohttp.helpers
import yarl

__all__ = ["buffered_bytes", "env_proxy_for"]


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
