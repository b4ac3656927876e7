"""Issue 16 item 4: TLS — verify=, one CA environment rule, sessions respected, no retry.

The server presents a certificate for 127.0.0.1 signed by a throwaway CA
(``trustme``); a second, unrelated CA stands for "the wrong bundle".
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest
import requests
import trustme
from rawserver import API_KEY, EDGE_TIMEOUT, RawServer

from edgee import APIConnectionError, AsyncEdgee, Edgee
from edgee._tls import CA_DIR_VARIABLE, CA_FILE_VARIABLES


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def wrong_ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("wrong") / "wrong.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*CA_FILE_VARIABLES, CA_DIR_VARIABLE):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def raw(ca: trustme.CA) -> Iterator[RawServer]:
    """The edge server, over TLS."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with RawServer(tls=context) as server:
        yield server


def test_verify_with_a_ca_bundle(
    raw: RawServer, edge_client: Callable[..., Any], ca_file: str
) -> None:
    assert edge_client(verify=ca_file).send("gpt-4o", "hi").text == "echo:hi"


def test_verify_with_an_ssl_context(
    raw: RawServer, edge_client: Callable[..., Any], ca: trustme.CA
) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    assert edge_client(verify=context).send("gpt-4o", "hi").text == "echo:hi"


def test_verify_false(raw: RawServer, edge_client: Callable[..., Any]) -> None:
    assert edge_client(verify=False).send("gpt-4o", "hi").text == "echo:hi"


@pytest.mark.parametrize("name", CA_FILE_VARIABLES)
def test_ca_file_variables_are_honoured_by_both(
    raw: RawServer,
    edge_client: Callable[..., Any],
    ca_file: str,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    monkeypatch.setenv(name, ca_file)
    assert edge_client().send("gpt-4o", "hi").text == "echo:hi"


def test_explicit_verify_wins_over_the_environment(
    raw: RawServer,
    edge_client: Callable[..., Any],
    ca_file: str,
    wrong_ca_file: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", wrong_ca_file)
    monkeypatch.setenv("SSL_CERT_FILE", wrong_ca_file)
    assert edge_client(verify=ca_file).send("gpt-4o", "hi").text == "echo:hi"


def test_a_sessions_own_settings_are_respected(
    raw: RawServer,
    kind: str,
    loop: asyncio.AbstractEventLoop,
    ca: trustme.CA,
    ca_file: str,
    wrong_ca_file: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", wrong_ca_file)
    monkeypatch.setenv("SSL_CERT_FILE", wrong_ca_file)
    if kind == "sync":
        session = requests.Session()
        session.verify = ca_file
        with Edgee(
            api_key=API_KEY, base_url=raw.url, session=session, max_retries=0, timeout=EDGE_TIMEOUT
        ) as client:
            assert client.send("gpt-4o", "hi").text == "echo:hi"
        session.close()
        return

    async def run() -> str:
        context = ssl.create_default_context()
        ca.configure_trust(context)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
            client = AsyncEdgee(
                api_key=API_KEY,
                base_url=raw.url,
                session=session,
                max_retries=0,
                timeout=EDGE_TIMEOUT,
            )
            answer = await client.send("gpt-4o", "hi")
            await client.close()
            return str(answer.text)

    assert loop.run_until_complete(run()) == "echo:hi"


def test_certificate_failure_is_not_retried_and_says_what_to_do(
    raw: RawServer, edge_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("edgee._retry.INITIAL_DELAY", 0.001)
    with pytest.raises(APIConnectionError) as info:
        edge_client(max_retries=2).send("gpt-4o", "hi")
    # The server sees the client's alert a moment after the client gave up.
    deadline = time.monotonic() + 3
    while raw.handshake_failures < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # a retry, if any, would have come by now
    assert raw.handshake_failures == 1  # one attempt, no retries
    message = str(info.value)
    assert "verify=" in message and "SSL_CERT_FILE" in message
    assert not raw.requests
