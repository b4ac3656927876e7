"""edgee._content_coding: incremental, bounded decoding of every advertised coding."""

from __future__ import annotations

import gzip
import itertools
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgee._content_coding import (
    ACCEPT_ENCODING,
    ContentDecodingError,
    decoder_for,
    parse_content_encoding,
)
from edgee.errors import EdgeeError


def gzip_flushed(pieces: list[bytes]) -> list[bytes]:
    """Each piece compressed and flushed on its own, as a streaming server does."""
    obj = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    out = [obj.compress(p) + obj.flush(zlib.Z_SYNC_FLUSH) for p in pieces]
    out[-1] += obj.flush()
    return out


def test_accept_encoding_is_what_is_decoded() -> None:
    assert ACCEPT_ENCODING == "gzip, deflate"
    for coding in ("gzip", "deflate", "identity", "GZIP", "x-gzip"):
        parse_content_encoding(coding)
    for coding in ("br", "zstd", "compress"):
        with pytest.raises(ContentDecodingError, match=repr(coding)):
            parse_content_encoding(coding)


def test_errors_are_edgee_errors() -> None:
    assert issubclass(ContentDecodingError, EdgeeError)


def test_each_flushed_piece_decodes_when_it_arrives() -> None:
    events = [b'data: {"n": %d}\n\n' % i for i in range(5)]
    decoder = decoder_for("gzip")
    for event, compressed in zip(events, gzip_flushed(events), strict=True):
        assert b"".join(decoder.feed(compressed)) == event
    assert b"".join(decoder.finish()) == b""


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_zlib_and_raw(wbits: int) -> None:
    obj = zlib.compressobj(wbits=wbits)
    body = b"hello " * 1000
    data = obj.compress(body) + obj.flush()
    decoder = decoder_for("deflate")
    # One byte at a time: the zlib-or-raw choice waits for two bytes.
    out = b"".join(b"".join(decoder.feed(data[i : i + 1])) for i in range(len(data)))
    assert out + b"".join(decoder.finish()) == body


def test_identity_and_none_pass_through() -> None:
    for value in (None, "", "identity"):
        decoder = decoder_for(value)
        assert decoder.identity
        assert decoder.decode_all(b"abc") == b"abc"


def test_layers_decode_in_reverse_order() -> None:
    body = b'{"a": 1}'
    data = gzip.compress(zlib.compress(body))
    assert decoder_for("deflate, gzip").decode_all(data) == body


def test_concatenated_gzip_members_and_trailing_padding() -> None:
    data = gzip.compress(b"one ") + gzip.compress(b"two") + b"\x00\x00"
    assert decoder_for("gzip").decode_all(data) == b"one two"


def test_bomb_is_cut_into_bounded_pieces() -> None:
    bomb = gzip.compress(b"\x00" * (64 * 1024 * 1024))  # 64 MiB from ~64 KiB
    decoder = decoder_for("gzip", max_output=1024 * 1024)
    pieces = decoder.feed(bomb)
    first = next(pieces)
    assert len(first) <= 1024 * 1024
    total = len(first) + sum(len(p) for p in pieces)  # lazily: never all at once
    assert total == 64 * 1024 * 1024


def test_corrupt_data_is_a_clear_error() -> None:
    with pytest.raises(ContentDecodingError, match="not valid gzip data") as info:
        decoder_for("gzip").decode_all(b"\x1f\x8b\x08\x00garbage-garbage-garbage")
    assert info.value.coding == "gzip"


def test_truncated_compressed_body_is_an_error() -> None:
    data = gzip.compress(b"x" * 10000)
    with pytest.raises(ContentDecodingError, match="ended before"):
        decoder_for("gzip").decode_all(data[: len(data) // 2])
    with pytest.raises(ContentDecodingError, match="ended after 1 byte"):
        decoder_for("deflate").decode_all(b"x")


def test_empty_body_with_a_coding_is_empty() -> None:
    assert decoder_for("gzip").decode_all(b"") == b""


def test_too_many_layers_refused() -> None:
    with pytest.raises(ContentDecodingError, match="layers"):
        parse_content_encoding(", ".join(["gzip"] * 5))


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=5000), cuts=st.lists(st.integers(0, 6000), max_size=8))
def test_any_split_decodes_the_same(body: bytes, cuts: list[int]) -> None:
    data = gzip.compress(body)
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    decoder = decoder_for("gzip", max_output=100)
    out = b""
    for start, end in itertools.pairwise(bounds):
        for piece in decoder.feed(data[start:end]):
            assert len(piece) <= 100
            out += piece
    assert out + b"".join(decoder.finish()) == body
