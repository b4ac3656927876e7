"""A sans-IO decoder of HTTP/1.1 chunked transfer coding (RFC 9112, section 7.1).

The sync client reads a chunked stream's body straight from the socket's
buffered file and undoes the framing here: one Python call per socket read
instead of one trip through urllib3 and ``http.client`` per HTTP chunk (a
gateway flushes every event as its own chunk). Fed any pieces of a body, it
returns the body bytes they hold at once, so a piece that ends mid-chunk
still hands its bytes on.

Strict where it is cheap: hex digits only in sizes (``int(x, 16)`` alone
would take ``0x``, ``_``, ``+``, spaces), CRLF (or a bare LF) after each
chunk's data, size and trailer lines capped; chunk extensions and trailer
fields are skipped. Bad framing raises :class:`ChunkedError`.
"""

from __future__ import annotations

__all__ = ["MAX_LINE", "ChunkedDecoder", "ChunkedError"]

_HEX = b"0123456789abcdefABCDEF"
# A size line (with extensions) or a trailer line longer than this is bad framing,
# and so are trailers longer than MAX_TRAILERS in all.
MAX_LINE = 4096
MAX_TRAILERS = 64 * 1024


class ChunkedError(ValueError):
    """The body is not valid chunked transfer coding (the transport makes it a
    connection error: the connection cannot be trusted any further)."""


class ChunkedDecoder:
    """Pieces of a chunked body in, body bytes out.

    State: bytes left in the current chunk's data, then its CRLF, then a size
    line; after the last (zero-size) chunk, trailer lines up to a blank one.
    :attr:`done` is set once that blank line was read; :attr:`extra` holds
    any bytes after it (a well-behaved server sends none).
    """

    __slots__ = (
        "_crlf",
        "_left",
        "_line",
        "_trailer_bytes",
        "_trailers",
        "done",
        "error",
        "extra",
    )

    def __init__(self) -> None:
        self._left = 0  # data bytes still to come in the current chunk
        self._crlf = b""  # the part of the CRLF after the current chunk's data still to come
        self._line = b""  # a size (or trailer) line cut by the end of a piece
        self._trailers = False  # after the last (zero-size) chunk
        self._trailer_bytes = 0
        self.done = False
        self.extra = b""
        #: Bad framing met after some body bytes of a piece: those bytes were
        #: returned, and every later :meth:`feed` raises this.
        self.error: ChunkedError | None = None

    def feed(self, data: bytes) -> bytes:
        """Consume one piece; return the body bytes in it (possibly ``b""``).

        Raises :class:`ChunkedError` on bad framing; when the piece held body
        bytes before it, they are returned first and the next call raises.
        """
        if self.error is not None:
            raise self.error
        out: list[bytes] = []
        try:
            return self._feed(data, out)
        except ChunkedError as exc:
            if not any(out):
                raise
            self.error = exc
            return b"".join(out)

    def _feed(self, data: bytes, out: list[bytes]) -> bytes:
        if self.done:
            self.extra += data
            return b""
        if self._line:
            data = self._line + data
            self._line = b""
        end = len(data)
        left = self._left
        # The common case: a piece that is exactly the rest of one chunk and its CRLF.
        if left and not self._crlf and end == left + 2 and data.endswith(b"\r\n"):
            self._left = 0
            return data[:left]
        pos = 0
        while pos < end:
            if left:
                stop = pos + left
                if stop >= end:
                    out.append(data[pos:] if pos else data)
                    left = stop - end
                    if not left:
                        self._crlf = b"\r\n"
                    break
                out.append(data[pos:stop])
                pos = stop
                left = 0
                self._crlf = b"\r\n"
            if self._crlf:
                want = self._crlf
                got = data[pos : pos + len(want)]
                if want.startswith(got):  # CRLF, or its start at the end of the piece
                    pos += len(got)
                    self._crlf = want[len(got) :]
                elif got[:1] == b"\n" and want == b"\r\n":  # a bare LF, tolerated
                    pos += 1
                    self._crlf = b""
                else:
                    raise ChunkedError(f"no CRLF after chunk data: {got!r}")
                continue
            if not self._trailers:
                pos = self._whole_chunks(data, pos, out)
                if pos >= end:
                    break
            nl = data.find(b"\n", pos)
            if nl < 0:
                if end - pos > MAX_LINE:
                    raise ChunkedError("chunk size or trailer line too long")
                self._line = data[pos:]
                break
            if nl - pos > MAX_LINE:
                raise ChunkedError("chunk size or trailer line too long")
            line = data[pos:nl]
            pos = nl + 1
            if self._trailers:
                if line in (b"", b"\r"):
                    self.done = True
                    self.extra = data[pos:]
                    break
                self._trailer_bytes += len(line) + 1
                if self._trailer_bytes > MAX_TRAILERS:
                    raise ChunkedError("trailers too long")
                continue  # a trailer field: ignored
            size, ext, _ = line.partition(b";")
            # Whitespace is allowed only before an extension (RFC 9112's BWS).
            size = size.rstrip(b" \t") if ext else size.rstrip(b"\r")
            if not size or size.translate(None, _HEX) or len(size) > 16:
                raise ChunkedError(f"bad chunk size line: {line[:64]!r}")
            left = int(size, 16)
            if not left:
                self._trailers = True
        self._left = left
        if len(out) == 1:
            return out[0]
        return b"".join(out)

    @staticmethod
    def _whole_chunks(data: bytes, pos: int, out: list[bytes]) -> int:
        """The fast path: whole ``size CRLF data CRLF`` chunks from ``pos``; returns
        where it stopped (a size line it leaves to the general path, or the end).

        The sizes' digits are checked once per piece, not once per chunk.
        """
        find = data.find
        append = out.append
        first, begin = len(out), pos
        fields = []
        while True:
            nl = find(b"\r\n", pos)
            if nl < 0 or nl - pos > 16:
                break
            field = data[pos:nl]
            start = nl + 2
            try:
                stop = start + int(field, 16)
            except ValueError:
                break  # extensions, a bad size: the general path decides
            if stop <= start or data[stop : stop + 2] != b"\r\n":
                break  # the last chunk, a bad size, or data cut by the end of the piece
            fields.append(field)
            append(data[start:stop])
            pos = stop + 2
        if fields and b"".join(fields).translate(None, _HEX):
            # A size int() took but the grammar does not: undo, and let the general
            # path go chunk by chunk, so only the chunks before the bad one count.
            del out[first:]
            return begin
        return pos
