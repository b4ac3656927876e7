"""Content codings (``Content-Encoding``): incremental, bounded decoders, sans-IO.

Both transports advertise :data:`ACCEPT_ENCODING` and decode every response
body through :func:`decoder_for`, so a compressed event stream and a
compressed whole body are decoded the same way on both clients:

* incrementally: :meth:`Decoder.feed` returns the decoded bytes of whatever
  compressed bytes arrived, so an event is delivered as soon as its
  compressed piece is in (a server that flushes per event is seen per event);
* bounded: one compressed piece can expand to at most ``max_output`` decoded
  bytes per :meth:`Decoder.feed` result piece (a decompression bomb is cut into
  pieces for the caller's own caps — the SSE event cap, the body caps of
  :mod:`edgee._framing` — to refuse, instead of being inflated at once);
* only what is advertised: ``gzip`` (and its alias ``x-gzip``), ``deflate``
  (zlib-wrapped, or raw DEFLATE as some servers send it) and ``identity``.
  ``br`` and ``zstd`` would need a new runtime dependency and are neither
  advertised nor accepted.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from edgee.errors import ContentDecodingError

__all__ = [
    "ACCEPT_ENCODING",
    "DEFAULT_MAX_OUTPUT",
    "SUPPORTED_CODINGS",
    "ContentDecodingError",
    "Decoder",
    "decoder_for",
    "parse_content_encoding",
]

# The decoded bytes one step may produce. 64 KiB keeps a bomb's expansion per
# step small while a normal body decodes in few steps.
DEFAULT_MAX_OUTPUT = 64 * 1024
# Layers of coding accepted on one body ("gzip, gzip" is legal; fifty is an attack).
_MAX_LAYERS = 4
_GZIP_MAGIC = b"\x1f\x8b"


class _Layer:
    """One coding's decoder; subclasses decode into bounded pieces."""

    name = "identity"

    def decode(self, data: bytes, max_output: int) -> Iterator[bytes]:
        if data:
            yield data

    def finish(self) -> Iterator[bytes]:
        return iter(())


class _Zlib(_Layer):
    """gzip and deflate: zlib's decompressobj, drained ``max_output`` bytes at a time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._obj: zlib._Decompress | None = None
        self._head = b""  # deflate: bytes held until the zlib-or-raw choice is made
        self._ended = False  # a whole compressed stream (member) was decoded
        self._seen_input = False

    def _new(self, first: bytes) -> zlib._Decompress:
        if self.name == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        # RFC 9110 "deflate" is the zlib format; some servers send raw DEFLATE.
        # A zlib stream starts with CMF/FLG: method 8 and a multiple of 31.
        if (first[0] & 0x0F) == 8 and ((first[0] << 8) | first[1]) % 31 == 0:
            return zlib.decompressobj(zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS)

    def _fail(self, exc: Exception) -> ContentDecodingError:
        return ContentDecodingError(
            f"the response body is not valid {self.name} data "
            f"(Content-Encoding: {self.name}): {exc}",
            coding=self.name,
        )

    def decode(self, data: bytes, max_output: int) -> Iterator[bytes]:
        if not data:
            return
        self._seen_input = True
        if self._obj is None:
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return
            self._head = b""
            self._obj = self._new(data)
        while data:
            if self._ended:
                # After a complete stream: another gzip member continues the body
                # (RFC 1952); anything else (padding, junk) is dropped, as browsers do.
                if self.name == "gzip" and data[:2] == _GZIP_MAGIC:
                    self._obj, self._ended = self._new(data), False
                else:
                    return
            obj = self._obj
            try:
                out = obj.decompress(data, max_output)
                if out:
                    yield out
                # Drain what max_output held back, one bounded piece per step.
                while obj.unconsumed_tail and not obj.eof:
                    out = obj.decompress(obj.unconsumed_tail, max_output)
                    if out:
                        yield out
            except zlib.error as exc:
                raise self._fail(exc) from exc
            if obj.eof:
                self._ended = True
                data = obj.unused_data
            else:
                data = b""

    def finish(self) -> Iterator[bytes]:
        if not self._seen_input:
            return  # an empty body is an empty body, whatever its header says
        if self._obj is None:
            raise ContentDecodingError(
                f"the {self.name}-coded response body ended after {len(self._head)} byte(s)",
                coding=self.name,
            )
        if not self._ended:
            try:
                out = self._obj.flush()
            except zlib.error as exc:  # pragma: no cover - flush reports via eof
                raise self._fail(exc) from exc
            if out:
                yield out
            raise ContentDecodingError(
                f"the {self.name}-coded response body ended before its compressed data did",
                coding=self.name,
            )


_FACTORIES = {
    "gzip": lambda: _Zlib("gzip"),
    "x-gzip": lambda: _Zlib("gzip"),
    "deflate": lambda: _Zlib("deflate"),
    "identity": _Layer,
}

SUPPORTED_CODINGS = ("gzip", "deflate")
#: The ``Accept-Encoding`` both clients send: exactly the codings decoded here.
ACCEPT_ENCODING = ", ".join(SUPPORTED_CODINGS)


def parse_content_encoding(value: str | None) -> list[str]:
    """The codings of a ``Content-Encoding`` value, in the order they were applied.

    Names are case-insensitive; empty members and ``identity`` are dropped.
    Raises :class:`ContentDecodingError` for a coding this module cannot decode.
    """
    if not value:
        return []
    codings = [c.strip().lower() for c in value.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    for coding in codings:
        if coding not in _FACTORIES:
            raise ContentDecodingError(
                f"the server answered with Content-Encoding {coding!r}, which this client "
                f"did not ask for (it accepts {ACCEPT_ENCODING})",
                coding=coding,
            )
    if len(codings) > _MAX_LAYERS:
        raise ContentDecodingError(
            f"the response body has {len(codings)} layers of Content-Encoding "
            f"(at most {_MAX_LAYERS} are decoded)",
            coding=codings[0],
        )
    return codings


class Decoder:
    """Decodes one response body, piece by piece, per its ``Content-Encoding``.

    Feed it the body bytes as they arrive; iterate over what :meth:`feed`
    returns (each piece at most ``max_output`` bytes); call :meth:`finish` at
    the end of the body, which raises :class:`ContentDecodingError` if the
    compressed data was cut short. ``identity`` is true when nothing needs
    decoding, so a caller may skip the decoder entirely.
    """

    __slots__ = ("_layers", "identity", "max_output")

    def __init__(self, codings: list[str], max_output: int = DEFAULT_MAX_OUTPUT) -> None:
        # Codings are listed in the order applied: decode the last one first.
        self._layers = [_FACTORIES[c]() for c in reversed(codings)]
        self.identity = not self._layers
        self.max_output = max_output

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces of ``data`` (lazily produced: consume them as they come)."""
        return self._through(0, data)

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        if index == len(self._layers):
            if data:
                yield data
            return
        for piece in self._layers[index].decode(data, self.max_output):
            yield from self._through(index + 1, piece)

    def finish(self) -> Iterator[bytes]:
        """The body ended: the last decoded pieces; raises if the data was cut short."""
        return self._finish(0)

    def _finish(self, index: int) -> Iterator[bytes]:
        if index == len(self._layers):
            return
        for piece in self._layers[index].finish():
            yield from self._through(index + 1, piece)
        yield from self._finish(index + 1)

    def decode_all(self, data: bytes) -> bytes:
        """A whole body at once (the caller caps ``data`` and the result's use)."""
        return b"".join([*self.feed(data), *self.finish()])


def decoder_for(content_encoding: str | None, max_output: int = DEFAULT_MAX_OUTPUT) -> Decoder:
    """The :class:`Decoder` for a response's ``Content-Encoding`` header value (or ``None``)."""
    return Decoder(parse_content_encoding(content_encoding), max_output)
