"""Prototype: the cheapest way to read a chunked stream with requests/urllib3, per event.

Reads the benchmark server's streams (one HTTP chunk per event) through each
candidate read path, with the same parser (the raw floor's split +
``json.loads``) or none (bytes only), and prints CPU microseconds per chunk,
medians of interleaved rounds:

* ``urllib3 read1``: ``resp.raw.read1(65536)`` (what the SDK and the raw floor do);
* ``http.client read1``: ``resp.raw._fp.read1(65536)``, urllib3's layer skipped;
* ``urllib3 read_chunked``: the generator ``iter_content`` uses, one HTTP chunk a step;
* ``own decoder``: ``resp.raw._fp.fp.read1(65536)`` (the socket's ``BufferedReader``:
  everything buffered, else one ``recv``) into ``chunked.ChunkedDecoder``; then
  ``_fp._close_conn()`` and ``release_conn()`` so the connection is reused;
  again with ``read1(16384)`` (the SDK's parser likes pieces of about 16 KiB);
* ``iter_lines``: ``requests`` ``iter_lines()`` (the user loop's read path).

``python benchmarks/prototypes/sync_read.py [--chunks N] [--rounds R] [--framing F]``.
"""

from __future__ import annotations

import argparse
import functools
import gc
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import requests  # noqa: E402
from _clients import _body, _headers, _SplitReader, model  # noqa: E402
from _harness import Server  # noqa: E402

from edgee._chunked import ChunkedDecoder  # noqa: E402
from edgee._streaming import DONE, NEED_DATA, ChunkParser  # noqa: E402


def _pieces_read1(raw: Any) -> Iterator[bytes]:
    read1 = raw.read1
    while data := read1(65536):
        yield data
    raw.release_conn()


def _pieces_httpclient(raw: Any) -> Iterator[bytes]:
    read1 = raw._fp.read1
    while data := read1(65536):
        yield data
    raw.release_conn()


def _pieces_read_chunked(raw: Any) -> Iterator[bytes]:
    yield from raw.read_chunked(decode_content=False)
    raw.release_conn()


def _pieces_own(raw: Any, size: int = 65536) -> Iterator[bytes]:
    fp = raw._fp  # http.client.HTTPResponse
    read1 = fp.fp.read1  # io.BufferedReader over the socket
    decoder = ChunkedDecoder()
    feed = decoder.feed
    while not decoder.done:
        data = read1(size)
        if not data:
            raise ConnectionError("connection closed inside the chunked body")
        body = feed(data)
        if body:
            yield body
    fp._close_conn()  # what http.client does when it reads the last chunk itself
    raw.release_conn()


def _pieces_iter_lines(response: Any) -> Iterator[bytes]:
    for line in response.iter_lines():
        yield line + b"\n\n" if line else b""


MODES = ("none", "split", "sdk")

PATHS: dict[str, Callable[[Any], Iterator[bytes]]] = {
    "urllib3 read1": _pieces_read1,
    "http.client read1": _pieces_httpclient,
    "urllib3 read_chunked": _pieces_read_chunked,
    "own decoder on fp.read1": _pieces_own,
    "own decoder, read1(16384)": functools.partial(_pieces_own, size=16384),
}


def read_stream(
    session: requests.Session, url: str, path: str, n: int, framing: str, parse: str
) -> tuple[int, int]:
    response = session.post(
        url, data=_body(model(n, framing), True), headers=_headers(True), stream=True
    )
    pieces = _pieces_iter_lines(response) if path == "iter_lines" else PATHS[path](response.raw)
    if parse == "split":
        reader = _SplitReader()
        feed = reader.feed
        for data in pieces:
            feed(data)
        return reader.chunks, reader.chars
    if parse == "sdk":
        return _sdk_parse(pieces)
    total = 0
    for data in pieces:
        total += len(data)
    return n, total


def _sdk_parse(pieces: Iterator[bytes]) -> tuple[int, int]:
    """The SDK's parser and accumulator (main's API), as its read loop drives them."""
    parser = ChunkParser()  # it folds every chunk into its own accumulator
    next_event, receive = parser.next_event, parser.receive_data
    count = 0
    for data in pieces:
        receive(data)
        while (event := next_event()) is not NEED_DATA and event is not DONE:
            count += 1
    return count, 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--framing", default="event")
    args = parser.parse_args()
    server = Server()
    try:
        url = server.base_url + "/v1/chat/completions"
        session = requests.Session()
        paths = [*PATHS, "iter_lines"]
        cpu: dict[tuple[str, str], list[float]] = {}
        conns0 = server.stats()["connections"]
        for round_ in range(args.rounds + 1):
            for parse in MODES:
                for path in paths:
                    if path == "iter_lines" and parse != "split":
                        continue
                    gc.collect()
                    c0 = time.process_time()
                    chunks, _ = read_stream(session, url, path, args.chunks, args.framing, parse)
                    c1 = time.process_time()
                    assert chunks == args.chunks, (path, chunks)
                    if round_:
                        cpu.setdefault((path, parse), []).append((c1 - c0) / args.chunks * 1e6)
        conns = server.stats()["connections"] - conns0
        print(
            f"{args.chunks:,} chunks, {args.framing} framing, {args.rounds} rounds; "
            f"connections opened: {conns} (1 = every path reused the pooled one)"
        )
        print(
            f"  {'read path':28} {'bytes only':>10} {'+ split/json':>13} {'+ SDK parser':>13}"
            "   (range of + split/json)"
        )
        for path in paths:
            cells = []
            for mode in MODES:
                samples = cpu.get((path, mode))
                cells.append(f"{statistics.median(samples):13.2f}" if samples else " " * 13)
            spread = cpu[(path, "split")]
            print(
                f"  {path:28} {cells[0][3:]} {cells[1]} {cells[2]}"
                f"   ({min(spread):.2f}-{max(spread):.2f})"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
