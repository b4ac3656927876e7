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

Decided here too (issue 16): a failure on a *reused* pooled connection before
any byte of the answer (:class:`Stale`, the keep-alive race) is sent again at
once, uncounted, without a sleep; ambiguous framing
(:func:`~edgee._framing.read_framing` on :attr:`Head.raw`) is refused; error
bodies are read up to :data:`~edgee._framing.ERROR_BODY_CAP` within
:data:`~edgee._framing.ERROR_BODY_SECONDS`, a JSON answer to a stream request
up to the event cap; a certificate failure is never retried; and
``Timeout.total`` is one deadline over every attempt, body and sleep. The
transports skip ``1xx`` interim heads themselves (http.client through
``_urllib3_internals``, aiohttp natively); a ``1xx`` that reached this flow
would be a transport bug.

The call's observer (``_observe.CallObserver``, ``None`` when nothing
observes, so free when absent) is told of requests sent, responses received,
retries scheduled and the answer; the failure that ends a flow is reported by
``_observe.observe_flow`` around it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterable

from edgee import _framing
from edgee._content_coding import ContentDecodingError, parse_content_encoding
from edgee._error_mapping import error_from_response
from edgee._framing import read_framing, total_timeout
from edgee._logging import logger
from edgee._observe import CallObserver, observe_flow
from edgee._request import PreparedRequest
from edgee._response import follow_redirect, reads_whole_body
from edgee._retry import retry_delay
from edgee._tls import CertificateVerifyError
from edgee.errors import APIConnectionError, APIError, APITimeoutError, EventTooLargeError

__all__ = [
    "Deliver",
    "Flow",
    "Head",
    "Outcome",
    "ReadBody",
    "Release",
    "Send",
    "Sleep",
    "Stale",
    "attempt_flow",
]


class Send:
    """Send ``request``; reply with its :class:`Head` or the connection error."""

    __slots__ = ("request",)

    def __init__(self, request: PreparedRequest) -> None:
        self.request = request


class ReadBody:
    """Read the current response's body whole; reply with it or the error.

    The driver feeds what it reads (transfer-decoded, still content-coded) to
    :meth:`sink`'s :class:`~edgee._framing.BodySink`, which decodes
    ``coding``, keeps at most ``limit`` decoded bytes, stops after ``budget``
    seconds (a cut body: the driver closes the connection) and raises
    :class:`~edgee.errors.APITimeoutError` past ``deadline``. ``None``: unbounded.
    The reply is the body, the :class:`APIConnectionError` or the
    :class:`~edgee._content_coding.ContentDecodingError`.
    """

    __slots__ = ("budget", "coding", "deadline", "limit", "plain")

    def __init__(
        self,
        limit: int | None = None,
        budget: float | None = None,
        *,
        coding: str | None = None,
        deadline: float | None = None,
    ) -> None:
        self.limit = limit
        self.budget = budget
        self.coding = coding
        self.deadline = deadline
        #: Nothing to decode, cap or time: the driver may read the body in one call.
        self.plain = limit is None and budget is None and deadline is None and not coding

    def sink(self) -> _framing.BodySink:
        """A new sink for this body (raises ContentDecodingError for an unknown coding)."""
        return _framing.BodySink(self.coding, self.limit, self.budget, self.deadline)


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
    ``observer`` is the call's (``None`` when nothing observes it), for the stream;
    ``deadline`` is the call's ``Timeout.total`` instant (``time.monotonic()``),
    which an event stream must end by too, or ``None``.
    """

    __slots__ = ("body", "deadline", "headers", "observer", "status")

    def __init__(
        self,
        status: int,
        headers: dict[str, str],
        body: bytes | None,
        observer: CallObserver | None = None,
        deadline: float | None = None,
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.observer = observer
        self.deadline = deadline


class Head:
    """What a driver sends back for :class:`Send`: the status and lower-case headers.

    ``raw`` is the header list as received, duplicates kept, for the framing check.
    """

    __slots__ = ("headers", "raw", "status")

    def __init__(
        self,
        status: int,
        headers: dict[str, str],
        raw: Iterable[tuple[str | bytes, str | bytes]] = (),
    ) -> None:
        self.status = status
        self.headers = headers
        self.raw = raw


class Stale:
    """What a driver sends back for a :class:`Send` that failed on a *reused* pooled
    connection before any byte of the answer: the keep-alive race, resent at once."""

    __slots__ = ("error",)

    def __init__(self, error: APIConnectionError) -> None:
        self.error = error


Command = Send | ReadBody | Release | Sleep | Deliver
Outcome = Head | Stale | bytes | APIError | None

# Keep-alive races resent in one call at most this often: each one discards a dead
# pooled connection, so more means the server closes every reused connection.
_MAX_STALE_RESENDS = 8
Flow = Generator[Command, Outcome, None]

# Single instances: Release carries nothing, nor does a plain whole read (never changed).
_RELEASE = Release()
_READ_WHOLE = ReadBody()


def attempt_flow(request: PreparedRequest, observer: CallObserver | None = None) -> Flow:
    """The commands that carry ``request`` to its final 2xx answer, or raise its error.

    Raises the :class:`~edgee.errors.APIError` that ends the request: the
    mapped HTTP error, a refused redirect or framing, an undecodable body, the
    last connection error, or a timeout past ``Timeout.total``.
    ``observer`` (``_observe.CallObserver``) is told of each step when given.
    """
    if observer is not None:
        return observe_flow(_flow(request, observer), observer)
    return _flow(request, None)


def _flow(request: PreparedRequest, observer: CallObserver | None) -> Flow:
    attempt = 0  # retries made so far
    redirects = 0
    stale_resends = 0
    total = request.timeout.total
    deadline = None if total is None else time.monotonic() + total
    while True:
        # The clock is read for the deadline and the debug line only (most calls have neither).
        timed = deadline is not None or logger.isEnabledFor(logging.DEBUG)
        started = time.monotonic() if timed else 0.0
        if deadline is not None and started >= deadline:
            raise total_timeout()
        if observer is not None:
            observer.request_sent(request, attempt)
        sent = yield Send(request)
        if isinstance(sent, Stale):
            if stale_resends < _MAX_STALE_RESENDS:
                stale_resends += 1
                logger.debug(
                    "%s %s: the pooled connection was closed as it was reused; sent again",
                    request.method,
                    request.url,
                )
                continue
            sent = sent.error
        failure = sent if isinstance(sent, APIConnectionError) else None
        delay: float | None = None
        error_body = b""
        if isinstance(sent, Head):
            status, headers = sent.status, sent.headers
            if timed:
                logger.debug(
                    "%s %s -> %d in %.1f ms (attempt %d)",
                    request.method,
                    request.url,
                    status,
                    (time.monotonic() - started) * 1000,
                    attempt + 1,
                )
            try:
                read_framing(
                    status,
                    sent.raw,
                    method=request.method,
                    request_id=headers.get("x-request-id"),
                    lowered=headers,
                )
            except _framing.FramingError:
                yield _RELEASE  # unread: the connection is closed, never pooled
                raise
            if observer is not None:
                observer.response_received(status, headers)
            coding = headers.get("content-encoding")
            if status < 300:
                if request.stream and not reads_whole_body(True, headers):
                    try:
                        parse_content_encoding(coding)  # the stream decodes it, if it can
                    except ContentDecodingError as exc:
                        yield _RELEASE
                        exc.request_id = headers.get("x-request-id")
                        raise
                    if observer is not None:
                        observer.stream_started()
                    # An event stream: the caller reads it.
                    yield Deliver(status, headers, None, observer, deadline)
                    return
                # A JSON answer to a stream request is capped like one event.
                cap = _framing.JSON_INSTEAD_OF_STREAM_CAP if request.stream else None
                # Read inside the flow, so a connection lost mid-body is retried too.
                if cap is None and coding is None and deadline is None:
                    body = yield _READ_WHOLE  # the usual answer: nothing to decode, cap or time
                else:
                    body = yield ReadBody(
                        None if cap is None else cap + 1, coding=coding, deadline=deadline
                    )
                if isinstance(body, bytes):
                    yield _RELEASE
                    if cap is not None and len(body) > cap:
                        too_large = EventTooLargeError(cap)
                        too_large.request_id = headers.get("x-request-id")
                        raise too_large
                    if observer is not None:
                        # A stream's whole-answer fallback ends with the stream, not here.
                        if request.stream:
                            observer.stream_started()
                        else:
                            observer.succeeded(body)
                    yield Deliver(status, headers, body, observer, deadline)
                    return
                if isinstance(body, ContentDecodingError):
                    body.request_id = headers.get("x-request-id")
                    raise body
                assert isinstance(body, APIConnectionError)
                failure = body
            elif status < 400:
                yield _RELEASE
                request = follow_redirect(request, status, headers, redirects)
                redirects += 1
                continue
            else:
                # Enough for any gateway message; a huge or endless page is cut.
                read = yield ReadBody(
                    _framing.ERROR_BODY_CAP,
                    _framing.ERROR_BODY_SECONDS,
                    coding=coding,
                    deadline=deadline,
                )
                yield _RELEASE
                if isinstance(read, bytes):
                    error_body = read
                elif isinstance(read, APITimeoutError) and _past(deadline):
                    raise read
                # else unreadable: the status says enough
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
            if isinstance(failure, APITimeoutError) and _past(deadline):
                raise total_timeout() from failure
            # str(failure), not the error: a log record kept by a handler must not keep
            # the error's traceback, and so its frames' responses, alive.
            logger.info(
                "%s %s failed: %s (attempt %d)",
                request.method,
                request.url,
                str(failure),
                attempt + 1,
            )
            if isinstance(failure, CertificateVerifyError):
                raise failure  # the same certificate fails the same way again
            delay = retry_delay(
                attempt, status=None, headers=None, body=None, max_retries=request.max_retries
            )
            if delay is None:
                raise failure
        assert delay is not None
        if deadline is not None and time.monotonic() + delay >= deadline:
            # The wait alone would end past the deadline: fail now, not after sleeping.
            if failure is not None:
                raise total_timeout() from failure
            raise error_from_response(status, headers, error_body)
        logger.info("retrying %s %s in %.2f s", request.method, request.url, delay)
        if observer is not None:
            observer.retry_scheduled(attempt, delay, failure if failure is not None else status)
        attempt += 1
        yield Sleep(delay)


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline
