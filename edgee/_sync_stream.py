"""``Stream``: the sync client's stream, and the ``requests`` side of reading it.

:class:`MapErrors` is the one place a ``requests``/``urllib3``/socket failure
becomes an :class:`~edgee.errors.APIConnectionError` (the client's driver uses
it too). The read loop moves body bytes into the stream's
:class:`~edgee._streaming.ChunkParser` and makes no protocol decision; the
stream's state (headers, accumulator, whole-answer fallback, drain limit) is
``_streaming.StreamState``'s.
"""

from __future__ import annotations

import contextlib
import http.client
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING

import requests
import urllib3.exceptions

from edgee._chunked import ChunkedDecoder, ChunkedError
from edgee._framing import POOL_TIMEOUT, framing_error_from_parser
from edgee._streaming import DONE, DRAIN_LIMIT, NEED_DATA, READ_SIZE, StreamState, StreamView
from edgee._tls import TLSSettings, certificate_error, find_certificate_error
from edgee._urllib3_internals import (
    chunked_body_reader,
    is_pool_timeout,
    is_timeout,
    release_chunked_body,
)
from edgee.errors import APIConnectionError, APIError, APITimeoutError, EdgeeError
from edgee.models import SendResponse, StreamChunk

if TYPE_CHECKING:
    from edgee._events import StreamEvent

__all__ = ["FAILURES", "MapErrors", "Stream", "mapped"]

_FAILURES = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)
#: What the driver catches around a command: the library's failures (mapped with
#: :func:`mapped`) and the SDK's own errors raised while reading a body.
FAILURES = (*_FAILURES, EdgeeError)


class MapErrors:
    """``with MapErrors(request_id):`` turns a requests/urllib3/socket failure into
    :class:`APITimeoutError` or :class:`APIConnectionError` (the only place that does):
    a refused framing into :class:`~edgee._framing.FramingError`, a failed certificate
    check into :class:`~edgee._tls.CertificateVerifyError` (saying what to do), no free
    pooled connection within ``Timeout.pool`` into a timeout that says so."""

    __slots__ = ("request_id", "tls")

    def __init__(self, request_id: str | None = None, tls: TLSSettings | None = None) -> None:
        self.request_id = request_id
        self.tls = tls

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, _FAILURES) and not isinstance(exc, EdgeeError):
            raise mapped(exc, self.request_id, self.tls) from exc


def mapped(
    exc: BaseException, request_id: str | None = None, tls: TLSSettings | None = None
) -> APIError:
    """The SDK error for a requests/urllib3/socket failure (raise it ``from exc``)."""
    framing = framing_error_from_parser(exc)
    if framing is not None:
        return framing
    cert = find_certificate_error(exc)
    if cert is not None:
        return certificate_error(cert, tls or TLSSettings())
    if is_pool_timeout(exc):
        return APITimeoutError(POOL_TIMEOUT, request_id=request_id)
    if is_timeout(exc):
        return APITimeoutError(f"Request timed out: {type(exc).__name__}", request_id=request_id)
    message = f"Connection error: {type(exc).__name__}: {exc}"
    return APIConnectionError(message, request_id=request_id)


class _Body:
    """The response body of one stream and whether its connection was let go.

    Kept apart from :class:`Stream` so the reading generator does not refer to
    the stream: a stream dropped after ``break`` is freed (and its socket
    closed) at once by reference counting, without waiting for the cycle GC.

    A chunked body nobody has read yet (the usual stream) is read from the
    socket's buffered file and its framing undone by :class:`ChunkedDecoder`:
    one Python call per socket read, where urllib3's ``read1`` costs one trip
    through urllib3 and ``http.client`` per HTTP chunk, and gateways send one
    chunk per event (benchmarks/README.md). Anything else (``Content-Length``,
    close-delimited, a body already begun) takes urllib3's ``read1``.
    """

    __slots__ = ("closed", "decoder", "errors", "read", "read1", "response")

    def __init__(self, response: requests.Response, request_id: str | None) -> None:
        self.response = response
        self.errors = MapErrors(request_id)
        self.closed = False
        self.read1 = chunked_body_reader(response)
        self.decoder = ChunkedDecoder() if self.read1 is not None else None
        #: The next bytes of the body (``b""`` at its end); raises mapped errors.
        self.read: Callable[[], bytes] = (
            self._read_generic if self.read1 is None else self._read_chunked
        )

    def _read_generic(self) -> bytes:
        with self.errors:
            return self.response.raw.read1(READ_SIZE)

    def _read_chunked(self) -> bytes:
        decoder, read1 = self.decoder, self.read1
        assert decoder is not None and read1 is not None
        while not decoder.done:
            if decoder.error is not None:  # bad framing after the bytes last returned
                message = f"Connection error: bad chunked framing: {decoder.error}"
                raise APIConnectionError(message, request_id=self.errors.request_id) from (
                    decoder.error
                )
            try:
                data = read1(READ_SIZE)  # the socket's read timeout is the idle timeout
            except _FAILURES as exc:
                raise mapped(exc, self.errors.request_id) from exc
            if not data:
                message = "Connection error: the connection closed inside the chunked body"
                lost = http.client.IncompleteRead(b"")
                raise APIConnectionError(message, request_id=self.errors.request_id) from lost
            try:
                body = decoder.feed(data)
            except ChunkedError as exc:
                message = f"Connection error: bad chunked framing: {exc}"
                raise APIConnectionError(message, request_id=self.errors.request_id) from exc
            if decoder.done:
                self._finish()
            if body:
                return body
        return b""

    def _finish(self) -> None:
        """The chunked body ended: its connection goes back to the pool (unless
        bytes followed the body, which leave it unfit for another request)."""
        assert self.decoder is not None
        if self.closed:
            return
        if self.decoder.extra:
            self.close()
            return
        try:
            release_chunked_body(self.response)
        except Exception:  # the stream is complete anyway; drop the socket instead
            self.close()
        else:
            self.closed = True

    def close(self) -> None:
        """Drop the connection (it cannot be reused mid-body)."""
        if not self.closed:
            self.closed = True
            self.response.close()

    def drain(self) -> None:
        """Read the few bytes after [DONE] so the connection returns to the pool."""
        remaining = DRAIN_LIMIT
        decoder, read1 = self.decoder, self.read1
        # Whatever fails here, the stream itself is complete; close() drops the socket.
        with contextlib.suppress(Exception):
            if decoder is not None and read1 is not None:
                while not decoder.done and remaining > 0:
                    data = read1(min(remaining, READ_SIZE))
                    if not data:
                        return
                    remaining -= len(data)
                    decoder.feed(data)
                if decoder.done:
                    self._finish()
                return
            raw = self.response.raw
            while remaining > 0:
                data = raw.read1(remaining)
                if not data:
                    raw.release_conn()
                    self.closed = True
                    return
                remaining -= len(data)


def _read_chunks(body: _Body, state: StreamState) -> Generator[StreamChunk, None, None]:
    """Body bytes -> parser -> chunks, as they arrive; releases the body at the end."""
    parser = state.parser
    # The parser folds each chunk into the state's accumulator before handing it out.
    next_event, need_data, done = parser.next_event, NEED_DATA, DONE
    try:
        while True:
            event = next_event()
            if event is need_data:
                try:
                    parser.receive_data(body.read())
                except APIConnectionError as exc:
                    parser.connection_lost(exc)
            elif event is done:
                body.drain()
                return
            else:
                yield event  # type: ignore[misc]
    finally:
        body.close()


class Stream(StreamView):
    """The chunks of a streaming completion, as they arrive.

    Iterate it for :class:`StreamChunk` objects; use it as a context manager
    (or call :meth:`close`) so the connection is released even if you stop
    early. :meth:`final_response` reads the rest and returns everything as one
    :class:`SendResponse`; :attr:`text_stream` yields only text.
    """

    def __init__(self, response: requests.Response, state: StreamState) -> None:
        self._state = state
        self._body = _Body(response, state.parser.request_id)
        self._iterator: Iterator[StreamChunk]
        if state.whole is not None:  # a whole answer instead of a stream: one chunk says it all
            self._body.close()
            self._iterator = state.whole_chunks()
        else:
            self._iterator = _read_chunks(self._body, state)
        self._iterator = state.observed(self._iterator)

    def __iter__(self) -> Iterator[StreamChunk]:
        return self

    def __next__(self) -> StreamChunk:
        return next(self._iterator)

    @property
    def text_stream(self) -> Iterator[str]:
        """Only the text of the first choice, piece by piece."""
        for chunk in self:
            text = chunk.text
            if text:
                yield text

    def events(self) -> Iterator[StreamEvent]:
        """Typed events as the chunks arrive (see :mod:`edgee._events`), :class:`Done` last.

        Call it before reading any chunk (else :class:`ClientStateError`);
        reading the events reads the stream. With ``response_format=T`` a
        structured answer that cannot be ``T`` raises at the end, as
        :meth:`final_response` does.
        """
        return self._events(self._state.start_events())

    def _events(self, feed: Callable[[StreamChunk], list[StreamEvent]]) -> Iterator[StreamEvent]:
        for chunk in self:
            yield from feed(chunk)
        yield from self._state.closing_events()

    def final_response(self) -> SendResponse:
        """Read what is left and return the whole stream as one :class:`SendResponse`.

        A :class:`ParsedResponse` (``parsed``, ``refusal``, tool calls with
        ``parsed_arguments``) when the stream has ``response_format=T`` or ``@tool`` tools.
        """
        for _ in self:
            pass
        return self._state.final_response()

    def close(self) -> None:
        """Stop reading and release the connection (closed unless fully read)."""
        self._body.close()
        close = getattr(self._iterator, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Never raise from a finalizer; the interpreter may be shutting down.
        with contextlib.suppress(Exception):
            self._body.close()
