"""Properties of the header, key and URL rules of :mod:`edgee._config`, on arbitrary text.

What is accepted is exactly what HTTP allows on both clients' wire; what is
refused raises the documented type, and its message never holds the value.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgee._config import check_headers, resolve_options
from edgee.errors import ConfigurationError

TOKEN = set("!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits)
SECRETISH = st.text(alphabet=string.ascii_letters + string.digits, min_size=16, max_size=24)


def value_ok(value: str) -> bool:
    return all(" " <= c <= "~" or c == "\t" for c in value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12), st.text(max_size=12))
def test_header_accepted_exactly_when_http_allows_it(name: str, value: str) -> None:
    allowed = (
        bool(name)
        and set(name) <= TOKEN
        and name.lower() not in {"content-length", "transfer-encoding", "host", "connection"}
        and value_ok(value)
    )
    if allowed:
        assert check_headers({name: value}, "extra_headers") == {name: value}
    else:
        with pytest.raises(ValueError, match="extra_headers"):
            check_headers({name: value}, "extra_headers")


@settings(max_examples=200, deadline=None)
@given(SECRETISH, st.text(min_size=1, max_size=3).filter(lambda t: not value_ok(t)))
def test_a_refused_value_is_never_quoted(secret: str, bad: str) -> None:
    value = f"Bearer {secret}{bad}{secret}"
    with pytest.raises(ConfigurationError) as info:
        resolve_options(api_key="k", default_headers={"X-Auth": value}, environ={})
    assert secret not in str(info.value)
    assert bad not in str(info.value)  # the message is printable ASCII, bad is not


@settings(max_examples=200, deadline=None)
@given(SECRETISH, st.text(min_size=1, max_size=2))
def test_a_key_is_accepted_exactly_when_visible_ascii(secret: str, extra: str) -> None:
    key = secret[:8] + extra + secret[8:]
    if all("!" <= c <= "~" for c in key):
        assert resolve_options(api_key=key, environ={}).api_key == key
        return
    stripped = key.strip()
    if stripped and all("!" <= c <= "~" for c in stripped):
        return  # only surrounding whitespace: dropped, as from a secrets file
    with pytest.raises(ConfigurationError, match="visible ASCII") as info:
        resolve_options(api_key=key, environ={})
    assert secret[:8] not in str(info.value) and secret[8:] not in str(info.value)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3), SECRETISH)
def test_a_base_url_never_leaks_its_password(noise: str, password: str) -> None:
    url = f"https://user:{password}@edg{noise}ee.io/v1"
    with pytest.raises((ConfigurationError, TypeError)) as info:
        resolve_options(api_key="k", base_url=url, environ={})
    assert password not in str(info.value)
