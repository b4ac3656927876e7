"""AsyncEdgee honours HTTP(S)_PROXY and NO_PROXY without aiohttp's per-request trust_env.

The proxy is looked up once per origin (aiohttp's ``trust_env`` would look it up,
and read ~/.netrc, in a worker thread on every request); a session the caller
passes in keeps its own settings.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from edgee._aiohttp_pool import Pool as _Pool


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def test_the_env_proxy_is_used(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    proxy, auth = _Pool(None, 10).proxy_for("http://gateway.test/v1/chat/completions")
    assert str(proxy) == "http://proxy.invalid:3128"
    assert auth is None


def test_no_proxy_and_no_env(clean_env: pytest.MonkeyPatch) -> None:
    assert _Pool(None, 10).proxy_for("http://gateway.test/v1/models") == (None, None)
    clean_env.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    clean_env.setenv("NO_PROXY", "gateway.test")
    assert _Pool(None, 10).proxy_for("http://gateway.test/v1/models") == (None, None)


def test_looked_up_once_per_origin(clean_env: pytest.MonkeyPatch) -> None:
    pool = _Pool(None, 10)
    assert pool.proxy_for("http://gateway.test/v1/chat/completions") == (None, None)
    clean_env.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    # Same origin: the answer found first stands (read once, like the session).
    assert pool.proxy_for("http://gateway.test/v1/models") == (None, None)
    proxy, _ = pool.proxy_for("http://other.test/v1/models")
    assert str(proxy) == "http://proxy.invalid:3128"


def test_a_callers_session_decides_for_itself(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HTTP_PROXY", "http://proxy.invalid:3128")

    async def check() -> None:
        async with aiohttp.ClientSession() as session:
            assert _Pool(session, 10).proxy_for("http://gateway.test/v1/models") == (None, None)

    asyncio.run(check())
