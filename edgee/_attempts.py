"""The life of one logical request, written once: attempts, redirects, retries, bodies.

:func:`attempt_flow` is a generator (the shape of httpx's ``auth_flow``). It
yields *commands* and receives their *outcomes*; a transport's ``_send`` is
only the driver that executes them with its own HTTP library:

=================  ==========================================  ===========================
command            the driver does                             and sends back
=================  ==========================================  ===========================
:class:`Send`      sends ``request`` (the current response      a :class:`Head`, or the
                   becomes this one's)                         :class:`APIConnectionError`
:class:`ReadBody`  reads the current response's body whole     ``bytes``, or the error
:class:`Release`   lets the current response go                ``None``
:class:`Sleep`     sleeps ``seconds``                          ``None``
:class:`Deliver`   returns ``(command, current response)``     (nothing: the flow is over)
=================  ==========================================  ===========================

A failed :class:`Send` or :class:`ReadBody` has already released its response
(the driver does it, with the failure). Status classes, redirects
(:func:`~edgee._response.follow_redirect`), retry verdicts
(:func:`~edgee._retry.retry_delay`), which bodies are read whole, the
exceptions raised, and the log lines are decided here only, so the two
clients cannot disagree about them.

Seams for behaviour still to come, each with one place below (``# seam:``):
an immediate, uncounted resend after a keep-alive race; a cap and time budget
on error bodies (``ReadBody.limit`` / ``ReadBody.budget``); skipping ``1xx``
interim heads. The call's observer (``_observe.CallObserver``, ``None`` when
nothing observes, so free when absent) is told of requests sent, responses
received, retries scheduled and the answer; the failure that ends a flow is
reported by ``_observe.observe_flow`` around it.
"""

from __future__ import annotations

import time
from collections.abc import Generator

from edgee._error_mapping import error_from_response
from edgee._logging import logger
from edgee._observe import CallObserver, observe_flow
from edgee._request import PreparedRequest
from edgee._response import follow_redirect, reads_whole_body
from edgee._retry import retry_delay
from edgee.errors import APIConnectionError

__all__ = [
    "Deliver",
    "Flow",
    "Head",
    "Outcome",
    "ReadBody",
    "Release",
    "Send",
    "Sleep",
    "attempt_flow",
]


class Send:
    """Send ``request``; reply with its :class:`Head` or the connection error."""

    __slots__ = ("request",)

    def __init__(self, request: PreparedRequest) -> None:
        self.request = request


class ReadBody:
    """Read the current response's body whole; reply with it or the connection error.

    ``limit`` (bytes) and ``budget`` (seconds) bound the read when set; ``None``
    means unbounded, today's behaviour for every body.
    """

    __slots__ = ("budget", "limit")

    def __init__(self, limit: int | None = None, budget: float | None = None) -> None:
        self.limit = limit
        self.budget = budget


class Release:
    """Let the current response (and, unless read to its end, its connection) go."""

    __slots__ = ()


class Sleep:
    """Wait ``seconds`` before the next attempt."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class Deliver:
    """The final 2xx answer: ``status``, lower-case ``headers``, and ``body`` when read whole.

    ``body`` is ``None`` for an event stream, which the caller reads from the
    response the driver returns; when it is not, that response was released.
    ``observer`` is the call's (``None`` when nothing observes it), for the stream.
    """

    __slots__ = ("body", "headers", "observer", "status")

    def __init__(
        self,
        status: int,
        headers: dict[str, str],
        body: bytes | None,
        observer: CallObserver | None = None,
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.observer = observer


class Head:
    """What a driver sends back for :class:`Send`: the status and lower-case headers."""

    __slots__ = ("headers", "status")

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status = status
        self.headers = headers


Command = Send | ReadBody | Release | Sleep | Deliver
Outcome = Head | bytes | APIConnectionError | None
Flow = Generator[Command, Outcome, None]

# A single instance: Release carries nothing.
_RELEASE = Release()


def attempt_flow(request: PreparedRequest, observer: CallObserver | None = None) -> Flow:
    """The commands that carry ``request`` to its final 2xx answer, or raise its error.

    Raises the :class:`~edgee.errors.APIError` that ends the request: the
    mapped HTTP error, a refused redirect, or the last connection error.
    ``observer`` (``_observe.CallObserver``) is told of each step when given.
    """
    if observer is not None:
        return observe_flow(_flow(request, observer), observer)
    return _flow(request, None)


def _flow(request: PreparedRequest, observer: CallObserver | None) -> Flow:
    attempt = 0  # retries made so far
    redirects = 0
    while True:
        started = time.monotonic()
        if observer is not None:
            observer.request_sent(request, attempt)
        sent = yield Send(request)
        failure = sent if isinstance(sent, APIConnectionError) else None
        delay: float | None = None
        # seam: a keep-alive race (`failure` on a reused connection before any byte of the
        # answer) is resent here at once, uncounted, without a Sleep.
        if isinstance(sent, Head):
            status, headers = sent.status, sent.headers
            # seam: a 1xx interim head is skipped here (read the next head, same attempt).
            logger.debug(
                "%s %s -> %d in %.1f ms (attempt %d)",
                request.method,
                request.url,
                status,
                (time.monotonic() - started) * 1000,
                attempt + 1,
            )
            if observer is not None:
                observer.response_received(status, headers)
            if status < 300:
                if not reads_whole_body(request.stream, headers):
                    if observer is not None:
                        observer.stream_started()
                    # An event stream: the caller reads it.
                    yield Deliver(status, headers, None, observer)
                    return
                # Read inside the flow, so a connection lost mid-body is retried too.
                body = yield ReadBody()
                if isinstance(body, bytes):
                    yield _RELEASE
                    if observer is not None:
                        # A stream's whole-answer fallback ends with the stream, not here.
                        if request.stream:
                            observer.stream_started()
                        else:
                            observer.succeeded(body)
                    yield Deliver(status, headers, body, observer)
                    return
                assert isinstance(body, APIConnectionError)
                failure = body
            elif status < 400:
                yield _RELEASE
                request = follow_redirect(request, status, headers, redirects)
                redirects += 1
                continue
            else:
                # seam: the error-body cap and time budget are ReadBody(limit=, budget=).
                error_body = yield ReadBody()
                if isinstance(error_body, bytes):
                    yield _RELEASE
                else:
                    error_body = b""  # unreadable: the status says enough
                delay = retry_delay(
                    attempt,
                    status=status,
                    headers=headers,
                    body=error_body,
                    max_retries=request.max_retries,
                )
                if delay is None:
                    raise error_from_response(status, headers, error_body)
        if failure is not None:
            # str(failure), not the error: a log record kept by a handler must not keep
            # the error's traceback, and so its frames' responses, alive.
            logger.info(
                "%s %s failed: %s (attempt %d)",
                request.method,
                request.url,
                str(failure),
                attempt + 1,
            )
            delay = retry_delay(
                attempt, status=None, headers=None, body=None, max_retries=request.max_retries
            )
            if delay is None:
                raise failure
        assert delay is not None
        logger.info("retrying %s %s in %.2f s", request.method, request.url, delay)
        if observer is not None:
            observer.retry_scheduled(attempt, delay, failure if failure is not None else status)
        attempt += 1
        yield Sleep(delay)
