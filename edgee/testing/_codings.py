"""Content codings the gateway can answer with: ``gzip`` and ``deflate`` (standard zlib).

A whole body is compressed at once; a stream is compressed piece by piece with a sync flush
after each piece, so the compressed bytes of one SSE event are complete on the wire when
that event is sent: a client that decodes incrementally can deliver each chunk as soon as
its bytes arrive. HTTP's ``deflate`` is the zlib format (RFC 9110 8.4.1.2), not raw
deflate. ``br`` is not offered (it would need a dependency).
"""

from __future__ import annotations

import zlib
from typing import Protocol

__all__ = [
    "CODINGS",
    "Compressor",
    "check_coding",
    "compress_piece",
    "compress_whole",
    "new_compressor",
]

# zlib's wbits: 16 + 15 writes a gzip wrapper, 15 a zlib wrapper.
_WBITS = {"gzip": 31, "deflate": 15}
CODINGS = tuple(_WBITS)


class Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...

    def flush(self, mode: int = ..., /) -> bytes: ...


def check_coding(coding: str | None) -> str | None:
    """`coding` if the gateway can produce it; ``"identity"`` means none (``None``)."""
    if coding is None or coding == "identity":
        return coding
    if coding not in _WBITS:
        raise ValueError(f"content_encoding must be one of {', '.join(CODINGS)} or 'identity'")
    return coding


def new_compressor(coding: str) -> Compressor:
    return zlib.compressobj(wbits=_WBITS[coding])


def compress_whole(data: bytes, coding: str) -> bytes:
    compressor = new_compressor(coding)
    return compressor.compress(data) + compressor.flush()


def compress_piece(compressor: Compressor, data: bytes) -> bytes:
    """`data` compressed and flushed: decodable as soon as it is received."""
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
