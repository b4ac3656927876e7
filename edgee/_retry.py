"""The retry policy: should a failed request be retried, and after how long?

Pure decisions, no I/O and no sleeping: the transports call
:func:`retry_delay` after each failure and execute its answer. Keeping the
policy here means the sync and async clients cannot disagree about it.

Decisions, in order:

1. Never retry once ``attempt >= max_retries``.
2. ``x-should-retry: true|false`` (any case) from the server wins over the
   status rules below, either way: the gateway knows better than a status
   table whether the same request can succeed.
3. Otherwise retry connection failures (``status=None``: refused, reset,
   timed out before a response) and statuses 408, 409, 429 and >= 500.
4. A 429 whose body says ``usage_limit_exceeded`` (a spend cap was reached)
   without a parsable ``retry-after-ms``/``Retry-After`` is permanent: retrying
   cannot succeed until someone raises the cap.
5. Wait what the server asked for when it is within (0, 60] seconds; a longer
   wait is not worth blocking the caller for, a zero or past one gives no
   real hint, so both fall back to exponential backoff with jitter:
   ``min(INITIAL_DELAY * 2**attempt, MAX_DELAY)`` shrunk by up to 25%.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from edgee._error_mapping import decode_body, error_fields
from edgee._headers import lower_headers, parse_retry_after

__all__ = [
    "INITIAL_DELAY",
    "MAX_DELAY",
    "MAX_RETRY_AFTER",
    "RETRYABLE_STATUSES",
    "backoff",
    "retry_delay",
]

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
# The longest server-requested wait honoured; longer ones fall back to backoff.
MAX_RETRY_AFTER = 60.0
# Statuses below 500 worth retrying: request timeout, conflict (lock
# contention), rate limited. Every status >= 500 is retried as well.
RETRYABLE_STATUSES = frozenset({408, 409, 429})
# Backoff stops growing long before this; the bound keeps 2**attempt small.
_MAX_EXPONENT = 16
# Jitter shrinks a backoff delay by up to this fraction, never grows it, so
# MAX_DELAY stays a true ceiling while concurrent clients spread out.
_JITTER = 0.25
_USAGE_LIMIT_CODE = "usage_limit_exceeded"


def _should_retry_header(headers: Mapping[str, str]) -> bool | None:
    value = headers.get("x-should-retry")
    if value is None:
        return None
    value = value.strip().lower()
    if value == "true":
        return True
    if value == "false":
        return False
    return None  # anything else is no instruction at all


def _is_usage_limit(body: bytes | None) -> bool:
    if not body:
        return False
    _message, _type, code, _param = error_fields(decode_body(body))
    return code == _USAGE_LIMIT_CODE


def _is_retryable(
    status: int | None, headers: Mapping[str, str], body: bytes | None, server_wait: float | None
) -> bool:
    override = _should_retry_header(headers)
    if override is not None:
        return override
    if status is None:
        return True
    if status == 429 and server_wait is None and _is_usage_limit(body):
        return False
    return status in RETRYABLE_STATUSES or status >= 500


def backoff(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: within ``[0.75, 1] * min(0.5 * 2**attempt, 8)``."""
    base = min(INITIAL_DELAY * 2.0 ** min(max(attempt, 0), _MAX_EXPONENT), MAX_DELAY)
    # Clamp rand() so a misbehaving source (even NaN) cannot push the delay out of bounds.
    r = rand()
    jitter = 1.0 if r > 1.0 else r if r >= 0.0 else 0.0
    return base * (1.0 - _JITTER * jitter)


def retry_delay(
    attempt: int,
    *,
    status: int | None,
    headers: Mapping[str, str] | None,
    body: bytes | None,
    max_retries: int,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before retrying a failed request, or ``None`` to give up.

    ``attempt`` is the number of retries already made (0 after the first
    failure). ``status`` is the HTTP status, or ``None`` for a connection
    error or timeout before any response; ``headers`` and ``body`` are the
    error response's (any header-name case). ``rand`` returns a float in
    [0, 1) and exists so tests can fix the jitter. The result is always in
    ``[0, MAX_RETRY_AFTER]``. See the module docstring for the rules.
    """
    if attempt >= max_retries:
        return None
    lowered = lower_headers(headers) if headers else {}
    server_wait = parse_retry_after(lowered) if lowered else None
    if not _is_retryable(status, lowered, body, server_wait):
        return None
    if server_wait is not None and 0 < server_wait <= MAX_RETRY_AFTER:
        return server_wait
    return backoff(attempt, rand)
