"""A sans-IO decoder for server-sent events (``text/event-stream``).

:class:`SSEDecoder` turns the bytes of an event stream, fed in pieces of any
size, into :class:`ServerSentEvent` objects. It follows the WHATWG HTML
standard, section 9.2.6 "Interpreting an event stream", to the letter:

* the stream is decoded as UTF-8, malformed bytes becoming U+FFFD, and one
  byte order mark at the very start is dropped;
* lines end with CRLF, LF or a lone CR, and nothing else (U+2028, U+0085 and
  friends are data);
* a line starting with ``:`` is a comment; otherwise ``field:value``, with at
  most one space removed from the start of the value, or a bare ``field``
  with an empty value;
* ``event`` sets the event type, ``data`` appends a line of data, ``id`` sets
  the last event ID (unless the value contains U+0000), ``retry`` sets the
  reconnection time (only when the value is ASCII digits); other fields are
  ignored;
* a blank line dispatches the event, unless no ``data`` field was seen; an
  event still unterminated when the stream ends is discarded.

The decoder performs no I/O and knows nothing of HTTP or JSON: the transport
calls :meth:`SSEDecoder.feed` with whatever bytes arrived and
:meth:`SSEDecoder.close` at the end of the body. The events produced are the
same however the bytes are split into feeds.
"""

from __future__ import annotations

import codecs
from typing import Any, Final

from edgee.errors import EventTooLargeError

__all__ = ["DEFAULT_MAX_EVENT_BYTES", "SSEDecoder", "ServerSentEvent"]

#: Default bound on the size of one event, see :class:`SSEDecoder`.
DEFAULT_MAX_EVENT_BYTES: Final = 16 * 1024 * 1024

# The C function behind the incremental UTF-8 decoder. Calling it directly, and
# keeping the undecoded tail ourselves, saves a Python-level call per feed.
_utf8_decode = codecs.utf_8_decode


def _utf8_len(text: str) -> int:
    """Length of ``text`` in UTF-8 bytes; O(1) for ASCII text (the usual case)."""
    # Decoded input never holds lone surrogates, so encoding cannot fail.
    return len(text) if text.isascii() else len(text.encode("utf-8"))


class ServerSentEvent:
    """One dispatched server-sent event.

    ``event`` is the event type (``"message"`` unless an ``event`` field named
    another), ``data`` the ``data`` lines joined with LF, ``id`` the last event
    ID at dispatch time (``None`` if the stream never set one; it persists
    from event to event), and ``retry`` the reconnection time in milliseconds
    set by a ``retry`` field of this very event, else ``None``.

    Instances compare and hash by value and are meant to be read-only. This is
    a plain slotted class rather than a frozen ``attrs`` class because it is
    built once per streamed chunk and a frozen ``__init__`` costs nearly three
    times as much.
    """

    __slots__ = ("data", "event", "id", "retry")
    __match_args__ = ("event", "data", "id", "retry")

    event: str
    data: str
    id: str | None
    retry: int | None

    def __init__(
        self,
        event: str = "message",
        data: str = "",
        id: str | None = None,
        retry: int | None = None,
    ) -> None:
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry

    def _key(self) -> tuple[str, str, str | None, int | None]:
        return (self.event, self.data, self.id, self.retry)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"ServerSentEvent(event={self.event!r}, data={self.data!r}, "
            f"id={self.id!r}, retry={self.retry!r})"
        )


class SSEDecoder:
    """Incremental, sans-IO decoder of a ``text/event-stream`` byte stream.

    Call :meth:`feed` with each piece of the body as it arrives and
    :meth:`close` once at its end. One decoder serves one stream.

    ``max_event_bytes`` bounds the memory one event may take. Its size is the
    data buffer as the spec builds it (each ``data`` value plus an LF) plus the
    line being read, in UTF-8 bytes; when that exceeds the limit,
    :class:`~edgee.errors.EventTooLargeError` is raised. The check runs on
    every line and at the end of every feed, so the decoder never holds much
    more than the limit plus one feed. Whether it fires, and after which
    events, does not depend on how the stream is split into feeds.
    """

    __slots__ = (
        "_after_cr",
        "_bare",
        "_closed",
        "_data",
        "_data_bytes",
        "_event_type",
        "_failed",
        "_id",
        "_idle",
        "_last_event_id",
        "_limit",
        "_pending",
        "_pending_bytes",
        "_reconnection_time",
        "_retry",
        "_started",
        "_tail",
    )

    def __init__(self, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        if max_event_bytes < 1:
            raise ValueError(f"max_event_bytes must be at least 1, not {max_event_bytes!r}")
        self._limit = max_event_bytes
        # feed_messages(): message events as their data alone (see there).
        self._bare = False
        # Undecoded bytes: the start of a UTF-8 sequence split across feeds.
        self._tail = b""
        # False until the first character is decoded (the only place a BOM is dropped).
        self._started = False
        # The last feed ended with CR: an LF starting the next one ends no new line.
        self._after_cr = False
        # Pieces of the line not yet terminated, joined once the line ends, so a
        # long line arriving in many feeds costs linear time.
        self._pending: list[str] = []
        self._pending_bytes = 0
        # The spec's buffers: data (as a list of lines), event type, last event ID.
        self._data: list[str] = []
        self._data_bytes = 0
        self._event_type = ""
        self._id: str | None = None
        # A valid `retry` field seen since the last blank line.
        self._retry: int | None = None
        self._reconnection_time: int | None = None
        self._last_event_id = ""
        self._failed = False
        self._closed = False
        # True when nothing is half-read, so feed() may take its fast path. False
        # until the first feed, which must look for a byte order mark.
        self._idle = False

    @property
    def last_event_id(self) -> str:
        """The event source's last event ID string: ``""`` until a blank line follows an ``id``.

        As the spec says, it takes the ``id`` buffer's value at each blank line, whether
        or not an event is dispatched; it is what a reconnecting client sends as
        ``Last-Event-ID``.
        """
        return self._last_event_id

    @property
    def failed(self) -> bool:
        """An event outgrew ``max_event_bytes``: every later call raises that error."""
        return self._failed

    @property
    def retry(self) -> int | None:
        """The reconnection time (ms) most recently set by a ``retry`` field, or ``None``.

        Unlike :attr:`ServerSentEvent.retry` this persists, and also reflects a
        ``retry`` sent in a block without data (which dispatches no event).
        """
        return self._reconnection_time

    def feed(self, data: bytes | bytearray | memoryview) -> list[ServerSentEvent]:
        """Consume the next piece of the stream; return the events it completes.

        ``data`` may be any slice of the stream, even empty or cutting a UTF-8
        sequence or a CRLF in two. An event is returned as soon as its blank
        line is complete (a line ending in CR is complete without waiting for a
        possible LF).

        Raises :class:`~edgee.errors.EventTooLargeError` when an event outgrows
        ``max_event_bytes``. If events completed earlier in the same feed,
        they are returned first and the error is raised by the next call to
        :meth:`feed` or :meth:`close`. Once raised, every later call raises it.
        """
        self._bare = False
        return self._feed(data)  # type: ignore[return-value]  # not bare: events only

    def feed_messages(self, data: bytes | bytearray | memoryview) -> list[ServerSentEvent | str]:
        """Like :meth:`feed`, but an event of type ``message`` comes as its data alone (a ``str``).

        What a consumer that reads only the data of ``message`` events wants
        (a chat-completions stream): it saves building an object per event,
        and per chunk. Other events come as :class:`ServerSentEvent`. Do not
        mix the two methods on one decoder.
        """
        self._bare = True
        return self._feed(data)

    def _feed(self, data: bytes | bytearray | memoryview) -> list[ServerSentEvent | str]:
        if self._idle:
            # Fast path: nothing is half-read but perhaps the start of a line (no
            # data lines, event type, CR or UTF-8 sequence pending), and a gateway
            # usually sends whole `data: {json}\n\n` events.
            text, used = _utf8_decode(data, "replace", False)
            if used != len(data):
                self._tail = bytes(data[used:])
                self._idle = False
            if self._pending:
                if "\n" not in text:
                    # The line goes on (or ends with a CR): no join, so a long line
                    # arriving in many pieces still costs linear time.
                    return self._process(text, []) if text else []
                self._pending.append(text)
                text = "".join(self._pending)
                self._pending = []
                self._pending_bytes = 0
            elif not text:
                return []
            last = len(text) - 1
            quarter_limit = self._limit >> 2
            # The commonest case of all, one `data:` line and its blank line, first.
            if (
                text.find("\n") == last - 1
                and text[last] == "\n"
                and "\r" not in text
                and text.startswith("data: ")
                and last <= quarter_limit
            ):
                self._last_event_id = self._id or ""
                if self._bare:
                    return [text[6:-2]]
                return [ServerSentEvent("message", text[6:-2], self._id)]
            if "\r" in text:
                return self._process(text, [])
            # Many events at once (a busy stream, a buffering proxy). If the text up to
            # its last blank line is nothing but one-line `data: ` events, two C-level
            # passes prove it and one split yields their data: when the LFs in that text
            # are exactly the blank-line pairs, no event has another line.
            end = text.rfind("\n\n")
            if 0 <= end < quarter_limit and text.startswith("data: "):
                datas: list[Any] = text[6:end].split("\n\ndata: ")
                if text.count("\n", 0, end + 2) == 2 * len(datas):
                    self._last_event_id = self._id or ""
                    if not self._bare:
                        last_id = self._id
                        datas = [ServerSentEvent("message", d, last_id) for d in datas]
                    rest = text[end + 2 :]
                    return self._process(rest, datas) if rest else datas
            blocks = text.split("\n\n")
            rest = blocks.pop()  # after the last blank line: "" or the start of an event
            events: list[ServerSentEvent | str] = []
            last_id = self._id
            bare = self._bare
            for i, block in enumerate(blocks):
                # One line, a plain data field, surely within the size limit
                # (UTF-8 needs at most 4 bytes per character): the event itself.
                if block.startswith("data: ") and "\n" not in block and len(block) <= quarter_limit:
                    events.append(
                        block[6:] if bare else ServerSentEvent("message", block[6:], last_id)
                    )
                else:
                    # Anything else: the general path takes over at this block.
                    if events:
                        self._last_event_id = last_id or ""
                    blocks[: i + 1] = [block]
                    blocks.append(rest)
                    return self._process("\n\n".join(blocks), events)
            if events:
                self._last_event_id = last_id or ""
            return self._process(rest, events) if rest else events

        if self._failed:
            raise EventTooLargeError(self._limit)
        if self._closed:
            raise RuntimeError("SSEDecoder.feed() called after close()")
        if self._tail:
            data = self._tail + data
        text, used = _utf8_decode(data, "replace", False)
        self._tail = bytes(data[used:]) if used != len(data) else b""
        if not text:
            return []
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
                if not text:
                    return []
        if self._after_cr:
            self._after_cr = False
            if text[0] == "\n":
                text = text[1:]
                if not text:
                    return []
        return self._process(text, [])

    def _process(
        self, text: str, events: list[ServerSentEvent | str]
    ) -> list[ServerSentEvent | str]:
        """Interpret decoded ``text`` (BOM and a CRLF's split LF already dropped).

        Appends the events it completes to ``events`` and returns that list.
        """
        if "\r" in text:
            # A CR at the very end is a complete line end; remember it so that an
            # LF opening the next feed is not taken for a second one.
            self._after_cr = text[-1] == "\r"
            # CRLF first, so that the pair becomes one LF, then lone CRs. Two C-level
            # passes beat a regex split and keep the loop below LF-only.
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        partial = lines.pop()  # what follows the last line end: "" or an unfinished line
        limit = self._limit
        if not lines:
            # No line end in this piece: the current line just grows.
            self._idle = not (
                self._data
                or self._event_type
                or self._retry is not None
                or self._after_cr
                or self._tail
            )
            self._pending.append(partial)
            self._pending_bytes += _utf8_len(partial)
            if self._data_bytes + self._pending_bytes > limit:
                self._fail()
                if events:
                    return events  # the error comes with the next call
                raise EventTooLargeError(limit)
            return events
        if self._pending:
            self._pending.append(lines[0])
            lines[0] = "".join(self._pending)
            self._pending = []
            self._pending_bytes = 0

        # The buffers live in locals for the loop: attribute access is the cost here.
        data_lines = self._data
        data_bytes = self._data_bytes
        event_type = self._event_type
        last_id = self._id
        retry = self._retry
        last_event_id = self._last_event_id
        bare = self._bare
        for line in lines:
            if not line:
                # Blank line: dispatch (9.2.6 "dispatch the event").
                last_event_id = last_id or ""
                if data_lines:
                    if bare and (not event_type or event_type == "message"):
                        events.append("\n".join(data_lines))
                    else:
                        events.append(
                            ServerSentEvent(
                                event_type or "message", "\n".join(data_lines), last_id, retry
                            )
                        )
                    data_lines = []
                    data_bytes = 0
                event_type = ""
                retry = None
                continue
            # 4 * len bounds the UTF-8 size, so the exact size is rarely needed.
            if data_bytes + 4 * len(line) > limit and data_bytes + _utf8_len(line) > limit:
                self._last_event_id = last_event_id
                self._fail()
                if events:
                    return events
                raise EventTooLargeError(limit)
            if line.startswith("data: "):
                # The hot path: a gateway chunk.
                value = line[6:]
            else:
                colon = line.find(":")
                if colon == 0:
                    continue  # comment
                if colon < 0:
                    field = line
                    value = ""
                else:
                    field = line[:colon]
                    value = line[colon + 1 :]
                    if value.startswith(" "):
                        value = value[1:]
                if field != "data":
                    if field == "event":
                        event_type = value
                    elif field == "id":
                        if "\0" not in value:
                            last_id = value
                    elif field == "retry":
                        retry = self._parse_retry(value, retry)
                    continue
            data_lines.append(value)
            # The +1 is the LF the spec appends to the data buffer.
            data_bytes += (len(value) if value.isascii() else _utf8_len(value)) + 1
        self._data = data_lines
        self._data_bytes = data_bytes
        self._event_type = event_type
        self._id = last_id
        self._retry = retry
        self._last_event_id = last_event_id

        # Idle: the fast path of feed() may take the next piece. A partial line
        # may be pending; it joins the next piece there.
        self._idle = not (
            data_lines or event_type or retry is not None or self._after_cr or self._tail
        )
        if partial:
            self._pending.append(partial)
            self._pending_bytes = _utf8_len(partial)
            if data_bytes + self._pending_bytes > limit:
                self._fail()
                if events:
                    return events
                raise EventTooLargeError(limit)
        else:
            self._idle = not (
                data_lines or event_type or retry is not None or self._after_cr or self._tail
            )
        return events

    def close(self) -> list[ServerSentEvent]:
        """End the stream; return the events still to deliver (always none).

        Flushes the UTF-8 decoder and discards an event that no blank line
        terminated, as the spec requires. Raises the pending
        :class:`~edgee.errors.EventTooLargeError` if :meth:`feed` deferred one.
        Calling it again is harmless.
        """
        if self._failed:
            raise EventTooLargeError(self._limit)
        # A truncated UTF-8 sequence would become U+FFFD at the end of the
        # unterminated line, which is discarded anyway: nothing can complete here.
        self._closed = True
        self._idle = False
        self._tail = b""
        self._pending = []
        self._pending_bytes = 0
        self._data = []
        self._data_bytes = 0
        self._event_type = ""
        self._retry = None
        return []

    def _parse_retry(self, value: str, current: int | None) -> int | None:
        """Apply a ``retry`` field: only a non-empty run of ASCII digits counts."""
        # int() alone would accept "+5", " 5", "1_000" and non-ASCII digits.
        if not (value.isascii() and value.isdigit()):
            return current
        # Leading zeros do not count against int()'s limit on digits.
        digits = value.lstrip("0") or "0"
        try:
            number = int(digits)
        except ValueError:  # over sys.get_int_max_str_digits(): no sane delay anyway
            return current
        self._reconnection_time = number
        return number

    def _fail(self) -> None:
        """Enter the failed state and drop the buffers, freeing the memory."""
        self._failed = True
        self._idle = False
        self._tail = b""
        self._pending = []
        self._pending_bytes = 0
        self._data = []
        self._data_bytes = 0
