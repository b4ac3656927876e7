"""What a request carries on its way out, now that the sync client skips ``Session.request``.

On a session it made itself, ``Edgee`` hands each request to the session's
adapter (``edgee/_requests_send.py``) with what ``Session.request`` would
have given it, minus the per-call environment walk. These tests pin, on
both clients where they agree: the environment's proxy (looked up once per
origin) and ``NO_PROXY``, that ``~/.netrc`` never replaces the API key, and
that nothing cached per client leaks from one request or ``with_options()``
copy into another; on the sync client, that the session's cookie jar still
works as ``Session.send`` made it, and that a caller's own session keeps its
settings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from rawserver import (
    API_KEY,
    EDGE_TIMEOUT,
    Conn,
    RawServer,
    Request,
    completion_body,
    keep_alive,
)
from rawserver import response as http_response

from edgee import APITimeoutError, Edgee, Timeout

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def _names(request: Request) -> list[str]:
    return [name.lower() for name, _ in request.headers]


def test_the_env_proxy_is_used_and_looked_up_once_per_origin(
    raw: RawServer, edge_client: Callable[..., Any], clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("HTTP_PROXY", raw.url)
    client = edge_client(base_url="http://gateway.invalid")
    assert client.send("gpt-4o", "hi").text == "echo:hi"
    # A proxy gets the absolute URL in the request line.
    assert raw.requests[-1].target == "http://gateway.invalid/v1/chat/completions"
    # Read once per origin: a later change of the variable does not move this origin...
    clean_env.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    assert client.models() is not None
    assert raw.requests[-1].target == "http://gateway.invalid/v1/models"
    # ...and a with_options() copy shares the answer, as it shares the connections.
    copy = client.with_options(max_retries=0)
    assert copy.send("gpt-4o", "again").text == "echo:again"
    assert len(raw.requests) == 3


def test_no_proxy_is_honoured(
    raw: RawServer, edge_client: Callable[..., Any], clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    clean_env.setenv("NO_PROXY", "127.0.0.1")
    assert edge_client().send("gpt-4o", "hi").text == "echo:hi"
    assert raw.requests[-1].target == "/v1/chat/completions"


def test_a_netrc_entry_never_replaces_the_api_key(
    raw: RawServer,
    edge_client: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1\nlogin someone\npassword hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".netrc").write_text(netrc.read_text())
    (tmp_path / ".netrc").chmod(0o600)
    assert edge_client().send("gpt-4o", "hi").text == "echo:hi"
    assert raw.requests[-1].header("authorization") == f"Bearer {API_KEY}"


def test_headers_do_not_leak_between_requests_or_copies(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:
    client = edge_client(default_headers={"X-Base": "1"})
    copy = client.with_options(default_headers={"X-Copy": "2"})
    client.send("gpt-4o", "a", extra_headers={"X-Once": "3"}, session_id="s-1")
    client.send("gpt-4o", "b")
    copy.send("gpt-4o", "c")
    client.send("gpt-4o", "d")
    copy.send("gpt-4o", "e", extra_headers={"X-Base": "override"})
    first, second, third, fourth, fifth = raw.requests[-5:]
    assert (first.header("x-base"), first.header("x-once")) == ("1", "3")
    assert first.header("x-edgee-session-id") == "s-1"
    for later in (second, fourth):
        assert later.header("x-base") == "1"
        assert later.header("x-once") is later.header("x-copy") is None
        assert later.header("x-edgee-session-id") is None
    assert (third.header("x-base"), third.header("x-copy")) == ("1", "2")
    assert (fifth.header("x-base"), fifth.header("x-copy")) == ("override", "2")
    for request in raw.requests[-5:]:
        names = _names(request)
        assert len(names) == len(set(names)), f"a header sent twice: {names}"
        assert request.header("authorization") == f"Bearer {API_KEY}"
        assert (request.header("user-agent") or "").startswith("edgee-python/")
        assert request.header("content-length") == str(len(request.body))


def test_a_new_key_or_base_url_is_used_from_the_next_request(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:
    client = edge_client()
    settable = getattr(client, "_client", client)  # the AsyncEdgee behind the adapter
    client.send("gpt-4o", "a")
    settable.api_key = "sk-another-key-0123"
    client.send("gpt-4o", "b")
    with RawServer() as other:
        settable.base_url = other.url
        client.send("gpt-4o", "c")
        assert [r.text for r in other.requests] == ["c"]
        assert other.requests[0].header("authorization") == "Bearer sk-another-key-0123"
    assert [r.header("authorization") for r in raw.requests] == [
        f"Bearer {API_KEY}",
        "Bearer sk-another-key-0123",
    ]


def test_sync_keeps_cookies_in_its_session_as_requests_did(raw: RawServer) -> None:
    # requests.Session.send kept a response's Set-Cookie and sent it back; the direct
    # path must too. (aiohttp's jar refuses cookies of an IP host like 127.0.0.1 by
    # default, so the async client sends none here: a difference older than this path.)
    def answer(request: Request) -> bytes:
        return http_response(200, completion_body("ok"), "Set-Cookie: route=r1; Path=/")

    raw.default = keep_alive(answer)
    with Edgee(api_key=API_KEY, base_url=raw.url, timeout=EDGE_TIMEOUT, max_retries=0) as client:
        client.send("gpt-4o", "a")
        client.send("gpt-4o", "b")
    first, second = raw.requests
    assert first.header("cookie") is None
    assert second.header("cookie") == "route=r1"


def test_sync_a_callers_session_keeps_its_own_settings(
    raw: RawServer, clean_env: pytest.MonkeyPatch
) -> None:
    session = requests.Session()
    session.headers["X-From-Session"] = "yes"
    session.auth = ("user", "pass")
    with Edgee(
        api_key=API_KEY, base_url=raw.url, session=session, timeout=EDGE_TIMEOUT, max_retries=0
    ) as client:
        assert client.send("gpt-4o", "hi").text == "echo:hi"
    session.close()
    sent = raw.requests[-1]
    assert sent.header("x-from-session") == "yes"
    # Session.request applies the session's auth, as it always did on a caller's session.
    assert (sent.header("authorization") or "").startswith("Basic ")


# The read timeout of a send(): aiohttp's timer is kept per connection and moved by each
# read (edgee/_aiohttp_internals.py) instead of made again per read; it must still bound
# every wait, and only the waits.

_QUICK_READ = Timeout(connect=2.0, read=0.4)


def test_a_silent_server_times_a_send_out(raw: RawServer, edge_client: Callable[..., Any]) -> None:
    def silent(conn: Conn) -> None:
        if conn.read_request() is not None:
            conn.wait_closed()

    raw.script(silent)
    client = edge_client(timeout=_QUICK_READ)
    with pytest.raises(APITimeoutError):
        client.send("gpt-4o", "hi")
    assert client.send("gpt-4o", "again").text == "echo:again"  # a new connection works


def test_a_body_that_stops_coming_times_a_send_out(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:
    body = completion_body("cut")

    def stalls(conn: Conn) -> None:
        if conn.read_request() is not None:
            conn.send(http_response(200, body)[: -len(body) // 2])
            conn.wait_closed()

    raw.script(stalls)
    with pytest.raises(APITimeoutError):
        edge_client(timeout=_QUICK_READ).send("gpt-4o", "hi")


def test_a_dripping_answer_is_read_whole(raw: RawServer, edge_client: Callable[..., Any]) -> None:
    # Eight pieces 0.15 s apart: about 1.2 s in all, three times the read timeout, but
    # never 0.4 s without a byte.
    def drips(conn: Conn) -> None:
        request = conn.read_request()
        if request is None:
            return
        wire = http_response(200, completion_body("slow but steady"))
        step = len(wire) // 8 + 1
        for start in range(0, len(wire), step):
            conn.send(wire[start : start + step])
            time.sleep(0.15)
        conn.wait_closed()

    raw.script(drips)
    assert edge_client(timeout=_QUICK_READ).send("gpt-4o", "hi").text == "slow but steady"


def test_a_shorter_read_timeout_on_a_reused_connection_is_kept(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:
    # The first request leaves its connection's read timer pending far ahead (read=600);
    # the next, on the same connection, must still time out after its own 0.3 s, not
    # at the total deadline that bounds this test.
    def answers_once_then_waits(conn: Conn) -> None:
        request = conn.read_request()
        if request is not None:
            conn.send(http_response(200, completion_body("first")))
            if conn.read_request() is not None:
                conn.wait_closed()

    raw.script(answers_once_then_waits)
    client = edge_client(timeout=Timeout(connect=2.0, read=600.0))
    assert client.send("gpt-4o", "a").text == "first"
    short = client.with_options(timeout=Timeout(connect=2.0, read=0.3, total=10.0))
    with pytest.raises(APITimeoutError) as info:
        short.send("gpt-4o", "b")
    assert "total" not in str(info.value)
    assert raw.accepted == 1  # both requests on the one connection
