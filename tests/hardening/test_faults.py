"""The fault matrix: what each failure of the network or the gateway looks like to a user.

Every row runs against both clients over the loopback gateway and checks:

* the exact exception class (``type(err) is ...``, not a parent) and the shape of
  its message, and whether ``stream()`` itself or the iteration raises it;
* whether it is retried: with ``max_retries=1`` a retried fault is followed by a
  second request that succeeds, a permanent one is not repeated;
* the connection state after: the next request on the same client works, and
  the gateway is left with no more than the one pooled connection.

docs/reliability.md is the table of these rows for users; a test below keeps
the two in step.
"""

from __future__ import annotations

import json
import re
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edgee import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    EventTooLargeError,
    IncompleteStreamError,
    InternalServerError,
    RateLimitError,
    Timeout,
)
from edgee.testing import FakeGateway

MakeClient = Callable[..., Any]
MiB = 1024 * 1024
DOCS = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
FAST = Timeout(connect=2.0, read=0.3)  # for the rows that wait on a silent gateway

NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
COMPLETION = {
    "id": "chatcmpl-whole",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "gpt-4o",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "a whole answer"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4},
}


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait 1 ms instead of 0.5 s: the rows check whether, not how long."""
    monkeypatch.setattr("edgee._retry.INITIAL_DELAY", 0.001)


# --------------------------------------------------------------------------------------
# Raw replies


def head(status: int = 200, content_type: str = "text/event-stream", *extra: str) -> bytes:
    """A status line and headers; the body is close-delimited unless `extra` frames it."""
    lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}", *extra]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in extra):
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%b\r\n" % (len(p), p) for p in pieces)


def event(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def text_chunk(text: str, finish: str | None = None) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "delta": {"content": text}}
    if finish:
        choice["finish_reason"] = finish
    return {"id": "c1", "object": "chat.completion.chunk", "choices": [choice]}


def huge_event(size: int, pulled: list[int]) -> Iterator[bytes]:
    """One event of `size` bytes of text, made as it is sent; counts what was taken."""
    yield head()
    yield b'data: {"choices":[{"index":0,"delta":{"content":"'
    piece = b"x" * (64 * 1024)
    while pulled[0] < size:
        pulled[0] += len(piece)
        yield piece
    yield b'"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'


# --------------------------------------------------------------------------------------
# The matrix


@dataclass(frozen=True)
class Fault:
    """One row: a scripted failure and what the user must see."""

    name: str
    mode: str  # "send" or "stream"
    script: Callable[[FakeGateway], None]
    error: type[Exception] | None  # the exact class raised; None: the call succeeds
    message: str = ""  # a regex that str(error) must match
    where: str = "open"  # stream rows: raised by stream() ("open") or the iteration
    retried: bool = False
    timeout: Timeout | None = None
    check: Callable[[Any], None] | None = None  # for successes: the result


def _expect_fffd(result: Any) -> None:
    assert "\ufffd" in result.text


def _expect_mib(result: Any) -> None:
    assert len(result.text) == MiB


def _expect_whole(result: Any) -> None:
    assert result.text == "a whole answer"
    assert result.id == "chatcmpl-whole" and result.usage.total_tokens == 4


SEND = [
    Fault(
        "reset before headers",
        "send",
        lambda gw: gw.reply_reset(after=-1),
        APIConnectionError,
        r"^Connection error: \w+",
        retried=True,
    ),
    Fault(
        "reset mid-body",
        "send",
        lambda gw: gw.reply_raw(
            head(200, "application/json", "Content-Length: 500") + b'{"id":"x","choices":[',
            reset=True,
        ),
        APIConnectionError,
        r"^Connection error: \w+",
        retried=True,
    ),
    Fault(
        "truncated chunked body",
        "send",
        lambda gw: gw.reply_raw(
            head(200, "application/json", "Transfer-Encoding: chunked")
            + chunked(b'{"id":"x",')
            + b'40\r\n"choices'
        ),
        APIConnectionError,
        r"^Connection error: \w+",
        retried=True,
    ),
    Fault(
        "truncated Content-Length body",
        "send",
        lambda gw: gw.reply_raw(
            head(200, "application/json", "Content-Length: 500") + b'{"id":"x","choices":['
        ),
        APIConnectionError,
        r"^Connection error: \w+",
        retried=True,
    ),
    Fault(
        "stall before headers",
        "send",
        lambda gw: gw.reply_stall(10.0, after=-1),
        APITimeoutError,
        r"^Request timed out",
        retried=True,
        timeout=FAST,
    ),
    Fault(
        "stall mid-body",
        "send",
        lambda gw: gw.reply_raw(
            head(200, "application/json", "Content-Length: 500") + b'{"id":"x"', stall=10.0
        ),
        APITimeoutError,
        r"^Request timed out",
        retried=True,
        timeout=FAST,
    ),
    Fault(
        "invalid UTF-8",
        "send",
        lambda gw: gw.reply_raw(
            head(200, "application/json")
            + json.dumps(COMPLETION).encode().replace(b"a whole", b"a \xff\xfe whole")
        ),
        None,
        check=_expect_fffd,
    ),
    Fault(
        "non-JSON 200 body",
        "send",
        lambda gw: gw.reply_raw(head(200, "text/plain") + b"hello, world"),
        APIResponseValidationError,
        r"^the gateway's response is not JSON: b'hello, world'$",
    ),
    Fault(
        "HTML 502 page",
        "send",
        lambda gw: gw.reply_error(502, body=NGINX_502, headers={"Content-Type": "text/html"}),
        InternalServerError,
        r"^API error 502: 502 Bad Gateway: nginx$",
        retried=True,
    ),
    Fault(
        "HTML 200 page",
        "send",
        lambda gw: gw.reply_raw(head(200, "text/html") + NGINX_502),
        APIResponseValidationError,
        r"^the gateway's response is not JSON: an HTML page \(502 Bad Gateway: nginx\)$",
    ),
    Fault(
        "JSON error object with 200",
        "send",
        lambda gw: gw.reply_json(
            {"error": {"message": "slow down", "type": "rate_limit_error", "code": None}}
        ),
        RateLimitError,
        r"^API error 429: slow down \(an error object sent with HTTP 200\)$",
    ),
]

STREAM = [
    Fault(
        "reset before headers",
        "stream",
        lambda gw: gw.reply_reset(after=-1),
        APIConnectionError,
        r"^Connection error: \w+",
        retried=True,
    ),
    Fault(
        "reset mid-body",
        "stream",
        lambda gw: gw.reply_reset(after=2),
        IncompleteStreamError,
        r"^stream ended before \[DONE\] after 3 chunks \(connection lost: .+\)$",
        where="iterate",
    ),
    Fault(
        "truncated chunked body",
        "stream",
        lambda gw: gw.reply_raw(
            head(200, "text/event-stream", "Transfer-Encoding: chunked")
            + chunked(event(text_chunk("cut")))
            + b"40\r\ndata: {"
        ),
        IncompleteStreamError,
        r"^stream ended before \[DONE\] after 1 chunks \(connection lost: .+\)$",
        where="iterate",
    ),
    Fault(
        "stall before headers",
        "stream",
        lambda gw: gw.reply_stall(10.0, after=-1),
        APITimeoutError,
        r"^Request timed out",
        retried=True,
        timeout=FAST,
    ),
    Fault(
        "stall mid-body",
        "stream",
        lambda gw: gw.reply_stall(10.0, after=1),
        APITimeoutError,
        r"^Request timed out",
        where="iterate",
        timeout=FAST,
    ),
    Fault(
        "1 MiB event",
        "stream",
        lambda gw: gw.reply_raw(huge_event(MiB, [0])),
        None,
        check=_expect_mib,
    ),
    Fault(
        "64 MiB event",
        "stream",
        lambda gw: gw.reply_raw(huge_event(64 * MiB, [0])),
        EventTooLargeError,
        r"^server-sent event larger than 16777216 bytes$",
        where="iterate",
    ),
    Fault(
        "invalid UTF-8",
        "stream",
        lambda gw: gw.reply_raw(
            head() + event(text_chunk("a b", "stop")).replace(b"a b", b"a \xff\xfe b")
        ),
        None,
        check=_expect_fffd,
    ),
    Fault(
        "non-SSE 200 body",
        "stream",
        lambda gw: gw.reply_raw(head(200, "text/plain") + b"hello, world"),
        IncompleteStreamError,
        r"^stream ended before \[DONE\] after 0 chunks$",
        where="iterate",
    ),
    Fault(
        "HTML 502 page",
        "stream",
        lambda gw: gw.reply_error(502, body=NGINX_502, headers={"Content-Type": "text/html"}),
        InternalServerError,
        r"^API error 502: 502 Bad Gateway: nginx$",
        retried=True,
    ),
    Fault(
        "HTML 200 page",
        "stream",
        lambda gw: gw.reply_raw(head(200, "text/html") + NGINX_502),
        APIResponseValidationError,
        r"^the gateway answered a stream request with an HTML page, not an event stream: "
        r"502 Bad Gateway: nginx$",
    ),
    Fault(
        "JSON error object with 200",
        "stream",
        lambda gw: gw.reply_json(
            {"error": {"message": "slow down", "type": "rate_limit_error", "code": None}}
        ),
        RateLimitError,
        r"^API error 429: slow down \(an error object sent with HTTP 200\)$",
    ),
    Fault(
        "whole chat.completion with 200",
        "stream",
        lambda gw: gw.reply_json(COMPLETION),
        None,
        check=_expect_whole,
    ),
]


def _run(client: Any, fault: Fault) -> tuple[Any, BaseException | None, str]:
    """Make the call; return (result, error, where it was raised)."""
    options = {} if fault.timeout is None else {"timeout": fault.timeout}
    if fault.mode == "send":
        try:
            return client.send("gpt-4o", "x", **options), None, "open"
        except Exception as exc:
            return None, exc, "open"
    try:
        stream = client.stream("gpt-4o", "x", **options)
    except Exception as exc:
        return None, exc, "open"
    try:
        chunks = list(stream)
        result = stream.final_response()
        assert chunks, "a successful stream yields at least one chunk"
        return result, None, "iterate"
    except Exception as exc:
        return None, exc, "iterate"
    finally:
        stream.close()


def settles(predicate: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def assert_client_still_works(client: Any, gateway: FakeGateway) -> None:
    assert client.send("gpt-4o", "still alive").text == "still alive"
    assert "".join(client.stream("gpt-4o", "still streaming").text_stream) == "still streaming"
    # Whatever the fault did to its connection, nothing is left open but the pooled one.
    assert settles(lambda: gateway.open_connections <= 1), gateway.open_connections


@pytest.mark.parametrize("fault", SEND + STREAM, ids=lambda f: f"{f.mode}: {f.name}")
def test_fault_matrix(make_client: MakeClient, gateway: FakeGateway, fault: Fault) -> None:
    client = make_client(max_retries=0)
    fault.script(gateway)
    result, error, where = _run(client, fault)
    if fault.error is None:
        assert error is None, repr(error)
        assert fault.check is not None
        fault.check(result)
    else:
        assert type(error) is fault.error, repr(error)
        assert re.search(fault.message, str(error)), str(error)
        if fault.mode == "stream":
            assert where == fault.where
    assert_client_still_works(client, gateway)
    client.close()
    assert settles(lambda: gateway.open_connections == 0), gateway.open_connections

    # The same fault with one retry allowed: retried faults recover, the others repeat.
    retrying = make_client(max_retries=1)
    before = len(gateway.requests)
    fault.script(gateway)
    result, error, where = _run(retrying, fault)
    sent = len(gateway.requests) - before
    if fault.retried:
        assert error is None, repr(error)
        assert sent == 2
    else:
        assert sent == 1
        assert (type(error) if error else None) is fault.error
    assert_client_still_works(retrying, gateway)


@pytest.mark.parametrize("mode", ["send", "stream"])
def test_connection_refused(make_client: MakeClient, mode: str, caplog: Any) -> None:
    with FakeGateway() as gw:
        port = gw.port
    client = make_client(base_url=f"http://127.0.0.1:{port}", api_key="k", max_retries=1)
    with caplog.at_level("INFO", logger="edgee"), pytest.raises(APIConnectionError) as info:
        client.send("gpt-4o", "x") if mode == "send" else client.stream("gpt-4o", "x")
    assert type(info.value) is APIConnectionError
    assert re.search(r"^Connection error: \w+", str(info.value))
    assert sum("retrying" in r.getMessage() for r in caplog.records) == 1  # retried once
    # The gateway comes back on the same port: the same client works again.
    with FakeGateway(api_key="k", port=port) as back:
        assert_client_still_works(client, back)


# --------------------------------------------------------------------------------------
# Slow drip, size limit, error held back


def test_slow_drip_never_times_out(make_client: MakeClient, gateway: FakeGateway) -> None:
    """One byte every 50 ms for ~3 s, read timeout 0.25 s: each byte resets the idle timer."""
    client = make_client(timeout=Timeout(connect=2.0, read=0.25))
    body = b'data:{"choices":[{"index":0,"delta":{"content":"drip"}}]}\n\ndata:[DONE]\n\n'
    gateway.reply_raw(head() + body, drip=0.05)
    started = time.monotonic()
    stream = client.stream("gpt-4o", "x")
    assert "".join(stream.text_stream) == "drip"
    assert time.monotonic() - started > 10 * 0.25  # far longer than the read timeout
    assert_client_still_works(client, gateway)


def test_a_64_mib_event_stops_at_the_limit(make_client: MakeClient, gateway: FakeGateway) -> None:
    """The client stops reading at 16 MiB: it neither takes 64 MiB nor holds them."""
    client = make_client()
    pulled = [0]
    gateway.reply_raw(huge_event(64 * MiB, pulled))
    stream = client.stream("gpt-4o", "x")
    tracemalloc.start()
    try:
        with pytest.raises(EventTooLargeError) as info:
            list(stream)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.limit == 16 * MiB
    # What the gateway could push into the socket buffers before the client hung up.
    assert pulled[0] < 40 * MiB, pulled[0] / MiB
    # The decoder holds the event up to the limit, once; nothing else grows with it.
    assert peak < 24 * MiB, peak / MiB
    assert_client_still_works(client, gateway)


def test_an_oversized_event_after_a_ping_raises_at_once(
    make_client: MakeClient, gateway: FakeGateway
) -> None:
    """The size error is not held back until more bytes come: the gateway then stalls."""
    client = make_client(timeout=Timeout(connect=2.0, read=5.0))
    body = b"event: ping\ndata: {}\n\ndata: " + b"x" * (17 * MiB)
    gateway.reply_raw(head() + body, stall=30.0)
    stream = client.stream("gpt-4o", "x")
    started = time.monotonic()
    with pytest.raises(EventTooLargeError):
        next(stream)
    assert time.monotonic() - started < 4.0


# --------------------------------------------------------------------------------------
# Redirects


def redirect(status: int, location: str) -> bytes:
    return (
        f"HTTP/1.1 {status} Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()
    )


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("mode", ["send", "stream"])
def test_same_origin_redirect_keeps_the_post(
    make_client: MakeClient, gateway: FakeGateway, status: int, mode: str
) -> None:
    client = make_client()
    gateway.reply_raw(redirect(status, "/v1/chat/completions?moved=1"), close=False)
    if mode == "send":
        assert client.send("gpt-4o", "moved along").text == "moved along"
    else:
        assert "".join(client.stream("gpt-4o", "moved along").text_stream) == "moved along"
    first, second = gateway.requests[-2:]
    assert (second.method, second.path) == ("POST", "/v1/chat/completions?moved=1")
    assert second.body == first.body
    assert second.headers["authorization"] == f"Bearer {gateway.api_key}"
    assert_client_still_works(client, gateway)


@pytest.mark.parametrize("status", [302, 307, 308])
@pytest.mark.parametrize("mode", ["send", "stream"])
def test_other_origin_never_receives_the_key(
    make_client: MakeClient, gateway: FakeGateway, status: int, mode: str
) -> None:
    secret = "sk-edgee-redirect-SECRET"
    with FakeGateway(api_key=secret) as first, FakeGateway(require_auth=False) as other:
        client = make_client(api_key=secret, base_url=first.url)
        first.reply_raw(redirect(status, f"{other.url}/v1/chat/completions"), close=False)
        if mode == "send":
            assert client.send("gpt-4o", "elsewhere").text == "elsewhere"
        else:
            assert "".join(client.stream("gpt-4o", "elsewhere").text_stream) == "elsewhere"
        assert first.requests[-1].headers["authorization"] == f"Bearer {secret}"
        (received,) = other.requests
        assert received.method == "POST"
        assert "authorization" not in received.headers
        assert all(secret not in value for _name, value in received.headers.raw)
        # A gateway that wants the key answers 401 to the redirected request.
        with FakeGateway(api_key=secret) as strict:
            first.reply_raw(redirect(status, f"{strict.url}/v1/chat/completions"), close=False)
            with pytest.raises(AuthenticationError):
                client.send("gpt-4o", "x") if mode == "send" else client.stream("gpt-4o", "x")
            assert all("authorization" not in r.headers for r in strict.requests)
        assert_client_still_works(client, first)


@pytest.mark.parametrize("mode", ["send", "stream"])
def test_redirects_that_are_not_followed(
    make_client: MakeClient, gateway: FakeGateway, mode: str
) -> None:
    client = make_client(max_retries=2)

    def call() -> Any:
        return client.send("gpt-4o", "x") if mode == "send" else client.stream("gpt-4o", "x")

    gateway.reply_raw(redirect(303, "/elsewhere"), close=False)
    with pytest.raises(APIStatusError, match=r"^API error 303: redirect not followed") as info:
        call()
    assert type(info.value) is APIStatusError and info.value.status_code == 303

    before = len(gateway.requests)
    for _ in range(11):
        gateway.reply_raw(redirect(307, "/v1/chat/completions"), close=False)
    with pytest.raises(APIStatusError, match=r"more than 10 redirects") as info:
        call()
    assert info.value.status_code == 307
    assert len(gateway.requests) - before == 11  # followed 10 times, not retried

    gateway.reply_raw(redirect(307, "ftp://example.com/x"), close=False)
    with pytest.raises(APIStatusError, match="not an http"):
        call()
    assert_client_still_works(client, gateway)


# --------------------------------------------------------------------------------------
# The documentation lists every row


def test_docs_list_every_fault() -> None:
    text = DOCS.read_text(encoding="utf-8")
    names = {f.name for f in SEND + STREAM} | {
        "connection refused",
        "slow drip",
        "same-origin redirect",
        "other-origin redirect",
        "redirect loop",
        "303 See Other",
    }
    missing = sorted(name for name in names if name.lower() not in text.lower())
    assert not missing, f"docs/reliability.md does not mention {missing}"
