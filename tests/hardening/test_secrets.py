"""The API key never shows: not in a repr, a str, an exception, a warning, a log record, a dict.

One run per client exercises successes (send, stream, final_response,
with_options, models), every error kind (each HTTP error class, an HTML
error page, errors inside the stream, a malformed chunk, a reset, a stall,
a refused connection, an oversized event, redirects), retries and the
deprecation warning, with a handler on the root logger capturing everything
at DEBUG (``edgee``, ``urllib3``, ``aiohttp``, ``asyncio``). Then every text
the run produced is scanned for the key.
"""

from __future__ import annotations

import json
import logging
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from edgee import EdgeeConfig, Timeout
from edgee.testing import FakeGateway

SECRET = "sk-edgee-SECRET-7f3a9c0d1e2b"
NGINX_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


class Capture(logging.Handler):
    """Keeps every record, formatted with its traceback, plus its raw fields."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.texts: list[str] = []
        self.names: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        self.names.add(record.name.split(".")[0])
        self.texts.append(self.format(record))
        self.texts.append(repr(record.args))
        self.texts.append(repr(vars(record)))


@pytest.fixture
def capture() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    names = ("edgee", "urllib3", "aiohttp", "asyncio")
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in (*names, "")]
    root.addHandler(handler)
    for logger, _level in saved:
        logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for logger, level in saved:
            logger.setLevel(level)


def exception_texts(exc: BaseException) -> list[str]:
    """Everything an exception shows: message, repr, args, attributes, its causes, traceback."""
    texts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    current: BaseException | None = exc
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        texts += [repr(value) for value in vars(current).values()]
        body = getattr(current, "body", None)
        if body is not None:
            texts.append(json.dumps(body, default=repr))
        stack += [current.__cause__, current.__context__]  # type: ignore[list-item]
    return texts


def test_the_key_never_shows(
    kind: str,
    make_client: Callable[..., Any],
    capture: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("edgee._retry.INITIAL_DELAY", 0.001)
    texts: list[str] = []
    with FakeGateway(api_key=SECRET) as gw, FakeGateway(require_auth=False) as other:

        def client(**kwargs: Any) -> Any:
            kwargs.setdefault("api_key", SECRET)
            kwargs.setdefault("base_url", gw.url)
            made = make_client(**kwargs)
            texts.extend([repr(made), str(made)])
            return made

        def expect_error(call: Callable[[], Any]) -> None:
            try:
                result = call()
                if not isinstance(result, (str, type(None))) and hasattr(result, "__next__"):
                    for _chunk in result:
                        pass
            except Exception as exc:
                texts.extend(exception_texts(exc))
            else:
                raise AssertionError("the scripted failure did not fail")

        c = client(max_retries=1)
        cfg = EdgeeConfig(api_key=SECRET, base_url=gw.url)
        texts += [repr(cfg), str(cfg), repr(c.with_options(timeout=3.0, max_retries=2))]

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")

            # Successes, with a retry on the way.
            gw.reply_error(429, "slow down", headers={"retry-after-ms": "1"})
            response = c.send("gpt-4o", "hello")
            texts += [repr(response), str(response), json.dumps(response.to_dict())]
            texts += [repr(dict(response.headers)), repr(response.message)]
            stream = c.stream("gpt-4o", "hello stream", include_usage=True)
            for chunk in stream:
                texts += [repr(chunk), json.dumps(chunk.to_dict())]
            final = stream.final_response()
            texts += [repr(stream), repr(final), json.dumps(final.to_dict())]
            texts.append(repr(c.models()))
            c.send("gpt-4o", {"messages": [{"role": "user", "content": "x"}]}, tags=["t"])
            c.send(
                "gpt-4o",
                {"messages": [{"role": "user", "content": "x"}], "compression_model": "claude"},
            )

            # Every HTTP error class, retried where it may be.
            for status in (400, 401, 403, 404, 409, 422, 429, 500, 503, 418):
                for call in (lambda: c.send("gpt-4o", "x"), lambda: c.stream("gpt-4o", "x")):
                    for _ in range(2 if status in (409, 429) or status >= 500 else 1):
                        gw.reply_error(status, f"fails {status}", headers={"retry-after-ms": "1"})
                    expect_error(call)
                    assert gw.pending_replies == 0
            gw.reply_error(502, body=NGINX_502, headers={"Content-Type": "text/html"})
            gw.reply_error(502, body=NGINX_502, headers={"Content-Type": "text/html"})
            expect_error(lambda: c.send("gpt-4o", "x"))
            expect_error(lambda: client(api_key="wrong-" + SECRET).send("gpt-4o", "x"))

            # Failures inside the stream, and of the connection.
            gw.reply_stream_error(after=1, message="upstream down", code="provider_down")
            expect_error(lambda: c.stream("gpt-4o", "x"))
            gw.reply_stream_error(after=0, message="event error", as_event=True)
            expect_error(lambda: c.stream("gpt-4o", "x"))
            gw.reply_malformed(after=1)
            expect_error(lambda: c.stream("gpt-4o", "x"))
            gw.reply_reset(after=1)
            expect_error(lambda: c.stream("gpt-4o", "x"))
            gw.reply_reset(after=-1)
            gw.reply_reset(after=-1)
            expect_error(lambda: c.send("gpt-4o", "x"))
            gw.reply_stall(5.0, after=1)
            expect_error(lambda: c.stream("gpt-4o", "x", timeout=Timeout(connect=1, read=0.2)))
            gw.reply_raw(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                + b"data: "
                + b"x" * (16 * 1024 * 1024 + 10)
            )
            expect_error(lambda: c.stream("gpt-4o", "x"))
            gw.reply_json({"error": {"message": "in a 200", "type": "rate_limit_error"}})
            expect_error(lambda: c.stream("gpt-4o", "x"))
            with FakeGateway() as gone:
                url = gone.url
            expect_error(lambda: client(base_url=url, max_retries=1).send("gpt-4o", "x"))

            # Redirects: same origin keeps the key, another origin never gets it.
            gw.reply_raw(
                b"HTTP/1.1 307 X\r\nLocation: /v1/chat/completions\r\nContent-Length: 0\r\n\r\n",
                close=False,
            )
            c.send("gpt-4o", "same origin")
            location = f"{other.url}/v1/chat/completions".encode()
            gw.reply_raw(
                b"HTTP/1.1 308 X\r\nLocation: " + location + b"\r\nContent-Length: 0\r\n\r\n",
                close=False,
            )
            c.send("gpt-4o", "other origin")
            loop_back = b"HTTP/1.1 302 X\r\nLocation: /v1/chat/completions\r\n"
            for _ in range(11):
                gw.reply_raw(loop_back + b"Content-Length: 0\r\n\r\n", close=False)
            expect_error(lambda: c.send("gpt-4o", "x"))
        texts += [str(w.message) for w in caught]
        texts += [repr(w.message) for w in caught]
        assert len(other.requests) == 1  # the redirected request, without the key
        texts += [str(r.headers.raw) for r in other.requests]
        assert any(w.category is DeprecationWarning for w in caught)

    texts += capture.texts
    # The scan saw something of everything it promises to scan.
    assert {"edgee", "urllib3" if kind == "sync" else "asyncio"} <= capture.names
    assert any("retrying" in t for t in capture.texts)
    assert any("redirected" in t for t in capture.texts)
    assert any("API error 401" in t for t in texts)
    assert any("Request timed out" in t for t in texts)
    leaks = [t for t in texts if SECRET in t]
    assert not leaks, leaks[:3]
