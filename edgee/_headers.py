"""HTTP header values as the SDK reads them, written once for both transports.

Header names are case-insensitive: every mapping the core hands around has
lower-case names (:func:`lower_headers`). Values are decoded as latin-1, as
HTTP says (:func:`decode_raw_headers`), so a byte outside ASCII reads the same
on both clients. ``Retry-After`` is read by :func:`parse_retry_after`.

Pure: no I/O, and no import of the rest of the SDK (``errors`` uses it).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

__all__ = ["decode_raw_headers", "lower_headers", "parse_retry_after"]


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A plain dict of the headers with lower-case names (HTTP names are case-insensitive)."""
    return {k.lower(): v for k, v in headers.items()}


def decode_raw_headers(pairs: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Headers as received (bytes) -> lower-case names, latin-1 values; the last of a name wins.

    latin-1 maps every byte to one character, so no value fails to decode and
    a non-UTF-8 ``x-request-id`` reads the same as ``http.client`` reads it.
    """
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in pairs}


def _seconds(text: str, scale: float, *, fraction_ok: bool = True) -> float | None:
    """``text`` as ASCII digits, with an optional fraction when ``fraction_ok``, times ``scale``.

    float() alone would accept ``"1_0"``, ``"+5"``, ``" 5"``, ``"1e3"``, ``"inf"``
    and other scripts' digits: none of them is an HTTP delay.
    """
    whole, dot, fraction = text.partition(".")
    if not (whole.isascii() and whole.isdigit()):
        return None
    if dot and not (fraction_ok and fraction.isascii() and fraction.isdigit()):
        return None
    value = float(text) * scale
    return value if value < float("inf") else None


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Return the wait in seconds asked for by ``retry-after-ms`` or ``Retry-After``.

    ``retry-after-ms`` is a number of milliseconds (a fraction tolerated),
    ``Retry-After`` one of whole seconds (ASCII digits only) or an HTTP date. Anything
    else gives ``None``: a sign, an underscore, a space, an exponent,
    non-ASCII digits.
    """
    h = lower_headers(headers)
    ms = h.get("retry-after-ms")
    if ms is not None:
        value = _seconds(ms, 0.001)
        if value is not None:
            return value
    ra = h.get("retry-after")
    if ra is None:
        return None
    # RFC 9110 10.2.3: delay-seconds is 1*DIGIT; "5.5" is neither that nor a date.
    value = _seconds(ra, 1.0, fraction_ok=False)
    if value is not None:
        return value
    if not ra.isascii():
        return None
    # Only for an HTTP-date Retry-After: a bare `import edgee` loads this module (for
    # edgee.errors) and should not pay for datetime and email.
    import datetime
    import email.utils

    try:
        parsed = email.utils.parsedate_to_datetime(ra)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:  # pragma: no cover - older Pythons returned None
        return None
    if parsed.tzinfo is None:
        # HTTP dates are always GMT; a naive datetime ("-0000" or no zone)
        # would otherwise be read in the machine's local time zone.
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    value = parsed.timestamp() - (time.time() if now is None else now)
    return max(value, 0.0)
