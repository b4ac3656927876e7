"""Prototype: a sans-IO decoder of HTTP/1.1 chunked transfer coding (RFC 9112 section 7.1).

Fed any pieces of a chunked body (as ``socket``/``BufferedReader.read1`` hands
them over), it returns the body bytes they complete, at once: a piece that
holds the middle of a chunk yields that middle, so an event is handed on as
soon as its bytes arrive, whatever the HTTP chunking. Strict where it is
cheap: hex digits only in sizes (``int(x, 16)`` alone would take ``0x``,
``_``, ``+``, spaces), CRLF (or a bare LF) after each chunk's data, chunk
extensions and trailers skipped, a size line capped.

Superseded by ``edgee/_chunked.py`` (the tested decoder the sync client uses); kept for
the figures in ``README.md``.
"""

from __future__ import annotations

_HEX = b"0123456789abcdefABCDEF"
_MAX_LINE = 4096  # a size line (with extensions) or a trailer line longer than this is bad


class ChunkedError(ValueError):
    """The body is not valid chunked transfer coding."""


class ChunkedDecoder:
    """State: bytes left in the current chunk's data, then its CRLF, then a size line."""

    __slots__ = ("_crlf", "_left", "_line", "_trailers", "done", "extra")

    def __init__(self) -> None:
        self._left = 0  # data bytes still to come in the current chunk
        self._crlf = b""  # the part of the CRLF after the current chunk's data still to come
        self._line = b""  # a size (or trailer) line cut by the end of a piece
        self._trailers = False  # after the last (zero-size) chunk
        self.done = False  # the terminating blank line was read
        self.extra = b""  # bytes after the end of the body (a pipelined reply: should not be)

    def feed(self, data: bytes) -> bytes:
        """Consume one piece; return the body bytes in it (possibly ``b""``)."""
        if self._line:
            data = self._line + data
            self._line = b""
        end = len(data)
        left = self._left
        # The common case: a piece that is exactly the rest of one chunk and its CRLF,
        # or whole chunks, each "size\r\n" + data + "\r\n".
        if left and not self._crlf and end == left + 2 and data.endswith(b"\r\n"):
            self._left = 0
            return data[:left]
        out: list[bytes] = []
        pos = 0
        while pos < end:
            if left:
                stop = pos + left
                if stop >= end:
                    out.append(data[pos:] if pos else data)
                    left = stop - end
                    if not left:
                        self._crlf = b"\r\n"
                    pos = end
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
                # Fast path: whole "size CRLF data CRLF" chunks; the sizes' digits are
                # checked once per piece (int() alone would take "0x", "_", "+", " ").
                find = data.find
                append = out.append
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
                        break  # extensions, a bad size: the general path below
                    if stop <= start or data[stop : stop + 2] != b"\r\n":
                        break  # the last chunk, or data cut by the end of the piece
                    fields.append(field)
                    append(data[start:stop])
                    pos = stop + 2
                if fields and b"".join(fields).translate(None, _HEX):
                    raise ChunkedError(f"bad chunk size among {fields!r}")
                if pos >= end:
                    break
            nl = data.find(b"\n", pos)
            if nl < 0:
                if end - pos > _MAX_LINE:
                    raise ChunkedError("chunk size line too long")
                self._line = data[pos:]
                break
            if nl - pos > _MAX_LINE:
                raise ChunkedError("chunk size line too long")
            line = data[pos:nl]
            pos = nl + 1
            if self._trailers:
                if line in (b"", b"\r"):
                    self.done = True
                    self.extra = data[pos:]
                    break
                continue  # a trailer field: ignored
            size = line.split(b";", 1)[0].rstrip(b"\r").strip(b" \t")
            if not size or size.translate(None, _HEX) or len(size) > 16:
                raise ChunkedError(f"bad chunk size line: {line!r}")
            left = int(size, 16)
            if not left:
                self._trailers = True
        self._left = left
        if len(out) == 1:
            return out[0]
        return b"".join(out)
