"""Issue 16 items 5, 6 and 10 (header decoding): header rules and base_url, before any I/O.

Every violation raises ``ConfigurationError`` or ``ValueError`` before a byte
is sent (the server sees no connection), names the header, and never shows
the key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rawserver import API_KEY, RawServer, completion_body, once, response

from edgee import APIStatusError, ConfigurationError, Timeout

# Today a smuggled framing header makes the request hang on the body: fail fast.
QUICK = Timeout(connect=1.0, read=0.5)
ZWSP_KEY = "sk-pasted\u200bkey-0123456789"


def refused(
    raw: RawServer, call: Callable[[], Any], *, names: str | None = None, secret: str = API_KEY
) -> BaseException:
    with pytest.raises((ConfigurationError, ValueError)) as info:
        call()
    err = info.value
    assert raw.accepted == 0, "the bad input reached the network"
    for text in (str(err), repr(err)):
        assert secret not in text
    if names is not None:
        assert names.lower() in str(err).lower()
    return err


def test_api_key_outside_latin1_is_refused_without_showing_it(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:

    def call() -> Any:
        return edge_client(api_key=ZWSP_KEY).send("gpt-4o", "hi")

    refused(raw, call, secret=ZWSP_KEY)


@pytest.mark.parametrize("value", ["caf\u00e9", "a\u200bb", "line\r\nX-Injected: 1", "nul\x00"])
def test_header_values_must_be_visible_ascii(
    raw: RawServer, edge_client: Callable[..., Any], value: str
) -> None:
    client = edge_client()
    refused(
        raw,
        lambda: client.send("gpt-4o", "hi", extra_headers={"X-Custom": value}),
        names="X-Custom",
    )


def test_space_and_tab_are_allowed_in_values(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:
    client = edge_client()
    client.send("gpt-4o", "hi", extra_headers={"X-Custom": "a b\tc"})
    assert raw.requests[0].header("x-custom") == "a b\tc"


@pytest.mark.parametrize("name", ["X-Bad:Name", "", "X Bad", "X-\u00e9", "X-Bad\r\n"])
def test_header_names_must_be_tokens(
    raw: RawServer, edge_client: Callable[..., Any], name: str
) -> None:
    client = edge_client()
    refused(raw, lambda: client.send("gpt-4o", "hi", extra_headers={name: "v"}))


@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding", "Host", "Connection"])
@pytest.mark.parametrize("where", ["default_headers", "extra_headers"])
def test_the_clients_own_headers_are_refused(
    raw: RawServer, edge_client: Callable[..., Any], name: str, where: str
) -> None:
    if where == "default_headers":
        refused(
            raw,
            lambda: edge_client(default_headers={name: "5"}, timeout=QUICK).send("gpt-4o", "hi"),
            names=name,
        )
    else:
        client = edge_client(timeout=QUICK)
        refused(raw, lambda: client.send("gpt-4o", "hi", extra_headers={name: "5"}), names=name)


@pytest.mark.parametrize(
    "make_url",
    [
        lambda url: url.replace("://", "://user:hunter2@"),
        lambda url: url.replace("://", "://:hunter2@"),
    ],
    ids=["user-and-password", "password-only"],
)
def test_base_url_with_credentials_is_refused(
    raw: RawServer, edge_client: Callable[..., Any], make_url: Callable[[str], str]
) -> None:
    with pytest.raises(ConfigurationError) as info:
        edge_client(base_url=make_url(raw.url)).send("gpt-4o", "hi")
    assert "hunter2" not in str(info.value) and "hunter2" not in repr(info.value)
    assert raw.accepted == 0


@pytest.mark.parametrize("bad", ["\t", " ", "\x00", "\n"], ids=["tab", "space", "nul", "newline"])
def test_base_url_with_whitespace_or_controls_is_refused(
    raw: RawServer, edge_client: Callable[..., Any], bad: str
) -> None:
    url = raw.url.replace("127.0.0.1", f"127.0.0.1{bad}")
    with pytest.raises(ConfigurationError):
        edge_client(base_url=url).send("gpt-4o", "hi")
    assert raw.accepted == 0


def test_non_utf8_request_id_decodes_as_latin1_on_both(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:
    error = b'{"error":{"message":"nope","type":"invalid_request_error"}}'
    raw.script(once(response(400, error, "x-request-id: req-\xe9\xff")))
    with pytest.raises(APIStatusError) as info:
        edge_client().send("gpt-4o", "hi")
    assert info.value.request_id == "req-\u00e9\u00ff"


def test_latin1_header_value_on_a_success_is_the_same_on_both(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:
    raw.script(once(response(200, completion_body(), "x-request-id: r\xe9q")))
    assert edge_client().send("gpt-4o", "hi").request_id == "r\u00e9q"
