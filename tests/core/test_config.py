"""Tests of :mod:`edgee._config`: construction forms, precedence, env, validation, secrecy.

Every test passes its own ``environ`` so the machine's environment never leaks in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs
import pytest

import edgee
from edgee._config import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECTION_LIMIT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientOptions,
    EdgeeConfig,
    Timeout,
    resolve_options,
)
from edgee.errors import ConfigurationError, EdgeeError, EdgeeWarning

KEY = "sk-edgee-very-secret-0123456789"
NO_ENV: dict[str, str] = {}


def resolve(
    config: Any = None, *, environ: Mapping[str, str] = NO_ENV, **kwargs: Any
) -> ClientOptions:
    return resolve_options(config, environ=environ, **kwargs)


# --- defaults -----------------------------------------------------------------


def test_defaults() -> None:
    opts = resolve(api_key=KEY)
    assert opts.api_key == KEY
    assert opts.base_url == DEFAULT_BASE_URL == "https://edgee.io"
    assert opts.timeout == DEFAULT_TIMEOUT == Timeout(connect=5.0, read=600.0)
    assert opts.max_retries == DEFAULT_MAX_RETRIES == 2
    assert dict(opts.default_headers) == {}


def test_public_names_are_reexported() -> None:
    assert edgee.EdgeeConfig is EdgeeConfig
    assert edgee.Timeout is Timeout


# --- construction forms -------------------------------------------------------


def test_key_string_as_config() -> None:
    assert resolve(KEY).api_key == KEY


def test_edgee_config_object() -> None:
    cfg = EdgeeConfig(
        api_key=KEY,
        base_url="http://localhost:8080/",
        timeout=12,
        max_retries=5,
        default_headers={"X-Team": "a"},
    )
    opts = resolve(cfg)
    assert opts.api_key == KEY
    assert opts.base_url == "http://localhost:8080"
    assert opts.timeout == Timeout(12.0, 12.0)
    assert opts.max_retries == 5
    assert dict(opts.default_headers) == {"X-Team": "a"}


def test_edgee_config_positional_order_matches_official_sdk() -> None:
    cfg = EdgeeConfig(KEY, "https://example.test")
    assert cfg.api_key == KEY
    assert cfg.base_url == "https://example.test"
    assert EdgeeConfig() == EdgeeConfig(api_key=None, base_url=None)


def test_dict_config() -> None:
    opts = resolve({"api_key": KEY, "base_url": "https://x.test", "max_retries": 0})
    assert (opts.api_key, opts.base_url, opts.max_retries) == (KEY, "https://x.test", 0)


def test_empty_dict_and_none_config_use_environment() -> None:
    env = {"EDGEE_API_KEY": KEY}
    assert resolve({}, environ=env).api_key == KEY
    assert resolve(None, environ=env).api_key == KEY


def test_unknown_dict_key_is_a_warning_naming_it() -> None:
    # The official SDK ignored unknown keys; this one says so, at the caller's line.
    with pytest.warns(EdgeeWarning, match="'apikey'") as record:
        opts = resolve({"apikey": "typo", "api_key": KEY})
    assert opts.api_key == KEY
    assert len(record) == 1
    assert record[0].filename == __file__
    assert "typo" not in str(record[0].message)


@pytest.mark.parametrize("config", [42, 1.5, [KEY], b"key", object()])
def test_bad_config_type(config: object) -> None:
    with pytest.raises(TypeError, match="config"):
        resolve(config)


# --- precedence ---------------------------------------------------------------


def test_keyword_overrides_config_object() -> None:
    cfg = EdgeeConfig(api_key="from-config", base_url="https://config.test", max_retries=7)
    opts = resolve(cfg, api_key=KEY, base_url="https://kw.test", max_retries=1, timeout=3)
    assert opts.api_key == KEY
    assert opts.base_url == "https://kw.test"
    assert opts.max_retries == 1
    assert opts.timeout == Timeout(3.0, 3.0)


def test_keyword_overrides_key_string() -> None:
    assert resolve("from-config", api_key=KEY).api_key == KEY


def test_keyword_overrides_dict() -> None:
    opts = resolve({"api_key": "from-dict", "timeout": Timeout(1, 2)}, api_key=KEY, timeout=9)
    assert opts.api_key == KEY
    assert opts.timeout == Timeout(9, 9)


def test_config_overrides_environment() -> None:
    env = {"EDGEE_API_KEY": "from-env", "EDGEE_BASE_URL": "https://env.test"}
    opts = resolve(EdgeeConfig(api_key=KEY, base_url="https://config.test"), environ=env)
    assert opts.api_key == KEY
    assert opts.base_url == "https://config.test"


def test_keyword_overrides_environment() -> None:
    env = {"EDGEE_API_KEY": "from-env", "EDGEE_BASE_URL": "https://env.test"}
    opts = resolve(api_key=KEY, base_url="https://kw.test", environ=env)
    assert (opts.api_key, opts.base_url) == (KEY, "https://kw.test")


def test_environment_used_when_nothing_given() -> None:
    env = {"EDGEE_API_KEY": KEY, "EDGEE_BASE_URL": "https://env.test/"}
    opts = resolve(environ=env)
    assert (opts.api_key, opts.base_url) == (KEY, "https://env.test")


def test_config_with_none_fields_falls_through() -> None:
    env = {"EDGEE_API_KEY": KEY, "EDGEE_BASE_URL": "https://env.test"}
    opts = resolve(EdgeeConfig(), environ=env)
    assert (opts.api_key, opts.base_url) == (KEY, "https://env.test")
    assert opts.timeout == DEFAULT_TIMEOUT
    assert opts.max_retries == DEFAULT_MAX_RETRIES


def test_default_headers_merge_keyword_over_config() -> None:
    cfg = EdgeeConfig(api_key=KEY, default_headers={"X-A": "config", "X-B": "config"})
    opts = resolve(cfg, default_headers={"x-a": "kw", "X-C": "kw"})
    # Header names are case-insensitive: "x-a" replaces "X-A" rather than duplicating it.
    assert dict(opts.default_headers) == {"X-B": "config", "x-a": "kw", "X-C": "kw"}


# --- empty strings count as unset, at every level -------------------------------


def test_empty_keyword_key_falls_back_to_config_then_env() -> None:
    assert resolve(EdgeeConfig(api_key=KEY), api_key="").api_key == KEY
    assert resolve(EdgeeConfig(api_key=""), api_key="", environ={"EDGEE_API_KEY": KEY}).api_key == (
        KEY
    )
    assert resolve("", environ={"EDGEE_API_KEY": KEY}).api_key == KEY


def test_empty_base_url_falls_back() -> None:
    env = {"EDGEE_API_KEY": KEY, "EDGEE_BASE_URL": ""}
    assert resolve(environ=env).base_url == DEFAULT_BASE_URL
    assert resolve(environ=env, base_url="").base_url == DEFAULT_BASE_URL
    env2 = {"EDGEE_API_KEY": KEY, "EDGEE_BASE_URL": "https://env.test"}
    assert resolve(EdgeeConfig(base_url=""), environ=env2, base_url="").base_url == (
        "https://env.test"
    )


def test_surrounding_whitespace_of_key_is_dropped() -> None:
    assert resolve(environ={"EDGEE_API_KEY": f"  {KEY}\n"}).api_key == KEY
    # A blank key is as good as none.
    with pytest.raises(ConfigurationError):
        resolve(environ={"EDGEE_API_KEY": "  \n"})


# --- missing key ----------------------------------------------------------------


@pytest.mark.parametrize(
    "environ",
    [{}, {"EDGEE_API_KEY": ""}, {"EDGEE_BASE_URL": "https://x.test"}],
)
def test_missing_key_raises_configuration_error(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve(environ=environ)
    assert str(info.value) == "EDGEE_API_KEY is not set"
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, EdgeeError)


def test_missing_key_is_catchable_as_value_error() -> None:
    with pytest.raises(ValueError, match=r"^EDGEE_API_KEY is not set$"):
        resolve(EdgeeConfig(), api_key=None)


def test_os_environ_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEE_API_KEY", KEY)
    monkeypatch.setenv("EDGEE_BASE_URL", "https://os-env.test//")
    opts = resolve_options()
    assert (opts.api_key, opts.base_url) == (KEY, "https://os-env.test")
    monkeypatch.delenv("EDGEE_API_KEY")
    with pytest.raises(ConfigurationError):
        resolve_options()


# --- base_url -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://edgee.io", "https://edgee.io"),
        ("https://edgee.io/", "https://edgee.io"),
        ("https://edgee.io///", "https://edgee.io"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://proxy.test/edgee/", "https://proxy.test/edgee"),
        ("HTTPS://Edgee.io", "HTTPS://Edgee.io"),
    ],
)
def test_base_url_normalised(given: str, expected: str) -> None:
    assert resolve(api_key=KEY, base_url=given).base_url == expected


@pytest.mark.parametrize(
    "bad",
    ["edgee.io", "ftp://edgee.io", "https://", "//edgee.io", "https://x.test/?a=1", "http://x#f"],
)
def test_bad_base_url_is_value_error_naming_it(bad: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        resolve(api_key=KEY, base_url=bad)


def test_bad_base_url_from_environment_names_the_variable() -> None:
    with pytest.raises(ValueError, match="EDGEE_BASE_URL"):
        resolve(environ={"EDGEE_API_KEY": KEY, "EDGEE_BASE_URL": "edgee.io"})


def test_base_url_must_be_str() -> None:
    with pytest.raises(TypeError, match="base_url"):
        resolve(api_key=KEY, base_url=b"https://edgee.io")


# --- api_key validation ---------------------------------------------------------


def test_api_key_must_be_str() -> None:
    with pytest.raises(TypeError, match="api_key"):
        resolve(api_key=b"bytes-key")
    with pytest.raises(TypeError, match="api_key"):
        resolve({"api_key": 123})


def test_api_key_with_control_characters_rejected_without_echoing_it() -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve(api_key="sk-abc\r\nX-Injected: 1")
    assert "sk-abc" not in str(info.value)
    assert "api_key" in str(info.value)


# --- max_retries ----------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, 10])
def test_max_retries_accepted(value: int) -> None:
    assert resolve(api_key=KEY, max_retries=value).max_retries == value


@pytest.mark.parametrize("value", [True, False, 1.0, "2", -1, [2]])
def test_max_retries_invalid_is_one_error_type(value: object) -> None:
    # Every bad value, of whatever type, is the same ConfigurationError (a ValueError).
    with pytest.raises(ConfigurationError, match=r"max_retries must be an integer >= 0"):
        resolve(api_key=KEY, max_retries=value)


def test_max_retries_negative() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        resolve(api_key=KEY, max_retries=-1)
    with pytest.raises(ValueError, match="max_retries"):
        resolve(EdgeeConfig(api_key=KEY, max_retries=-3))


# --- default_headers ------------------------------------------------------------


@pytest.mark.parametrize("headers", [[("X-A", "1")], "X-A: 1", {"X-A": 1}, {1: "a"}, {"X-A": None}])
def test_default_headers_must_map_str_to_str(headers: object) -> None:
    with pytest.raises(TypeError, match="default_headers"):
        resolve(api_key=KEY, default_headers=headers)


def test_default_headers_reject_line_breaks() -> None:
    with pytest.raises(ValueError, match="default_headers"):
        resolve(api_key=KEY, default_headers={"X-A": "1\r\nX-B: 2"})


def test_default_headers_are_an_immutable_copy() -> None:
    given = {"X-A": "1"}
    opts = resolve(api_key=KEY, default_headers=given)
    given["X-A"] = "changed"
    assert opts.default_headers["X-A"] == "1"
    with pytest.raises(TypeError):
        opts.default_headers["X-B"] = "2"  # type: ignore[index]


# --- Timeout --------------------------------------------------------------------


def test_timeout_defaults() -> None:
    assert Timeout() == Timeout(connect=5.0, read=600.0)


@pytest.mark.parametrize("value", [30, 30.0, 0.25])
def test_timeout_coerce_number_sets_both(value: float) -> None:
    t = Timeout.coerce(value)
    assert t == Timeout(connect=float(value), read=float(value))
    assert isinstance(t.connect, float)


def test_timeout_coerce_timeout_is_identity() -> None:
    t = Timeout(connect=1, read=None)
    assert Timeout.coerce(t) is t
    assert t.read is None


def test_timeout_coerce_none_means_no_limit() -> None:
    assert Timeout.coerce(None) == Timeout(connect=None, read=None)


@pytest.mark.parametrize("value", [True, False, "30", [1], {"read": 1}])
def test_timeout_coerce_wrong_type(value: object) -> None:
    with pytest.raises(TypeError, match="timeout"):
        Timeout.coerce(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [-1, -0.5, 0, math.nan, math.inf, -math.inf])
def test_timeout_coerce_bad_value(value: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        Timeout.coerce(value)


@pytest.mark.parametrize("field", ["connect", "read"])
@pytest.mark.parametrize("value", [-1, 0, math.nan])
def test_timeout_fields_validated(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"timeout\.{field}"):
        Timeout(**{field: value})


def test_timeout_field_wrong_type_names_field() -> None:
    with pytest.raises(TypeError, match=r"timeout\.read"):
        Timeout(read="10")  # type: ignore[arg-type]


def test_timeout_is_frozen_and_hashable() -> None:
    t = Timeout()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        t.read = 1.0  # type: ignore[misc]
    assert hash(t) == hash(Timeout(5, 600))


def test_timeout_in_resolve_options() -> None:
    assert resolve(api_key=KEY, timeout=Timeout(read=None)).timeout == Timeout(5.0, None)
    with pytest.raises(TypeError, match="timeout"):
        resolve(api_key=KEY, timeout="fast")
    with pytest.raises(ValueError, match="timeout"):
        resolve(api_key=KEY, timeout=-2)


# --- ClientOptions.with_options -------------------------------------------------


def test_with_options_overrides_and_keeps_the_rest() -> None:
    opts = resolve(api_key=KEY, base_url="https://x.test", default_headers={"X-A": "1"})
    copy = opts.with_options(timeout=7, max_retries=0, default_headers={"X-B": "2"})
    assert copy.api_key == KEY
    assert copy.base_url == "https://x.test"
    assert copy.timeout == Timeout(7, 7)
    assert copy.max_retries == 0
    assert dict(copy.default_headers) == {"X-A": "1", "X-B": "2"}
    # The original is untouched.
    assert opts.timeout == DEFAULT_TIMEOUT
    assert opts.max_retries == 2
    assert dict(opts.default_headers) == {"X-A": "1"}


def test_with_options_none_keeps_everything() -> None:
    opts = resolve(api_key=KEY, default_headers={"X-A": "1"})
    assert opts.with_options() == opts
    assert opts.with_options(timeout=None, max_retries=None, default_headers=None) == opts


def test_with_options_header_merge_is_case_insensitive() -> None:
    opts = resolve(api_key=KEY, default_headers={"X-A": "1"})
    assert dict(opts.with_options(default_headers={"x-a": "2"}).default_headers) == {"x-a": "2"}


def test_with_options_validates() -> None:
    opts = resolve(api_key=KEY)
    with pytest.raises(ValueError, match="max_retries"):
        opts.with_options(max_retries=-1)
    with pytest.raises(ConfigurationError, match="max_retries"):
        opts.with_options(max_retries=True)
    with pytest.raises(ValueError, match="timeout"):
        opts.with_options(timeout=0)
    with pytest.raises(TypeError, match="default_headers"):
        opts.with_options(default_headers={"X": 1})  # type: ignore[dict-item]


def test_client_options_frozen_and_hashable() -> None:
    opts = resolve(api_key=KEY, default_headers={"X-A": "1"})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        opts.api_key = "other"  # type: ignore[misc]
    assert hash(opts) == hash(resolve(api_key=KEY, default_headers={"X-A": "1"}))
    assert opts == resolve(api_key=KEY, default_headers={"X-A": "1"})
    assert opts != resolve(api_key=KEY, default_headers={"X-A": "2"})


# --- the key never shows --------------------------------------------------------


def test_edgee_config_repr_masks_key() -> None:
    cfg = EdgeeConfig(api_key=KEY, base_url="https://x.test", default_headers={"X-Auth": KEY})
    for text in (repr(cfg), str(cfg), f"{cfg}", f"{cfg!r}"):
        assert KEY not in text
        assert "https://x.test" in text
    assert "api_key='***'" in repr(cfg)
    assert "X-Auth" in repr(cfg)


def test_edgee_config_repr_without_key() -> None:
    assert "api_key=None" in repr(EdgeeConfig())


def test_client_options_repr_hides_key_and_header_values() -> None:
    opts = resolve(api_key=KEY, default_headers={"X-Proxy-Auth": f"Bearer {KEY}"})
    for text in (repr(opts), str(opts), f"{opts}", repr([opts]), repr({"o": opts})):
        assert KEY not in text
    assert "X-Proxy-Auth" in repr(opts)
    assert "edgee.io" in repr(opts)
    assert KEY not in repr(opts.with_options(max_retries=1))


@pytest.mark.parametrize(
    ("config", "kwargs"),
    [
        (None, {"base_url": "nope"}),
        (None, {"max_retries": -1}),
        (None, {"timeout": -1}),
        (None, {"default_headers": {"X-A": 1}}),
        (None, {"default_headers": {"X-A": KEY + "\u200b"}}),
        (None, {"connection_limit": 0}),
        ({"api_key": KEY + "\u200b"}, {}),
    ],
)
def test_config_errors_never_show_the_key(config: Any, kwargs: dict[str, Any]) -> None:
    if config is None:
        kwargs = {"api_key": KEY, **kwargs}
    with pytest.raises((TypeError, ValueError)) as info:
        resolve(config, **kwargs)
    assert KEY not in str(info.value)


def test_client_options_type() -> None:
    assert isinstance(resolve(api_key=KEY), ClientOptions)


# --- the API key: visible ASCII only ----------------------------------------------

SNEAKY_KEYS = [
    KEY[:10] + "\u200b" + KEY[10:],  # a zero-width space pasted with the key
    KEY + "\u00e9",  # latin-1, but not ASCII
    KEY[:5] + " " + KEY[5:],  # an inner space
    KEY[:5] + "\t" + KEY[5:],
    KEY + "\x7f",
    "sk-abc\r\nX-Injected: 1",
]


@pytest.mark.parametrize("bad", SNEAKY_KEYS, ids=repr)
@pytest.mark.parametrize("where", ["keyword", "config", "dict", "env"])
def test_api_key_outside_visible_ascii_is_refused_without_showing_it(bad: str, where: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        if where == "keyword":
            resolve(api_key=bad)
        elif where == "config":
            resolve(EdgeeConfig(api_key=bad))
        elif where == "dict":
            resolve({"api_key": bad})
        else:
            resolve(environ={"EDGEE_API_KEY": bad})
    text = str(info.value) + repr(info.value) + repr(info.value.args)
    assert "visible ASCII" in text
    assert ("EDGEE_API_KEY" if where == "env" else "api_key") in text
    for piece in (bad, KEY, KEY[:10], KEY[10:], "\u200b", "sk-abc"):
        assert piece not in text
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_api_key_error_points_at_the_bad_character() -> None:
    with pytest.raises(ConfigurationError, match=r"U\+200B at position 10"):
        resolve(api_key=KEY[:10] + "\u200b" + KEY[10:])


def test_every_visible_ascii_character_is_a_valid_key() -> None:
    key = "".join(chr(c) for c in range(0x21, 0x7F))
    assert resolve(api_key=key).api_key == key


# --- header names and values ---------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["", "X:A", "X A", "X\tA", "X-\u00e9", "X\r\nY", "(x)", "X/Y", "X@Y", "X-\u200b"],
    ids=repr,
)
def test_header_name_must_be_a_token(name: str) -> None:
    with pytest.raises(ConfigurationError, match="default_headers") as info:
        resolve(api_key=KEY, default_headers={name: "v"})
    assert "\u200b" not in str(info.value) and "\r" not in str(info.value)


def test_every_token_character_is_a_valid_header_name() -> None:
    name = "!#$%&'*+-.^_`|~09azAZ"
    assert dict(resolve(api_key=KEY, default_headers={name: "v"}).default_headers) == {name: "v"}


@pytest.mark.parametrize(
    "value",
    ["a\r\nX-Evil: 1", "a\nb", "a\rb", "a\0b", "caf\u00e9", "zero\u200bwidth", "\x7f", "\x1b[0m"],
    ids=repr,
)
def test_header_value_must_be_visible_ascii_space_or_tab(value: str) -> None:
    secret = f"Bearer {KEY}{value}"
    with pytest.raises(ConfigurationError, match=r"default_headers\['X-Proxy-Auth'\]") as info:
        resolve(api_key=KEY, default_headers={"X-Proxy-Auth": secret})
    assert KEY not in str(info.value)
    assert value not in str(info.value)


def test_header_values_may_hold_spaces_and_tabs() -> None:
    value = "".join(chr(c) for c in range(0x20, 0x7F)) + "\t"
    assert resolve(api_key=KEY, default_headers={"X-A": value}).default_headers["X-A"] == value


@pytest.mark.parametrize(
    "name", ["Content-Length", "content-length", "Transfer-Encoding", "HOST", "Connection"]
)
def test_framing_headers_are_the_clients_own(name: str) -> None:
    with pytest.raises(ConfigurationError, match="set by the HTTP client itself") as info:
        resolve(api_key=KEY, default_headers={name: "1"})
    assert repr(name) in str(info.value)
    opts = resolve(api_key=KEY)
    with pytest.raises(ConfigurationError, match="default_headers"):
        opts.with_options(default_headers={name: "1"})
    with pytest.raises(ConfigurationError, match="default_headers"):
        resolve(EdgeeConfig(api_key=KEY, default_headers={name: "1"}))


def test_header_names_differing_in_case_keep_the_last() -> None:
    opts = resolve(api_key=KEY, default_headers={"X-A": "1", "x-a": "2"})
    assert dict(opts.default_headers) == {"x-a": "2"}


# --- base_url: no credentials, whitespace or control characters ------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://user:hunter2@edgee.io",
        "https://hunter2@edgee.io",
        "https://user:hunter2@edgee.io:8443/v1",
        "ftp://user:hunter2@edgee.io",
    ],
)
def test_base_url_with_credentials_is_refused_without_showing_them(url: str) -> None:
    with pytest.raises(ConfigurationError, match="credentials") as info:
        resolve(api_key=KEY, base_url=url)
    assert "hunter2" not in str(info.value)
    with pytest.raises(ConfigurationError) as info:
        resolve(environ={"EDGEE_API_KEY": KEY, "EDGEE_BASE_URL": url})
    assert "EDGEE_BASE_URL" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_edgee_config_repr_hides_credentials_in_a_url_not_checked_yet() -> None:
    cfg = EdgeeConfig(api_key=KEY, base_url="https://user:hunter2@edgee.io")
    assert "hunter2" not in repr(cfg)
    assert "hunter2" not in str(cfg)


@pytest.mark.parametrize(
    "url",
    [
        "https://edgee.io\n",
        " https://edgee.io",
        "https://edg ee.io",
        "https://edgee\t.io",
        "https://edgee.io/\x00",
        "https://edgee.io\x7f",
        "https://edgee.io\u200b",
        "https://edgee.io\u00a0",
        "https://edgee.io/\u2028",
    ],
    ids=repr,
)
def test_base_url_with_whitespace_or_control_characters_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="whitespace or a control character"):
        resolve(api_key=KEY, base_url=url)


@pytest.mark.parametrize("url", ["https://edgee.io:99999", "https://edgee.io:port", "http://[::1"])
def test_base_url_with_a_bad_port_or_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        resolve(api_key=KEY, base_url=url)


@pytest.mark.parametrize(
    "url", ["http://[::1]:8080", "https://xn--bcher-kva.example", "https://proxy.test/p@th"]
)
def test_base_url_accepted_forms(url: str) -> None:
    assert resolve(api_key=KEY, base_url=url).base_url == url


# --- setting the key and URL on a built client ----------------------------------------


def test_with_api_key_is_checked_like_construction() -> None:
    opts = resolve(api_key=KEY)
    other = opts.with_api_key("sk-other")
    assert other.api_key == "sk-other"
    assert opts.api_key == KEY
    assert other.with_api_key(f" {KEY}\n").api_key == KEY
    for bad in ("", "  ", None):
        with pytest.raises(ConfigurationError, match="api_key"):
            opts.with_api_key(bad)
    with pytest.raises(ConfigurationError) as info:
        opts.with_api_key(KEY + "\u200b")
    assert KEY not in str(info.value)
    with pytest.raises(TypeError, match="api_key"):
        opts.with_api_key(b"bytes")


def test_with_base_url_is_checked_like_construction() -> None:
    opts = resolve(api_key=KEY)
    assert opts.with_base_url("http://127.0.0.1:9/").base_url == "http://127.0.0.1:9"
    for bad in ("", None, "edgee.io", "https://u:hunter2@x.test", "https://x.test\n"):
        with pytest.raises(ConfigurationError, match="base_url") as info:
            opts.with_base_url(bad)
        assert "hunter2" not in str(info.value)


# --- connection_limit ---------------------------------------------------------------


def test_connection_limit_default_and_forms() -> None:
    assert resolve(api_key=KEY).connection_limit == DEFAULT_CONNECTION_LIMIT == 100
    assert resolve(api_key=KEY, connection_limit=1).connection_limit == 1
    assert resolve(EdgeeConfig(api_key=KEY, connection_limit=7)).connection_limit == 7
    assert resolve({"api_key": KEY, "connection_limit": 8}).connection_limit == 8
    assert resolve({"connection_limit": 8}, api_key=KEY, connection_limit=3).connection_limit == 3


@pytest.mark.parametrize("bad", [0, -1, True, 2.0, "10", [1]])
def test_connection_limit_invalid(bad: object) -> None:
    with pytest.raises(ConfigurationError, match=r"connection_limit must be an integer >= 1"):
        resolve(api_key=KEY, connection_limit=bad)
    with pytest.raises(ConfigurationError, match="connection_limit"):
        resolve(EdgeeConfig(api_key=KEY, connection_limit=bad))  # type: ignore[arg-type]


# --- Timeout.total and Timeout.pool ---------------------------------------------------


def test_timeout_total_and_pool_defaults() -> None:
    t = Timeout()
    assert (t.connect, t.read, t.total, t.pool) == (5.0, 600.0, None, 600.0)
    # pool follows read unless given; total is never set by a number.
    assert Timeout(connect=1, read=2).pool == 2.0
    assert Timeout(read=None).pool is None
    assert Timeout(read=30, pool=1).pool == 1.0
    assert Timeout.coerce(30) == Timeout(connect=30, read=30, total=None, pool=30)
    assert Timeout.coerce(None) == Timeout(None, None, None, None)
    assert Timeout(5, 600) == DEFAULT_TIMEOUT


@pytest.mark.parametrize("field", ["total", "pool"])
@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (math.inf, ValueError),
        ("1", TypeError),
        (True, TypeError),
    ],
)
def test_timeout_total_and_pool_validated(
    field: str, value: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match=rf"timeout\.{field}"):
        Timeout(**{field: value})  # type: ignore[arg-type]


def test_timeout_total_and_pool_reach_client_options() -> None:
    t = Timeout(connect=2, read=30, total=120, pool=4)
    opts = resolve(api_key=KEY, timeout=t)
    assert (opts.timeout.total, opts.timeout.pool) == (120.0, 4.0)
    assert resolve({"api_key": KEY, "timeout": t}).timeout is t
    assert opts.with_options(timeout=Timeout(total=9)).timeout.total == 9.0


# --- warnings point at the caller -----------------------------------------------------


def test_warn_user_skips_edgee_frames() -> None:
    # resolve_options -> _config_fields -> warn_user: three edgee frames, one warning here.
    with pytest.warns(EdgeeWarning) as record:
        resolve_options({"api_key": KEY, "nope": 1}, environ={})
    assert record[0].filename == __file__
