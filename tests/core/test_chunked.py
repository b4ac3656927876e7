"""The sans-IO chunked-transfer decoder, on bytes: every split point, bad framings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgee._chunked import MAX_LINE, ChunkedDecoder, ChunkedError


def encode(
    chunks: list[bytes],
    *,
    extensions: bool = False,
    trailers: list[bytes] | None = None,
    upper: bool = False,
) -> bytes:
    out = []
    for data in chunks:
        size = f"{len(data):X}" if upper else f"{len(data):x}"
        ext = ";name=value; other" if extensions else ""
        out.append(f"{size}{ext}\r\n".encode() + data + b"\r\n")
    out.append(b"0;last\r\n" if extensions else b"0\r\n")
    out.extend(line + b"\r\n" for line in trailers or [])
    out.append(b"\r\n")
    return b"".join(out)


def decode(pieces: list[bytes]) -> tuple[bytes, ChunkedDecoder]:
    decoder = ChunkedDecoder()
    body = b"".join(decoder.feed(piece) for piece in pieces)
    decoder.feed(b"")  # raises bad framing held back behind the bytes before it
    return body, decoder


EVENTS = [b'data: {"a": 1}\n\n', b"data: [DONE]\n\n", b"x" * 300, b"\r\n", b"0\r\n\r\n"]


@pytest.mark.parametrize("extensions", [False, True])
@pytest.mark.parametrize("trailers", [None, [b"X-Checksum: abc", b"Y: 2"]])
def test_every_split_point_gives_the_same_body(
    extensions: bool, trailers: list[bytes] | None
) -> None:
    wire = encode(EVENTS, extensions=extensions, trailers=trailers)
    for cut in range(len(wire) + 1):
        body, decoder = decode([wire[:cut], wire[cut:]])
        assert body == b"".join(EVENTS), cut
        assert decoder.done and decoder.extra == b"", cut


def test_every_two_split_points_on_a_small_body() -> None:
    wire = encode([b"ab", b"c\r\nd"], extensions=True, trailers=[b"T: 1"])
    for i in range(len(wire) + 1):
        for j in range(i, len(wire) + 1):
            body, decoder = decode([wire[:i], wire[i:j], wire[j:]])
            assert body == b"abc\r\nd" and decoder.done, (i, j)


def test_byte_by_byte_hands_each_byte_on_at_once() -> None:
    wire = encode([b"hello", b"world"])
    decoder = ChunkedDecoder()
    outs = [decoder.feed(wire[i : i + 1]) for i in range(len(wire))]
    assert b"".join(outs) == b"helloworld"
    # The data bytes come out as soon as they are fed, one by one.
    assert [o for o in outs if o] == [bytes([c]) for c in b"helloworld"]
    assert decoder.done


def test_a_piece_ending_mid_chunk_yields_its_bytes() -> None:
    decoder = ChunkedDecoder()
    assert decoder.feed(b"a\r\n0123") == b"0123"
    assert decoder.feed(b"456789\r\n0\r\n\r\n") == b"456789"
    assert decoder.done


def test_uppercase_hex_and_leading_zeros() -> None:
    body, decoder = decode([b"00A\r\n" + b"z" * 10 + b"\r\n0000\r\n\r\n"])
    assert body == b"z" * 10 and decoder.done
    body, _ = decode([encode([b"y" * 255], upper=True)])
    assert body == b"y" * 255


def test_bare_lf_line_ends_are_tolerated() -> None:
    body, decoder = decode([b"3\nabc\n0\n\n"])
    assert body == b"abc" and decoder.done


def test_whitespace_before_an_extension_is_allowed() -> None:
    body, decoder = decode([b"3 ;x=1\r\nabc\r\n0\r\n\r\n"])
    assert body == b"abc" and decoder.done


def test_bytes_after_the_body_are_kept_as_extra() -> None:
    body, decoder = decode([encode([b"abc"]) + b"HTTP/1.1 200", b" OK"])
    assert body == b"abc" and decoder.done
    assert decoder.extra == b"HTTP/1.1 200 OK"


def test_not_done_until_the_final_blank_line() -> None:
    decoder = ChunkedDecoder()
    assert decoder.feed(b"3\r\nabc\r\n0\r\n") == b"abc"
    assert not decoder.done
    decoder.feed(b"Trailer: x\r\n")
    assert not decoder.done
    decoder.feed(b"\r\n")
    assert decoder.done


@pytest.mark.parametrize(
    "wire",
    [
        b"0x3\r\nabc\r\n0\r\n\r\n",  # int(x, 16) would take these
        b"+3\r\nabc\r\n0\r\n\r\n",
        b"-3\r\nabc\r\n0\r\n\r\n",
        b"1_0\r\n" + b"a" * 16 + b"\r\n0\r\n\r\n",
        b" 3\r\nabc\r\n0\r\n\r\n",
        b"3 \r\nabc\r\n0\r\n\r\n",
        b"\r\nabc\r\n",  # no size at all
        b"g\r\nabc\r\n",
        b";ext\r\nabc\r\n",
        b"3\r\nabcX\r\n",  # no CRLF after the data
        b"3\r\nabc\rX",
        b"11111111111111111\r\n",  # more than 16 hex digits
        b"\xff\r\n",
    ],
)
def test_bad_framing_raises_chunked_error(wire: bytes) -> None:
    with pytest.raises(ChunkedError):
        decode([wire])
    # ... at whatever split point.
    for cut in range(len(wire) + 1):
        with pytest.raises(ChunkedError):
            decode([wire[:cut], wire[cut:]])


def test_a_size_line_without_end_is_capped() -> None:
    decoder = ChunkedDecoder()
    decoder.feed(b"3;" + b"e" * (MAX_LINE // 2))
    with pytest.raises(ChunkedError, match="too long"):
        decoder.feed(b"e" * MAX_LINE)


def test_a_long_extension_line_is_capped() -> None:
    with pytest.raises(ChunkedError, match="too long"):
        decode([b"3;" + b"e" * (MAX_LINE + 10) + b"\r\nabc\r\n"])


def test_endless_trailers_are_capped() -> None:
    decoder = ChunkedDecoder()
    decoder.feed(b"0\r\n")
    with pytest.raises(ChunkedError, match="trailers too long"):
        for _ in range(100_000):
            decoder.feed(b"X-Filler: " + b"f" * 100 + b"\r\n")


def test_chunked_error_is_a_value_error_with_the_bad_bytes() -> None:
    with pytest.raises(ValueError, match="zz"):
        decode([b"zz\r\n"])


bodies = st.lists(st.binary(max_size=300), max_size=12).map(
    lambda chunks: [c for c in chunks if c]  # a zero-size chunk ends the body
)


@settings(max_examples=300, deadline=None)
@given(
    chunks=bodies,
    extensions=st.booleans(),
    upper=st.booleans(),
    trailers=st.lists(st.from_regex(rb"\A[A-Za-z-]{1,10}: [ -~]{0,20}\Z"), max_size=3),
    cuts=st.lists(st.integers(min_value=0), max_size=8),
)
def test_any_chunking_and_any_cuts_give_the_body(
    chunks: list[bytes], extensions: bool, upper: bool, trailers: list[bytes], cuts: list[int]
) -> None:
    wire = encode(chunks, extensions=extensions, trailers=trailers, upper=upper)
    points = sorted({c % (len(wire) + 1) for c in cuts})
    pieces = [wire[a:b] for a, b in zip([0, *points], [*points, len(wire)], strict=True)]
    body, decoder = decode(pieces)
    assert body == b"".join(chunks)
    assert decoder.done and decoder.extra == b""


@settings(max_examples=500, deadline=None)
@given(
    wire=st.binary(max_size=200)
    | st.lists(
        st.sampled_from([b"3", b"0", b"a", b"\r\n", b"\n", b";x", b"abc", b" ", b"0x", b"Z"]),
        max_size=20,
    ).map(b"".join),
    cut=st.integers(min_value=0),
)
def test_arbitrary_bytes_decode_or_raise_chunked_error_only(wire: bytes, cut: int) -> None:
    cut %= len(wire) + 1
    decoder = ChunkedDecoder()
    try:
        body = decoder.feed(wire[:cut]) + decoder.feed(wire[cut:])
    except ChunkedError:
        return
    # What came out is never more than what went in.
    assert len(body) <= len(wire)


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=2**20).map(lambda n: f"{n:x}".encode()),
    junk=st.sampled_from([b"0x", b"+", b"-", b"_", b" ", b"\t", b"g", b"\xa0"]),
    where=st.integers(min_value=0),
)
def test_any_junk_in_a_size_raises(size: bytes, junk: bytes, where: int) -> None:
    where %= len(size) + 1
    bad = size[:where] + junk + size[where:]
    with pytest.raises(ChunkedError):
        decode([bad + b"\r\n" + b"x" * int(size, 16) + b"\r\n0\r\n\r\n"])


def test_no_byte_of_a_chunk_with_a_bad_size_comes_out() -> None:
    # The fast path parses sizes with int() and checks their digits afterwards.
    decoder = ChunkedDecoder()
    assert decoder.feed(b"3\r\nabc\r\n0x2\r\nde\r\n1\r\nf\r\n") == b"abc"
    with pytest.raises(ChunkedError, match="0x2"):
        decoder.feed(b"")


def test_body_bytes_before_bad_framing_come_first_then_the_error() -> None:
    decoder = ChunkedDecoder()
    assert decoder.feed(b"3\r\nabc\r\n2\r\nde\r\nzz\r\n") == b"abcde"
    with pytest.raises(ChunkedError, match="zz"):
        decoder.feed(b"more")
    with pytest.raises(ChunkedError):  # sticky
        decoder.feed(b"")
