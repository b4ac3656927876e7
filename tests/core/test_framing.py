"""edgee._framing: ambiguous framing refused, bounded bodies, latin-1 header values."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgee._framing import (
    ERROR_BODY_CAP,
    JSON_INSTEAD_OF_STREAM_CAP,
    BoundedBody,
    FramingError,
    check_framing,
    latin1,
    read_framing,
)
from edgee.errors import EdgeeError

CL = "Content-Length"
TE = "Transfer-Encoding"


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ([(CL, "10"), (TE, "chunked")], "both Content-Length and Transfer-Encoding"),
        ([(CL, "10"), (CL, "11")], "conflicting"),
        ([(CL, "10, 11")], "conflicting"),
        ([(CL, "-1")], "not a number"),
        ([(CL, "+5")], "not a number"),
        ([(CL, "1_0")], "not a number"),
        ([(CL, "")], "not a number"),
        ([(CL, "\u0661")], "not a number"),  # an Arabic-Indic digit: str.isdigit() says yes
        ([(TE, "chunked, gzip")], "does not end in one chunked"),
        ([(TE, "chunked, chunked")], "does not end in one chunked"),
        ([(b"content-length", b"5"), (b"transfer-encoding", b"chunked")], "both"),
    ],
)
def test_ambiguous_framing_refused(headers: list[tuple[str, str]], why: str) -> None:
    with pytest.raises(FramingError, match=why) as info:
        check_framing(502, headers, request_id="req-1")
    assert info.value.status_code == 502 and info.value.request_id == "req-1"
    assert "connection closed" in str(info.value)
    assert isinstance(info.value, EdgeeError)


def test_unambiguous_framing() -> None:
    assert check_framing(200, [(CL, "10"), (CL, "10")]).length == 10
    assert check_framing(200, [(CL, "10, 10")]).length == 10
    framing = check_framing(200, [("transfer-encoding", "gzip, Chunked")])
    assert framing.chunked and framing.length is None
    framing = check_framing(200, [("Content-Type", "text/event-stream")])
    assert not framing.chunked and framing.length is None  # until close
    # No body: nothing to be ambiguous about.
    assert check_framing(204, [(CL, "10"), (TE, "chunked")]).length == 0
    assert check_framing(103, [("Link", "</a>")]).length == 0


def test_bounded_body_keeps_the_cap_and_says_it_dropped_the_rest() -> None:
    body = BoundedBody(cap=10, seconds=math.inf)
    assert body.want() == 11
    assert body.feed(b"12345")
    assert body.want() == 6
    assert not body.feed(b"6789012345")
    assert body.truncated and body.body() == b"1234567890" and body.size == 10
    assert not body.feed(b"more") and body.want() == 0


def test_bounded_body_exact_cap_is_not_truncated() -> None:
    body = BoundedBody(cap=4, seconds=math.inf)
    assert body.feed(b"abcd") and not body.truncated
    assert body.body() == b"abcd"


def test_bounded_body_time_budget() -> None:
    now = [100.0]
    body = BoundedBody(cap=1000, seconds=5.0, clock=lambda: now[0])
    assert body.feed(b"a") and body.remaining() == 5.0
    now[0] = 105.0
    assert not body.feed(b"b")
    assert body.truncated and body.body() == b"ab"


def test_documented_caps() -> None:
    assert ERROR_BODY_CAP == 64 * 1024
    assert JSON_INSTEAD_OF_STREAM_CAP == 16 * 1024 * 1024


def test_latin1_same_text_for_same_bytes_on_both_views() -> None:
    wire = b"req-\xe9\xff"
    http_client_view = wire.decode("latin-1")
    aiohttp_view = wire.decode("utf-8", "surrogateescape")
    assert latin1(wire) == latin1(http_client_view) == latin1(aiohttp_view) == "req-\xe9\xff"
    assert latin1("plain") == "plain"


def test_parser_refusals_read_as_framing_errors() -> None:
    import aiohttp.http_exceptions
    import requests
    import urllib3.exceptions

    from edgee._framing import framing_error_from_parser

    aio = aiohttp.http_exceptions.BadHttpMessage("Duplicate Content-Length")
    wrapped = OSError("outer")
    wrapped.__cause__ = aio
    error = framing_error_from_parser(wrapped)
    assert isinstance(error, FramingError) and "Duplicate Content-Length" in str(error)
    inner = urllib3.exceptions.InvalidHeader("Content-Length contained multiple unmatching values")
    assert framing_error_from_parser(requests.exceptions.InvalidHeader(inner)) is not None
    other = aiohttp.http_exceptions.BadHttpMessage("Invalid method encountered")
    assert framing_error_from_parser(other) is None
    assert framing_error_from_parser(OSError("Content-Length")) is None


def _reference_framing(headers: list[tuple[Any, Any]]) -> tuple[list[str], list[str]]:
    """What check_framing reads from a header list, the obvious way: every name decoded."""
    lengths: list[str] = []
    codings: list[str] = []
    for raw_name, raw_value in headers:
        name = latin1(raw_name).strip().lower()
        value = latin1(raw_value)
        if name == "content-length":
            lengths.extend(part.strip(" \t") for part in value.split(","))
        elif name == "transfer-encoding":
            codings.extend(c.strip(" \t").lower() for c in value.split(",") if c.strip(" \t"))
    return lengths, codings


def _outcome(headers: list[tuple[Any, Any]]) -> tuple[Any, ...]:
    try:
        framing = check_framing(200, headers)
    except FramingError as exc:
        return ("refused", str(exc))
    return (framing.chunked, framing.length)


_names = st.sampled_from(
    [
        "Content-Length",
        "content-length",
        "CONTENT-LENGTH",
        " Content-Length",
        "Content-Length\t",
        "\xa0content-length",
        "Transfer-Encoding",
        "transfer-encoding ",
        "x-content-length",
        "Content-Type",
        "x-edgee-provider",
        "Content-Encoding",
        "Transfer-Encodings",
    ]
)
_values = st.sampled_from(["10", "10, 10", "11", "chunked", "gzip, chunked", "", "x", " 10 "])


@given(st.lists(st.tuples(_names, _values), max_size=5), st.booleans())
def test_the_fast_name_scan_reads_what_the_reference_reads(
    pairs: list[tuple[str, str]], as_bytes: bool
) -> None:
    headers: list[tuple[Any, Any]] = (
        [(n.encode("latin-1"), v.encode("latin-1")) for n, v in pairs] if as_bytes else pairs
    )
    lengths, codings = _reference_framing(headers)
    # The reference's verdict, through the function's own rules on what it read.
    rebuilt: list[tuple[str, str]] = [("Content-Length", ", ".join(lengths))] if lengths else []
    if codings:
        rebuilt.append(("Transfer-Encoding", ", ".join(codings)))
    assert _outcome(headers) == _outcome(rebuilt)


@given(st.lists(st.tuples(_names, _values), max_size=5), st.booleans(), st.integers(100, 599))
def test_the_dict_shortcut_reads_what_the_scan_reads(
    pairs: list[tuple[str, str]], as_bytes: bool, status: int
) -> None:
    # read_framing(lowered=the Head's dict) skips the scan when no name repeats or holds
    # whitespace; the verdict must be the scan's either way.
    headers: list[tuple[Any, Any]] = (
        [(n.encode("latin-1"), v.encode("latin-1")) for n, v in pairs] if as_bytes else pairs
    )
    lowered = {latin1(n).lower(): latin1(v) for n, v in headers}

    def verdict(**kwargs: Any) -> Any:
        try:
            return read_framing(status, tuple(headers), **kwargs)
        except FramingError as exc:
            return str(exc)

    assert verdict(lowered=lowered) == verdict()
