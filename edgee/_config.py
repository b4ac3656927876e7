"""Client settings: :class:`EdgeeConfig`, :class:`Timeout`, defaults and env resolution.

Every client resolves its arguments once, with :func:`resolve_options`, into
an immutable :class:`ClientOptions`; the transports only read that object.
Precedence, for each setting: keyword argument, then the positional config
(a key string, an :class:`EdgeeConfig` or a dict), then the environment
(``EDGEE_API_KEY``, ``EDGEE_BASE_URL``), then the default. ``None`` and the
empty string mean "not given" at every level.

Everything that ends up in a request line or a header is checked here, before
any I/O, with errors that name the setting and never quote a secret: the key
and header values must be visible ASCII (values may hold spaces and tabs),
header names must be HTTP tokens, the headers that frame the request are the
client's own, and a base URL holds no credentials, whitespace or control
characters.

This module is pure: no I/O beyond reading the environment mapping it is given.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
import types
import urllib.parse
import warnings
from collections.abc import Mapping
from typing import Any

import attrs

from edgee.errors import ConfigurationError, EdgeeWarning

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECTION_LIMIT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "RESERVED_HEADERS",
    "ClientOptions",
    "EdgeeConfig",
    "Timeout",
    "check_connection_limit",
    "check_header_value",
    "check_headers",
    "check_max_retries",
    "merge_headers",
    "resolve_options",
    "warn_user",
]

DEFAULT_BASE_URL = "https://edgee.io"
DEFAULT_MAX_RETRIES = 2
# Connections one client keeps open to the gateway at once, on both clients
# (aiohttp's own default). Enough for 100 concurrent streams; a call beyond it
# waits for a free connection, at most ``Timeout.pool`` seconds.
DEFAULT_CONNECTION_LIMIT = 100

_API_KEY_ENV = "EDGEE_API_KEY"
_BASE_URL_ENV = "EDGEE_BASE_URL"
_CONFIG_KEYS = frozenset(
    {"api_key", "base_url", "timeout", "max_retries", "default_headers", "connection_limit"}
)

# The headers that frame the request or the connection: set by the HTTP
# library from the body and the URL. A user value would contradict them (a
# truncated body, a hang, a request to another virtual host).
RESERVED_HEADERS = frozenset({"content-length", "transfer-encoding", "host", "connection"})
# RFC 9110 section 5.6.2: a field name is a token.
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


# --- warnings that point at the caller ----------------------------------------------


def _in_edgee(frame: types.FrameType) -> bool:
    name = frame.f_globals.get("__name__", "")
    return isinstance(name, str) and (name == "edgee" or name.startswith("edgee."))


def warn_user(message: str, category: type[Warning] = EdgeeWarning) -> None:
    """``warnings.warn`` attributed to the first frame outside the edgee package.

    A fixed ``stacklevel`` is right for one call path only: ``send()``,
    ``send(stream=True)``, ``stream()``, the tool runner and the async client
    reach the request builder through different numbers of edgee frames. The
    warning must name the user's line whichever path it took.
    """
    frame: types.FrameType | None = sys._getframe(1)
    level = 2  # the caller of warn_user
    while frame is not None and _in_edgee(frame):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


# --- timeouts ---------------------------------------------------------------------


def _seconds(value: object, name: str) -> float | None:
    """Validate one timeout value: ``None`` (no limit) or a positive, finite number."""
    if value is None:
        return None
    # bool is an int subclass; ``timeout=True`` is a mistake, not one second.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds or None, not {type(value).__name__}")
    seconds = float(value)
    # urllib3 rejects 0 and a NaN or infinite value would never fire or crash
    # the socket layer; ``None`` is the way to say "no limit".
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(
            f"{name} must be a positive, finite number of seconds or None, not {value!r}"
        )
    return seconds


def _connect_seconds(value: float | None) -> float | None:
    return _seconds(value, "timeout.connect")


def _read_seconds(value: float | None) -> float | None:
    return _seconds(value, "timeout.read")


def _total_seconds(value: float | None) -> float | None:
    return _seconds(value, "timeout.total")


def _pool_seconds(value: float | None) -> float | None:
    return _seconds(value, "timeout.pool")


@attrs.frozen
class Timeout:
    """How long a request may wait, in seconds; ``None`` means no limit.

    ``connect`` bounds establishing the connection. ``read`` is an *idle*
    timeout: it bounds the wait for each piece of the response body, not the
    whole response, so a long but lively stream is never cut while a stalled
    one raises :class:`edgee.APITimeoutError`. ``total`` (default ``None``: no
    deadline) bounds a whole call, retries included, or a whole stream from the
    request to its last byte. ``pool`` bounds the wait for a free pooled
    connection when the client's ``connection_limit`` connections are all busy;
    it defaults to ``read``.
    """

    connect: float | None = attrs.field(default=5.0, converter=_connect_seconds)
    read: float | None = attrs.field(default=600.0, converter=_read_seconds)
    total: float | None = attrs.field(default=None, converter=_total_seconds)
    pool: float | None = attrs.field(
        default=attrs.Factory(lambda self: self.read, takes_self=True), converter=_pool_seconds
    )

    @classmethod
    def coerce(cls, value: float | Timeout | None) -> Timeout:
        """Turn a user's ``timeout`` argument into a :class:`Timeout`.

        A number sets ``connect``, ``read`` and ``pool`` (``total`` stays
        unset: a number never cuts a long stream); a :class:`Timeout` is
        returned as is; ``None`` means no limit at all (``Timeout(None,
        None)``). Clients and requests treat an omitted ``timeout=None``
        argument as "use the default" and never pass it here; pass
        ``Timeout(None, None)`` to them to disable timeouts.
        """
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(connect=None, read=None)
        seconds = _seconds(value, "timeout")
        return cls(connect=seconds, read=seconds)


DEFAULT_TIMEOUT = Timeout()


# --- reprs without secrets --------------------------------------------------------------


def _header_names(headers: Mapping[str, str] | None) -> str:
    # Header values may carry credentials (a proxy's token, say): show names only.
    if headers is None:
        return "None"
    if not isinstance(headers, Mapping):  # not validated yet in an EdgeeConfig
        return f"<{type(headers).__name__}>"
    return repr(sorted(str(name) for name in headers))


def _masked(value: str | None) -> str:
    # Say whether a key is set without showing any of it.
    return "None" if value is None else "'***'"


def _url_repr(value: str | None) -> str:
    # A base URL is checked when a client is built; until then it may hold a
    # user:password@ that must not reach a repr.
    if isinstance(value, str) and "@" in value:
        return "'<hidden: holds credentials>'"
    return repr(value)


@attrs.define
class EdgeeConfig:
    """Settings for :class:`edgee.Edgee` and :class:`edgee.AsyncEdgee`, as one object.

    Compatible with the official SDK's ``EdgeeConfig(api_key=None, base_url=None)``;
    the other fields take the same values as the clients' keyword arguments.
    Values are checked when a client is built. ``repr()`` masks the key.
    """

    api_key: str | None = attrs.field(default=None, repr=_masked)
    base_url: str | None = attrs.field(default=None, repr=_url_repr)
    timeout: float | Timeout | None = None
    max_retries: int | None = None
    default_headers: Mapping[str, str] | None = attrs.field(default=None, repr=_header_names)
    connection_limit: int | None = None


@attrs.frozen
class ClientOptions:
    """The resolved settings a client runs with (private; see :func:`resolve_options`).

    Transports read: ``api_key``/``base_url``/``default_headers`` through the
    request builders; ``timeout`` (``connect``, ``read``, ``total``, ``pool``)
    and ``max_retries`` through each ``PreparedRequest``; ``connection_limit``
    (an int >= 1) when they create their connection pool.
    """

    api_key: str = attrs.field(repr=False)
    base_url: str
    timeout: Timeout
    max_retries: int
    # A read-only view of a private copy; mappingproxy is not hashable, so the
    # field is left out of the hash (equality still compares it).
    default_headers: Mapping[str, str] = attrs.field(repr=_header_names, hash=False)
    connection_limit: int = DEFAULT_CONNECTION_LIMIT
    #: What the request builders derive from these settings (``_request``'s base
    #: headers), made once per options object: a copy made by ``with_options()`` or a
    #: setter starts empty. Never compared, hashed or shown.
    derived: dict[Any, Any] = attrs.field(
        factory=dict, init=False, eq=False, hash=False, repr=False
    )

    def with_options(
        self,
        *,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> ClientOptions:
        """A copy with some settings replaced; ``None`` keeps the current value.

        ``default_headers`` are merged over the current ones (a name matches
        whatever its case), so a copy can add one header without repeating
        the others. Invalid values raise :class:`ConfigurationError`.
        """
        return attrs.evolve(
            self,
            timeout=self.timeout if timeout is None else Timeout.coerce(timeout),
            max_retries=(
                self.max_retries
                if max_retries is None
                else check_max_retries(max_retries, ConfigurationError)
            ),
            default_headers=_freeze(
                merge_headers(
                    self.default_headers,
                    check_headers(default_headers, "default_headers", ConfigurationError),
                )
            ),
        )

    def with_api_key(self, value: object) -> ClientOptions:
        """A copy that sends another key (``client.api_key = ...``), checked as at construction."""
        key = _check_api_key(value, "api_key")
        if key is None:
            raise ConfigurationError("api_key must be a non-empty string")
        return attrs.evolve(self, api_key=key)

    def with_base_url(self, value: object) -> ClientOptions:
        """A copy with another gateway URL (``client.base_url = ...``), checked likewise."""
        if not _given(value):
            raise ConfigurationError("base_url must be a non-empty http(s) URL")
        return attrs.evolve(self, base_url=_check_base_url(value, "base_url"))


# --- validation -------------------------------------------------------------------------


def _given(value: Any) -> bool:
    """``None`` and ``""`` both mean "not given", at every level of precedence."""
    return value is not None and value != ""


def _check_count(value: object, name: str, minimum: int, error: type[ValueError]) -> int:
    # One exception type per call site for every bad value (a str, a bool, a
    # float, a number too small), so a caller needs one except clause.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise error(f"{name} must be an integer >= {minimum}, not {value!r}")
    return value


def check_max_retries(value: object, error: type[ValueError] = ValueError) -> int:
    """``max_retries``: an int >= 0. Raises ``error`` (``ConfigurationError`` for a client)."""
    return _check_count(value, "max_retries", 0, error)


def check_connection_limit(value: object, error: type[ValueError] = ConfigurationError) -> int:
    """``connection_limit``: an int >= 1 (connections a client keeps open at once)."""
    return _check_count(value, "connection_limit", 1, error)


def _bad_char(text: str, allowed: Any) -> int | None:
    """The index of the first character of ``text`` outside ``allowed``, else ``None``."""
    for i, c in enumerate(text):
        if not allowed(c):
            return i
    return None


def _visible_ascii(c: str) -> bool:
    return "!" <= c <= "~"


def _value_char(c: str) -> bool:
    # RFC 9110 field-value: visible ASCII plus space and horizontal tab. obs-text
    # (bytes >= 0x80) is refused: the two HTTP libraries encode it differently.
    return " " <= c <= "~" or c == "\t"


def _where(text: str, i: int) -> str:
    # The position and code point of a bad character say what to fix (a pasted
    # zero-width space) without showing the secret around it.
    return f"U+{ord(text[i]):04X} at position {i}"


def _check_header_name(name: str, field: str, error: type[ValueError]) -> None:
    if not name:
        raise error(f"{field} has an empty header name")
    if not _TOKEN_CHARS.issuperset(name):
        raise error(
            f"{field} header name {name!a} is not an HTTP token "
            "(letters, digits and !#$%&'*+-.^_`|~ only)"
        )
    if name.lower() in RESERVED_HEADERS:
        raise error(
            f"{field}[{name!a}] is set by the HTTP client itself "
            "(Content-Length, Transfer-Encoding, Host and Connection cannot be given)"
        )


def check_header_value(value: str, what: str, error: type[ValueError] = ValueError) -> None:
    """Refuse a header value with characters HTTP does not allow; never quote the value."""
    i = _bad_char(value, _value_char)
    if i is not None:
        raise error(
            f"{what} contains a character not allowed in a header value "
            f"({_where(value, i)}; visible ASCII, space and tab only)"
        )


def check_headers(
    value: object, field: str = "default_headers", error: type[ValueError] = ValueError
) -> dict[str, str]:
    """A copy of a user header mapping, checked; errors name ``field`` but never quote values.

    Wrong types raise ``TypeError``; a name that is not an HTTP token, a name
    the client sets itself, or a value outside visible ASCII, space and tab
    raises ``error`` (``ConfigurationError`` for a client's settings,
    ``ValueError`` per request). Two names that differ only in case: the
    last one wins, as it would on the wire.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{field} must be a mapping of str to str, not {type(value).__name__}")
    checked: dict[str, str] = {}
    for name, header_value in value.items():
        if not isinstance(name, str) or not isinstance(header_value, str):
            raise TypeError(f"{field}[{name!a}] must be a str header name and value")
        _check_header_name(name, field, error)
        check_header_value(header_value, f"{field}[{name!a}]", error)
        checked = merge_headers(checked, {name: header_value})
    return checked


def merge_headers(base: Mapping[str, str], override: Mapping[str, str]) -> dict[str, str]:
    """``override`` over ``base``; HTTP header names are case-insensitive."""
    replaced = {name.lower() for name in override}
    merged = {k: v for k, v in base.items() if k.lower() not in replaced}
    merged.update(override)
    return merged


def _freeze(headers: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType(dict(headers))


def _check_api_key(value: object, source: str) -> str | None:
    """A usable key, or ``None`` when this level gives none (empty or blank)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{source} must be a str, not {type(value).__name__}")
    key = value.strip()  # a stray newline from a secrets file is not part of the key
    if not key:
        return None
    # The key goes into a header. An HTTP library refusing it would quote it
    # in its error (or send it UTF-8 encoded): refuse it here, without the key.
    i = _bad_char(key, _visible_ascii)
    if i is not None:
        raise ConfigurationError(
            f"{source} contains a character that is not visible ASCII ({_where(key, i)}); "
            "check for a space or an invisible character pasted with the key"
        )
    return key


def _check_base_url(value: object, source: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{source} must be a str, not {type(value).__name__}")
    # Whitespace and control characters first: each HTTP library handles them
    # its own way (one strips a tab, another fails to connect).
    i = _bad_char(value, lambda c: c.isprintable() and not c.isspace())
    if i is not None:
        raise ConfigurationError(
            f"{source} contains whitespace or a control character ({_where(value, i)})"
        )
    url = value.rstrip("/")
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # an unbalanced "[" of an IPv6 host
        raise ConfigurationError(f"{source} is not a valid URL") from None
    if "@" in parts.netloc:
        # Never quote it: the point is that it holds a password. One client
        # would send Basic auth instead of the key, the other fail.
        raise ConfigurationError(
            f"{source} must not contain credentials (user:password@); "
            "the API key is the only credential the gateway takes"
        )
    shown = ascii(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{source} must start with http:// or https:// and name a host: {shown}"
        )
    # Paths are appended to the base URL; a query or fragment would swallow them.
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ConfigurationError(f"{source} must not have a query or fragment: {shown}")
    try:
        parts.port  # noqa: B018 - urllib parses the port lazily; a bad one raises here
    except ValueError:
        raise ConfigurationError(f"{source} has an invalid port: {shown}") from None
    return url


def _config_fields(config: object) -> dict[str, Any]:
    """The settings given by the positional ``config`` argument, as a dict."""
    if config is None:
        return {}
    if isinstance(config, str):
        return {"api_key": config}
    if isinstance(config, EdgeeConfig):
        return attrs.asdict(config, recurse=False)
    if isinstance(config, Mapping):
        fields = {}
        for key, value in config.items():
            if key in _CONFIG_KEYS:
                fields[key] = value
            else:
                # The official SDK ignored unknown keys; say so instead of failing.
                warn_user(
                    f"unknown config key {key!a} is ignored; "
                    f"expected some of {', '.join(sorted(_CONFIG_KEYS))}"
                )
        return fields
    raise TypeError(
        f"config must be an API key (str), an EdgeeConfig or a dict, not {type(config).__name__}"
    )


def resolve_options(
    config: str | EdgeeConfig | Mapping[str, Any] | None = None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | Timeout | None = None,
    max_retries: int | None = None,
    default_headers: Mapping[str, str] | None = None,
    connection_limit: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClientOptions:
    """Resolve a client's constructor arguments into :class:`ClientOptions`.

    ``config`` is the official SDK's positional argument: an API key, an
    :class:`EdgeeConfig`, or a dict with the same keys (an unknown key is
    ignored with an :class:`~edgee.errors.EdgeeWarning`). Keyword arguments
    override it; ``default_headers`` from both are merged, the keyword ones
    winning. The key falls back to ``EDGEE_API_KEY`` and the URL to
    ``EDGEE_BASE_URL`` (read from ``environ``, by default :data:`os.environ`)
    and then to :data:`DEFAULT_BASE_URL`. Without a key anywhere, raises
    :class:`~edgee.errors.ConfigurationError` (``EDGEE_API_KEY is not set``);
    every invalid value raises ``ConfigurationError`` too (``TypeError`` for a
    value of the wrong type), naming the setting and never quoting the key.
    """
    env = os.environ if environ is None else environ
    cfg = _config_fields(config)

    key = _check_api_key(api_key, "api_key")
    if key is None:
        key = _check_api_key(cfg.get("api_key"), "config api_key")
    if key is None:
        key = _check_api_key(env.get(_API_KEY_ENV), _API_KEY_ENV)
    if key is None:
        raise ConfigurationError(f"{_API_KEY_ENV} is not set")

    if _given(base_url):
        url = _check_base_url(base_url, "base_url")
    elif _given(cfg.get("base_url")):
        url = _check_base_url(cfg["base_url"], "base_url")
    elif _given(env.get(_BASE_URL_ENV)):
        url = _check_base_url(env[_BASE_URL_ENV], _BASE_URL_ENV)
    else:
        url = DEFAULT_BASE_URL

    timeout_value = timeout if timeout is not None else cfg.get("timeout")
    retries_value = max_retries if max_retries is not None else cfg.get("max_retries")
    limit_value = connection_limit if connection_limit is not None else cfg.get("connection_limit")

    return ClientOptions(
        api_key=key,
        base_url=url,
        timeout=DEFAULT_TIMEOUT if timeout_value is None else Timeout.coerce(timeout_value),
        max_retries=(
            DEFAULT_MAX_RETRIES
            if retries_value is None
            else check_max_retries(retries_value, ConfigurationError)
        ),
        default_headers=_freeze(
            merge_headers(
                check_headers(cfg.get("default_headers"), "default_headers", ConfigurationError),
                check_headers(default_headers, "default_headers", ConfigurationError),
            )
        ),
        connection_limit=(
            DEFAULT_CONNECTION_LIMIT if limit_value is None else check_connection_limit(limit_value)
        ),
    )
