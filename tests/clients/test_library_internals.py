"""The non-public parts of requests/urllib3/aiohttp the SDK relies on, checked.

Each lives in one module (``edgee/_urllib3_internals.py``,
``edgee/_aiohttp_internals.py``). If a new release of the library renames or
removes one, these tests fail and say which, before a user meets the
consequence (sockets left open, chunks lost at a cut).
"""

from __future__ import annotations

import asyncio
import inspect
import time

import aiohttp
import aiohttp.base_protocol
import aiohttp.helpers
import pytest
import requests
import urllib3.exceptions
import urllib3.poolmanager

from edgee import _aiohttp_internals, _urllib3_internals
from edgee.testing import FakeGateway


def test_requests_adapters_keep_their_urllib3_pools_where_close_pools_looks() -> None:
    session = requests.Session()
    adapter = session.adapters["http://"]
    assert isinstance(getattr(adapter, "poolmanager", None), urllib3.poolmanager.PoolManager), (
        "requests.adapters.HTTPAdapter.poolmanager is gone: update _urllib3_internals.close_pools"
    )
    assert isinstance(getattr(adapter, "proxy_manager", None), dict), (
        "HTTPAdapter.proxy_manager is no longer a dict: update _urllib3_internals.close_pools"
    )
    pools = getattr(adapter.poolmanager, "pools", None)
    assert pools is not None and hasattr(pools, "keys"), (
        "urllib3 PoolManager.pools is gone: update _urllib3_internals.close_pools"
    )


def test_close_pools_closes_the_idle_sockets_at_once() -> None:
    with FakeGateway() as gw:
        session = requests.Session()
        assert session.get(gw.url + "/v1/models").status_code in (200, 401)
        assert gw.open_connections == 1
        _urllib3_internals.close_pools(session)
        for _ in range(300):  # the gateway's thread sees the close soon after
            if gw.open_connections == 0:
                break
            time.sleep(0.01)
        assert gw.open_connections == 0, "close_pools no longer closes pooled sockets"


def test_urllib3_still_wraps_connection_failures_as_is_timeout_expects() -> None:
    # NewConnectionError (refused, DNS) must not be read as a timeout although it
    # subclasses ConnectTimeoutError; a ReadTimeoutError must be.
    assert issubclass(urllib3.exceptions.NewConnectionError, urllib3.exceptions.HTTPError)
    refused = urllib3.exceptions.NewConnectionError(None, "refused")  # type: ignore[arg-type]
    assert not _urllib3_internals.is_timeout(requests.ConnectionError(refused))
    read = urllib3.exceptions.ReadTimeoutError(None, "/", "read timed out")  # type: ignore[arg-type]
    assert _urllib3_internals.is_timeout(requests.ConnectionError(read))
    assert _urllib3_internals.is_timeout(requests.ReadTimeout())


def test_aiohttp_stream_reader_still_has_read_nowait() -> None:
    method = getattr(aiohttp.StreamReader, "_read_nowait", None)
    assert method is not None, "aiohttp.StreamReader._read_nowait is gone: update buffered_bytes"
    assert list(inspect.signature(method).parameters) == ["self", "n"], (
        "aiohttp.StreamReader._read_nowait changed its signature: update buffered_bytes"
    )


def test_buffered_bytes_takes_what_a_reader_holds() -> None:
    async def run() -> bytes:
        loop = asyncio.get_running_loop()
        protocol = aiohttp.base_protocol.BaseProtocol(loop)
        reader = aiohttp.StreamReader(protocol, 2**16, loop=loop)
        reader.feed_data(b"data: held\n\n")
        reader.set_exception(aiohttp.ClientPayloadError("cut"))
        return _aiohttp_internals.buffered_bytes(reader)

    assert asyncio.run(run()) == b"data: held\n\n"


def test_aiohttp_still_looks_proxies_up_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert callable(getattr(aiohttp.helpers, "get_env_proxy_for_url", None)), (
        "aiohttp.helpers.get_env_proxy_for_url is gone: update env_proxy_for"
    )
    assert _aiohttp_internals.env_proxy_for("http://no-proxy-set.test/") == (None, None)
