"""Response framing and body caps, sans-IO.

HTTP/1.1 says how long a body is with ``Transfer-Encoding: chunked`` or one
``Content-Length`` (RFC 9112 §6). A response that says both, or two different
lengths, or a length that is not a number, is ambiguous: two parties may read
it differently (the root of response smuggling), so both clients refuse it with
:class:`FramingError` — decided once, by :func:`check_framing`, on the raw
header list — and close its connection instead of pooling it.

Bodies nobody streams are read up to a cap (:class:`BoundedBody`): an error
page up to :data:`ERROR_BODY_CAP` bytes within :data:`ERROR_BODY_SECONDS`
(enough for any gateway message; the rest is dropped with the connection), a
JSON body answered to a stream request up to :data:`JSON_INSTEAD_OF_STREAM_CAP`
(the stream event cap). Memory stays bounded whatever the server sends.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping

from edgee._content_coding import decoder_for
from edgee.errors import APITimeoutError, FramingError

__all__ = [
    "ERROR_BODY_CAP",
    "ERROR_BODY_SECONDS",
    "JSON_INSTEAD_OF_STREAM_CAP",
    "BodySink",
    "BoundedBody",
    "Framing",
    "FramingError",
    "check_framing",
    "framing_error_from_parser",
    "latin1",
    "read_framing",
]

#: Bytes of an error body (4xx/5xx) kept for the exception; the rest is dropped.
ERROR_BODY_CAP = 64 * 1024
#: Seconds allowed to read an error body (from its first byte); then it is cut.
ERROR_BODY_SECONDS = 5.0
#: Bytes of a whole JSON body accepted instead of an event stream: the event cap.
JSON_INSTEAD_OF_STREAM_CAP = 16 * 1024 * 1024


def latin1(value: bytes | str) -> str:
    """A header value as text, per HTTP: bytes are ISO-8859-1 (every byte maps to one char).

    aiohttp decodes header bytes as UTF-8 with surrogate escapes and http.client
    as latin-1; re-encoding a ``str`` that way and decoding as latin-1 gives
    both clients the same text for the same bytes.
    """
    if isinstance(value, bytes):
        return value.decode("latin-1")
    try:
        value.encode("latin-1")
        return value
    except UnicodeEncodeError:
        # aiohttp's view: UTF-8 with surrogateescape; recover the wire bytes.
        return value.encode("utf-8", "surrogateescape").decode("latin-1")


class Framing:
    """How a response body is delimited, as :func:`check_framing` found it."""

    __slots__ = ("chunked", "length")

    def __init__(self, *, chunked: bool, length: int | None) -> None:
        self.chunked = chunked  # Transfer-Encoding ends in chunked
        self.length = length  # the one Content-Length, or None (chunked / until close / none)

    def __repr__(self) -> str:
        return f"Framing(chunked={self.chunked}, length={self.length})"


# The two framing header names, as str and as bytes (aiohttp's raw headers), lower-case.
_FRAMING_NAMES: dict[str | bytes, str] = {
    name: text
    for text in ("content-length", "transfer-encoding")
    for name in (text, text.encode("ascii"))
}


def _may_be_framing(low: str | bytes) -> bool:
    """Whether a lower-cased name holds a framing name (with something around it)."""
    if isinstance(low, bytes):
        return b"content-length" in low or b"transfer-encoding" in low
    return "content-length" in low or "transfer-encoding" in low


def check_framing(
    status: int,
    headers: Iterable[tuple[str | bytes, str | bytes]],
    *,
    method: str = "POST",
    request_id: str | None = None,
) -> Framing:
    """Decide how the body is framed, or raise :class:`FramingError` if it is ambiguous.

    ``headers`` is the raw header list, duplicates kept (urllib3's
    ``response.headers.items()`` or ``HTTPResponse.msg.items()`` for requests,
    aiohttp's ``response.raw_headers``). Refused: ``Content-Length`` together
    with ``Transfer-Encoding`` (RFC 9112 §6.3 allows reading it as chunked, but
    a proxy in between may not have), two ``Content-Length`` values that differ
    (a comma list counts as several), and a value that is not ASCII digits
    (negative, signed, ``1_0``, empty).
    """
    chunked, length = read_framing(status, headers, method=method, request_id=request_id)
    return Framing(chunked=chunked, length=length)


def read_framing(
    status: int,
    headers: Iterable[tuple[str | bytes, str | bytes]],
    *,
    method: str = "POST",
    request_id: str | None = None,
    lowered: Mapping[str, str] | None = None,
) -> tuple[bool, int | None]:
    """:func:`check_framing` as ``(chunked, length)``, for the attempt flow (no object made).

    ``lowered``, the same headers as a dict with lower-case latin-1 names (a
    :class:`~edgee._attempts.Head`'s), spares the scan of a tuple or list of them
    in which no name comes twice or holds whitespace: the dict then holds each
    framing header as the scan would find it.
    """
    names = "" if lowered is None else "".join(lowered)
    if (
        names
        and type(headers) in (tuple, list)
        and len(lowered) == len(headers)  # type: ignore[arg-type]
        # No whitespace in any name: ASCII, no control character, no space.
        and names.isascii()
        and names.isprintable()
        and " " not in names
    ):
        length = lowered.get("content-length")  # type: ignore[union-attr]
        coding = lowered.get("transfer-encoding")  # type: ignore[union-attr]
        if length is None:
            lengths = []
        elif "," in length:
            lengths = [part.strip(" \t") for part in length.split(",")]
        else:
            lengths = [length.strip(" \t")]
        codings = (
            []
            if coding is None
            else [c.strip(" \t").lower() for c in coding.split(",") if c.strip(" \t")]
        )
    else:
        lengths, codings = _scan(headers)

    no_body = status in (204, 304) or 100 <= status < 200 or method.upper() == "HEAD"
    if no_body:
        return False, 0
    if codings and lengths:
        raise _refused(status, request_id, "both Content-Length and Transfer-Encoding")
    if codings:
        if codings[-1] != "chunked" or codings.count("chunked") > 1:
            why = f"Transfer-Encoding {', '.join(codings)!r} does not end in one chunked"
            raise _refused(status, request_id, why)
        return True, None
    if not lengths:
        return False, None
    if len(lengths) == 1:
        value = lengths[0]
        if value and value.isascii() and value.isdigit():
            return False, int(value)
    for value in lengths:
        if not value or not (value.isascii() and value.isdigit()):
            raise _refused(status, request_id, f"Content-Length {value!r} is not a number")
    if len(lengths) > 1 and len({int(v) for v in lengths}) > 1:
        why = f"conflicting Content-Length values {', '.join(lengths)}"
        raise _refused(status, request_id, why)
    return False, int(lengths[0])


def _scan(
    headers: Iterable[tuple[str | bytes, str | bytes]],
) -> tuple[list[str], list[str]]:
    """The ``Content-Length`` and ``Transfer-Encoding`` members of a raw header list."""
    lengths: list[str] = []
    codings: list[str] = []
    for raw_name, raw_value in headers:
        # Most names are neither and are skipped undecoded: shorter than both, or not
        # either one. One that is only once its surrounding whitespace is stripped is
        # longer than the name, and holds it.
        size = len(raw_name)
        if size < 14:
            continue
        low = raw_name.lower()
        kind = _FRAMING_NAMES.get(low)
        if kind is None:
            if size == 14 or not _may_be_framing(low):
                continue
            kind = _FRAMING_NAMES.get(latin1(raw_name).strip().lower())
            if kind is None:
                continue
        value = raw_value.decode("latin-1") if type(raw_value) is bytes else latin1(raw_value)
        if kind == "content-length":
            if "," in value:
                lengths.extend(part.strip(" \t") for part in value.split(","))
            else:
                lengths.append(value.strip(" \t"))
        else:
            codings.extend(c.strip(" \t").lower() for c in value.split(",") if c.strip(" \t"))
    return lengths, codings


def _refused(status: int, request_id: str | None, why: str) -> FramingError:
    return FramingError(
        f"the server's response {status} has ambiguous framing ({why}); refused, and its "
        "connection closed, as a proxy in between may read it differently",
        status_code=status,
        request_id=request_id,
    )


class BoundedBody:
    """Collects a body up to ``cap`` bytes and within ``seconds``; sans-IO.

    The transport reads the socket and calls :meth:`feed` with each piece
    until :meth:`feed` returns ``False`` (cap or time reached: stop reading and
    close the connection) or the body ends. :attr:`truncated` then says whether
    anything was dropped, :meth:`body` gives what was kept. ``cap`` and
    ``seconds`` default to :data:`ERROR_BODY_CAP` and :data:`ERROR_BODY_SECONDS`
    as they are when the reader is made (``math.inf`` seconds: no budget);
    ``clock`` is injectable for tests. The budget only ends reading between
    pieces: the transport bounds the wait for each piece by the smaller of its
    read timeout and :meth:`remaining`.
    """

    __slots__ = ("_clock", "_deadline", "_pieces", "_size", "cap", "truncated")

    def __init__(
        self,
        cap: int | None = None,
        seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Looked up per reader, not bound at import, so the caps stay patchable.
        self.cap = ERROR_BODY_CAP if cap is None else cap
        self._clock = clock
        self._deadline = clock() + (ERROR_BODY_SECONDS if seconds is None else seconds)
        self._pieces: list[bytes] = []
        self._size = 0
        self.truncated = False

    @property
    def size(self) -> int:
        """Bytes kept so far."""
        return self._size

    def remaining(self) -> float:
        """Seconds left of the time budget (never negative)."""
        return max(self._deadline - self._clock(), 0.0)

    def want(self) -> int:
        """How many more bytes to ask the socket for (0: stop reading)."""
        return 0 if self.truncated else int(min(self.cap - self._size + 1, 1 << 62))

    def feed(self, data: bytes) -> bool:
        """Keep ``data`` (up to the cap); ``False`` means stop reading and close."""
        if self.truncated:
            return False
        room = self.cap - self._size
        if len(data) > room:
            data = data[:room]
            self.truncated = True
        if data:
            self._pieces.append(data)
            self._size += len(data)
        if self._clock() >= self._deadline:
            self.truncated = True
        return not self.truncated

    def body(self) -> bytes:
        """The kept bytes."""
        if len(self._pieces) > 1:
            self._pieces = [b"".join(self._pieces)]
        return self._pieces[0] if self._pieces else b""


class BodySink:
    """One whole body as a transport reads it: content-decoded, capped, timed; sans-IO.

    The transport reads transfer-decoded bytes (still content-coded) and calls
    :meth:`feed` with each piece, ``b""`` at the end of the body, until it
    returns ``False``; then :meth:`body` is the decoded body. ``limit`` caps
    the decoded bytes kept and ``budget`` the seconds spent (both ``None``:
    unbounded), cutting the body short (:attr:`truncated`: the transport then
    closes the connection). ``deadline`` (a ``time.monotonic()`` instant, the
    call's ``Timeout.total``) is not a cut but a failure: :meth:`feed` raises
    :class:`~edgee.errors.APITimeoutError` once it has passed. An unknown or
    corrupt coding raises :class:`~edgee._content_coding.ContentDecodingError`.
    """

    __slots__ = ("_bounded", "_deadline", "_decoder", "ended")

    def __init__(
        self,
        content_encoding: str | None,
        limit: int | None = None,
        budget: float | None = None,
        deadline: float | None = None,
    ) -> None:
        self._decoder = decoder_for(content_encoding)
        self._bounded = BoundedBody(
            cap=math.inf if limit is None else limit,  # type: ignore[arg-type]
            seconds=math.inf if budget is None else budget,
        )
        self._deadline = deadline
        self.ended = False

    @property
    def truncated(self) -> bool:
        """The cap or the time budget cut the body short: its connection must be closed."""
        return self._bounded.truncated

    def feed(self, data: bytes) -> bool:
        """Take the next piece (``b""``: the body ended); ``False`` means stop reading."""
        bounded = self._bounded
        if self._deadline is not None and time.monotonic() >= self._deadline:
            raise total_timeout()
        if not data:
            self.ended = True
            for piece in self._decoder.finish():
                bounded.feed(piece)
            return False
        if self._decoder.identity:
            return bounded.feed(data)
        return all(bounded.feed(piece) for piece in self._decoder.feed(data))

    def body(self) -> bytes:
        """The decoded bytes kept."""
        return self._bounded.body()

    def wait(self) -> float | None:
        """The longest the transport may wait for the next piece (``None``: its read timeout).

        The time budget, or the deadline, whichever ends first: a silent server cannot
        hold the read past either.
        """
        left = self._bounded.remaining()
        if self._deadline is not None:
            left = min(left, max(self._deadline - time.monotonic(), 0.0))
        return None if left == math.inf else left

    def expired(self) -> bool:
        """A wait bounded by :meth:`wait` ran out: past the deadline (raise) or the budget (cut).

        Raises the total timeout past the deadline; else marks the body cut and returns True.
        """
        if self._deadline is not None and time.monotonic() >= self._deadline:
            raise total_timeout()
        self._bounded.truncated = True
        return True


#: The message of a call that found no free pooled connection within ``Timeout.pool``.
POOL_TIMEOUT = (
    "Request timed out waiting for a free pooled connection (timeout.pool): "
    "all connection_limit connections are busy"
)


def total_timeout() -> APITimeoutError:
    """The error of a call or stream that ran past its ``Timeout.total`` deadline."""
    return APITimeoutError("Request timed out: the call ran past its timeout.total deadline")


# What the HTTP parsers raise for framing they refuse themselves, before the
# transport sees any header: aiohttp's C/Python parser (BadHttpMessage, e.g.
# "Transfer-Encoding can't be present with Content-Length", "Duplicate
# Content-Length", "Invalid character in Content-Length") and urllib3
# ("InvalidHeader: Content-Length contained multiple unmatching values").
_PARSER_ERRORS = frozenset(
    {"BadHttpMessage", "InvalidHeader", "LineTooLong", "InvalidHeaderDefect"}
)
_FRAMING_WORDS = ("content-length", "transfer-encoding")


def _reason(what: str) -> str:
    """The words :func:`check_framing` uses for the fault a parser named in ``what``."""
    text = what.lower()
    if "transfer-encoding" in text and "content-length" in text:
        return "both Content-Length and Transfer-Encoding"
    if "duplicate" in text or "multiple" in text:
        return "conflicting Content-Length values"
    if "content-length" in text:
        return "Content-Length is not a number"
    return "Transfer-Encoding does not end in one chunked"


def framing_error_from_parser(exc: BaseException, *, status: int = 0) -> FramingError | None:
    """The :class:`FramingError` for a transport exception that is a refused framing, else None.

    Looks through ``exc``'s causes (args, ``.reason``, ``__cause__``,
    ``__context__``) for a parser error naming ``Content-Length`` or
    ``Transfer-Encoding``; the transports call it in their error mapping so a
    framing the library refused itself reads the same as one
    :func:`check_framing` refused. ``status`` is 0 when no status line was seen.
    """
    stack, seen = [exc], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        text = str(current).lower()
        if type(current).__name__ in _PARSER_ERRORS and any(w in text for w in _FRAMING_WORDS):
            # aiohttp's str() starts "400, message:"; keep the line that says what.
            lines = str(current).splitlines()
            what = next(ln.strip() for ln in lines if any(w in ln.lower() for w in _FRAMING_WORDS))
            return FramingError(
                f"the server's response has ambiguous framing ({_reason(what)}; the HTTP "
                f"parser said: {what}); refused, and its connection closed, as a proxy in "
                "between may read it differently",
                status_code=status,
            )
        for inner in (
            *current.args,
            getattr(current, "reason", None),
            current.__cause__,
            current.__context__,
        ):
            if isinstance(inner, BaseException):
                stack.append(inner)
    return None
