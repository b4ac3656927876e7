"""Client settings: :class:`EdgeeConfig`, :class:`Timeout`, defaults and env resolution.

Every client resolves its arguments once, with :func:`resolve_options`, into
an immutable :class:`ClientOptions`; the transports only read that object.
Precedence, for each setting: keyword argument, then the positional config
(a key string, an :class:`EdgeeConfig` or a dict), then the environment
(``EDGEE_API_KEY``, ``EDGEE_BASE_URL``), then the default. ``None`` and the
empty string mean "not given" at every level.

This module is pure: no I/O beyond reading the environment mapping it is given.
"""

from __future__ import annotations

import math
import numbers
import os
import types
import urllib.parse
from collections.abc import Mapping
from typing import Any

import attrs

from edgee.errors import ConfigurationError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "ClientOptions",
    "EdgeeConfig",
    "Timeout",
    "resolve_options",
]

DEFAULT_BASE_URL = "https://edgee.io"
DEFAULT_MAX_RETRIES = 2

_API_KEY_ENV = "EDGEE_API_KEY"
_BASE_URL_ENV = "EDGEE_BASE_URL"
_CONFIG_KEYS = frozenset({"api_key", "base_url", "timeout", "max_retries", "default_headers"})


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


@attrs.frozen
class Timeout:
    """How long a request may wait, in seconds; ``None`` means no limit.

    ``connect`` bounds establishing the connection. ``read`` is an *idle*
    timeout: it bounds the wait for each piece of the response body, not the
    whole response, so a long but lively stream is never cut while a stalled
    one raises :class:`edgee.APITimeoutError`.
    """

    connect: float | None = attrs.field(default=5.0, converter=_connect_seconds)
    read: float | None = attrs.field(default=600.0, converter=_read_seconds)

    @classmethod
    def coerce(cls, value: float | Timeout | None) -> Timeout:
        """Turn a user's ``timeout`` argument into a :class:`Timeout`.

        A number sets both ``connect`` and ``read``; a :class:`Timeout` is
        returned as is; ``None`` means no limit at all (``Timeout(None, None)``).
        Clients and requests treat an omitted ``timeout=None`` argument as "use
        the default" and never pass it here; pass ``Timeout(None, None)`` to
        them to disable timeouts.
        """
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(connect=None, read=None)
        seconds = _seconds(value, "timeout")
        return cls(connect=seconds, read=seconds)


DEFAULT_TIMEOUT = Timeout()


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


@attrs.define
class EdgeeConfig:
    """Settings for :class:`edgee.Edgee` and :class:`edgee.AsyncEdgee`, as one object.

    Compatible with the official SDK's ``EdgeeConfig(api_key=None, base_url=None)``;
    the other fields take the same values as the clients' keyword arguments.
    Values are checked when a client is built. ``repr()`` masks the key.
    """

    api_key: str | None = attrs.field(default=None, repr=_masked)
    base_url: str | None = None
    timeout: float | Timeout | None = None
    max_retries: int | None = None
    default_headers: Mapping[str, str] | None = attrs.field(default=None, repr=_header_names)


@attrs.frozen
class ClientOptions:
    """The resolved settings a client runs with (private; see :func:`resolve_options`)."""

    api_key: str = attrs.field(repr=False)
    base_url: str
    timeout: Timeout
    max_retries: int
    # A read-only view of a private copy; mappingproxy is not hashable, so the
    # field is left out of the hash (equality still compares it).
    default_headers: Mapping[str, str] = attrs.field(repr=_header_names, hash=False)

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
        the others.
        """
        return attrs.evolve(
            self,
            timeout=self.timeout if timeout is None else Timeout.coerce(timeout),
            max_retries=(
                self.max_retries if max_retries is None else _check_max_retries(max_retries)
            ),
            default_headers=_freeze(
                merge_headers(self.default_headers, check_headers(default_headers))
            ),
        )


def _given(value: Any) -> bool:
    """``None`` and ``""`` both mean "not given", at every level of precedence."""
    return value is not None and value != ""


def _check_max_retries(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"max_retries must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"max_retries must be >= 0, not {value}")
    return value


def check_headers(value: object, field: str = "default_headers") -> dict[str, str]:
    """A copy of a user header mapping, checked; errors name ``field`` but never quote values."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{field} must be a mapping of str to str, not {type(value).__name__}")
    checked: dict[str, str] = {}
    for name, header_value in value.items():
        if not isinstance(name, str) or not isinstance(header_value, str):
            raise TypeError(f"{field}[{name!r}] must be a str header name and value")
        # CR/LF would let a value inject headers; say so here rather than in
        # an HTTP library's error, which would quote the value.
        if any(c in name or c in header_value for c in "\r\n\0"):
            raise ValueError(f"{field}[{name!r}] contains a line break or NUL")
        checked[name] = header_value
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
    # The key goes into a header; an HTTP library rejecting it would quote it
    # in its error message, so reject control characters here, without the key.
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        raise ConfigurationError(f"{source} contains control characters")
    return key


def _check_base_url(value: object, source: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{source} must be a str, not {type(value).__name__}")
    url = value.strip().rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{source} must start with http:// or https:// and name a host: {value!r}")
    # Paths are appended to the base URL; a query or fragment would swallow them.
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ValueError(f"{source} must not have a query or fragment: {value!r}")
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
        for key in config:
            if key not in _CONFIG_KEYS:
                raise TypeError(
                    f"unknown config key {key!r}; expected some of {sorted(_CONFIG_KEYS)}"
                )
        return dict(config)
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
    environ: Mapping[str, str] | None = None,
) -> ClientOptions:
    """Resolve a client's constructor arguments into :class:`ClientOptions`.

    ``config`` is the official SDK's positional argument: an API key, an
    :class:`EdgeeConfig`, or a dict with the same keys (an unknown key is a
    :class:`TypeError`). Keyword arguments override it; ``default_headers``
    from both are merged, the keyword ones winning. The key falls back to
    ``EDGEE_API_KEY`` and the URL to ``EDGEE_BASE_URL`` (read from
    ``environ``, by default :data:`os.environ`) and then to
    :data:`DEFAULT_BASE_URL`. Without a key anywhere, raises
    :class:`~edgee.errors.ConfigurationError` (``EDGEE_API_KEY is not set``).
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

    return ClientOptions(
        api_key=key,
        base_url=url,
        timeout=DEFAULT_TIMEOUT if timeout_value is None else Timeout.coerce(timeout_value),
        max_retries=(
            DEFAULT_MAX_RETRIES if retries_value is None else _check_max_retries(retries_value)
        ),
        default_headers=_freeze(
            merge_headers(check_headers(cfg.get("default_headers")), check_headers(default_headers))
        ),
    )
