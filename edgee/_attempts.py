"""The life of one logical request: its attempts, redirects and retry verdicts.

Both transports run the same loop — send, then ask :class:`Attempts` what the
outcome means — so retries, redirects, error mapping and their log lines are
decided once, here, and only the sending and the sleeping differ.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from edgee._logging import logger
from edgee._request import PreparedRequest
from edgee._response import follow_redirect
from edgee._retry import retry_delay
from edgee.errors import APIConnectionError, error_from_response

__all__ = ["Attempts"]


class Attempts:
    """Tracks one request through its attempts; ``request`` is what to send next."""

    __slots__ = ("_started", "attempt", "redirects", "request")

    def __init__(self, request: PreparedRequest) -> None:
        self.request = request
        self.attempt = 0  # retries made so far
        self.redirects = 0
        self._started = 0.0

    def start(self) -> PreparedRequest:
        """An attempt begins; returns the request to send."""
        self._started = time.monotonic()
        return self.request

    def answered(self, status: int) -> None:
        """A response arrived (any status)."""
        request = self.request
        logger.debug(
            "%s %s -> %d in %.1f ms (attempt %d)",
            request.method,
            request.url,
            status,
            (time.monotonic() - self._started) * 1000,
            self.attempt + 1,
        )

    def redirected(self, status: int, headers: Mapping[str, str]) -> None:
        """A 3xx arrived: follow it (or raise, as ``follow_redirect`` decides)."""
        self.request = follow_redirect(self.request, status, headers, self.redirects)
        self.redirects += 1

    def failed(self, error: APIConnectionError, cause: BaseException) -> float:
        """No response (refused, reset, timeout): the delay before retrying, or raise ``error``."""
        request = self.request
        logger.info(
            "%s %s failed: %s (attempt %d)", request.method, request.url, error, self.attempt + 1
        )
        delay = retry_delay(
            self.attempt, status=None, headers=None, body=None, max_retries=request.max_retries
        )
        if delay is None:
            raise error from cause
        return self._retry(delay)

    def rejected(self, status: int, headers: Mapping[str, str], body: bytes) -> float:
        """A 4xx/5xx arrived: the delay before retrying, or raise its exception."""
        delay = retry_delay(
            self.attempt,
            status=status,
            headers=headers,
            body=body,
            max_retries=self.request.max_retries,
        )
        if delay is None:
            raise error_from_response(status, headers, body)
        return self._retry(delay)

    def _retry(self, delay: float) -> float:
        logger.info("retrying %s %s in %.2f s", self.request.method, self.request.url, delay)
        self.attempt += 1
        return delay
