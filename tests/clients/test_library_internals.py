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
from typing import Any

import aiohttp
import aiohttp.base_protocol
import aiohttp.client_proto
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


def test_aiohttp_connector_keeps_the_hooks_edgee_connector_wraps() -> None:
    # EdgeeConnector learns "reused" from TCPConnector._get and "waited for a free
    # connection" from _wait_for_available_connection (keep-alive resend, pool timeout).
    assert callable(getattr(aiohttp.TCPConnector, "_get", None)), (
        "aiohttp TCPConnector._get is gone: update _aiohttp_internals.EdgeeConnector"
    )
    assert inspect.iscoroutinefunction(aiohttp.TCPConnector._get), (
        "aiohttp TCPConnector._get is no longer a coroutine: update EdgeeConnector._get"
    )
    assert callable(getattr(aiohttp.TCPConnector, "_wait_for_available_connection", None)), (
        "TCPConnector._wait_for_available_connection is gone: update EdgeeConnector"
    )


def test_urllib3_keeps_what_the_edgee_adapter_uses() -> None:
    import http.client

    import urllib3.connectionpool

    # _InterimSkippingResponse overrides http.client's _read_status; urllib3's
    # connections build responses with response_class; its pools get connections
    # through _get_conn(timeout) and are made per scheme from pool_classes_by_scheme.
    assert callable(getattr(http.client.HTTPResponse, "_read_status", None))
    assert "response_class" in dir(urllib3.connection.HTTPConnection)
    assert (
        "timeout"
        in inspect.signature(urllib3.connectionpool.HTTPConnectionPool._get_conn).parameters
    )
    manager = urllib3.poolmanager.PoolManager()
    assert isinstance(getattr(manager, "pool_classes_by_scheme", None), dict)


_CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}


def _auth(gw: FakeGateway) -> dict[str, str]:
    return {"Authorization": f"Bearer {gw.api_key}"}


def _chunked_reply(gw: FakeGateway, body: bytes = b"data: x\n\n", drip: float = 0.0) -> None:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    gw.reply_raw(
        head + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n", close=False, drip=drip
    )


def test_chunked_body_reader_is_the_socket_file_under_http_client() -> None:
    with FakeGateway() as gw:
        _chunked_reply(gw)
        session = requests.Session()
        response = session.post(
            gw.url + "/v1/chat/completions", json=_CHAT, stream=True, headers=_auth(gw)
        )
        read1 = _urllib3_internals.chunked_body_reader(response)
        assert read1 is not None, (
            "urllib3 HTTPResponse._fp / http.client's .chunked, .chunk_left or .fp changed: "
            "update _urllib3_internals.chunked_body_reader"
        )
        wire = b""
        while not wire.endswith(b"0\r\n\r\n"):
            wire += read1(65536)
        assert wire == b"9\r\ndata: x\n\n\r\n0\r\n\r\n"  # the framing itself: below http.client
        assert callable(getattr(response.raw._fp, "_close_conn", None)), (
            "http.client.HTTPResponse._close_conn is gone: update release_chunked_body"
        )
        _urllib3_internals.release_chunked_body(response)
        assert session.get(gw.url + "/v1/models", headers=_auth(gw)).status_code == 200
        assert gw.connections_opened == 1, "release_chunked_body no longer returns the connection"


def test_chunked_body_reader_refuses_what_it_cannot_read() -> None:
    with FakeGateway() as gw:
        session = requests.Session()
        # Content-Length body.
        gw.reply_raw(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", close=False)
        response = session.post(
            gw.url + "/v1/chat/completions", json=_CHAT, stream=True, headers=_auth(gw)
        )
        assert _urllib3_internals.chunked_body_reader(response) is None
        response.close()
        # Close-delimited body.
        gw.reply_raw(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc")
        response = session.post(
            gw.url + "/v1/chat/completions", json=_CHAT, stream=True, headers=_auth(gw)
        )
        assert _urllib3_internals.chunked_body_reader(response) is None
        response.close()
        # A chunked body someone began reading through urllib3.
        _chunked_reply(gw)
        response = session.post(
            gw.url + "/v1/chat/completions", json=_CHAT, stream=True, headers=_auth(gw)
        )
        assert response.raw.read1(2)
        assert _urllib3_internals.chunked_body_reader(response) is None
        response.close()


def test_aiohttp_response_handler_read_timeout_can_be_taken_over() -> None:
    async def run() -> tuple[float | None, object]:
        with FakeGateway() as gw:
            _chunked_reply(gw, drip=0.002)  # the body still coming: the connection is held
            timeout = aiohttp.ClientTimeout(total=None, sock_read=7.5)
            session = aiohttp.ClientSession(timeout=timeout)
            url = gw.url + "/v1/chat/completions"
            request = session.post(url, json=_CHAT, headers=_auth(gw))
            async with session, request as response:
                protocol = response.connection.protocol  # type: ignore[union-attr]
                assert getattr(protocol, "read_timeout", None) == 7.5, (
                    "aiohttp's ResponseHandler.read_timeout is gone: update take_read_timeout"
                )
                taken = _aiohttp_internals.take_read_timeout(response)
                left = protocol.read_timeout  # type: ignore[union-attr]
                assert await response.read() == b"data: x\n\n"
                return taken, left

    assert asyncio.run(run()) == (7.5, None)


def test_aiohttp_response_handler_keeps_the_timer_parts_edgee_makes_lazy() -> None:
    # _aiohttp_internals._ResponseHandler overrides these to keep one read timer per
    # connection; EdgeeConnector installs it through BaseConnector._factory.
    handler = aiohttp.client_proto.ResponseHandler
    for name in ("_reschedule_timeout", "_drop_timeout", "_on_read_timeout", "start_timeout"):
        assert callable(getattr(handler, name, None)), (
            f"aiohttp ResponseHandler.{name} is gone: update _aiohttp_internals._ResponseHandler"
        )

    async def made() -> Any:
        connector = _aiohttp_internals.EdgeeConnector()
        try:
            factory = getattr(aiohttp.TCPConnector(), "_factory", None)
            assert callable(factory), "BaseConnector._factory is gone: update EdgeeConnector"
            protocol = connector._factory()
            for attribute in ("_read_timeout", "_read_timeout_handle", "_loop"):
                assert hasattr(protocol, attribute), (
                    f"ResponseHandler.{attribute} is gone: update _aiohttp_internals"
                )
            return protocol
        finally:
            await connector.close()

    assert isinstance(asyncio.run(made()), _aiohttp_internals._ResponseHandler)


def test_a_pooled_connection_keeps_one_read_timer_across_requests() -> None:
    # aiohttp made two timers per request (one when the request is sent, one per read);
    # the lazy handler makes one while the connection is reused.
    async def run() -> int:
        loop = asyncio.get_running_loop()
        timers: list[object] = []
        call_at = loop.call_at

        def counting(when: float, callback: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(
                getattr(callback, "__self__", None), aiohttp.client_proto.ResponseHandler
            ):
                timers.append(callback)
            return call_at(when, callback, *args, **kwargs)

        loop.call_at = counting  # type: ignore[method-assign]
        with FakeGateway() as gw:
            connector = _aiohttp_internals.EdgeeConnector()
            timeout = aiohttp.ClientTimeout(total=None, sock_read=30)
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
                for _ in range(5):
                    url = gw.url + "/v1/chat/completions"
                    async with session.post(url, json=_CHAT, headers=_auth(gw)) as response:
                        assert (await response.read()).startswith(b"{")
                        assert response.status == 200
        return len(timers)

    assert asyncio.run(run()) == 1
