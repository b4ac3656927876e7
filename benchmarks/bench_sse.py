"""Micro-benchmark of :class:`edgee.sse.SSEDecoder`.

Decodes a stream of 20,000 realistic chat-completion chunk events fed in 1 KiB
pieces (about what a socket read hands over) and prints throughput in MB/s and
events/s, the median of 5 runs; then the same with one event per piece. For
context it also times, in the same run, a naive ``bytes.split`` decoder, which
handles only LF line ends and ``data:`` fields and so is not a correct SSE
decoder.

Run with ``.venv/bin/python benchmarks/bench_sse.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

try:
    from edgee.sse import SSEDecoder
except ImportError:  # not installed: use the checkout this script lives in
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from edgee.sse import SSEDecoder

EVENTS = 20_000
PIECE = 1024
RUNS = 5

EVENT = (
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,'
    b'"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"word "},'
    b'"finish_reason":null}]}\n\n'
)


def decode_with_sse_decoder(pieces: list[bytes]) -> int:
    """Decode with the real decoder; return the number of events."""
    decoder = SSEDecoder()
    count = 0
    for piece in pieces:
        count += len(decoder.feed(piece))
    count += len(decoder.close())
    return count


def decode_naive(pieces: list[bytes]) -> int:
    """A typical hand-rolled decoder: split a bytes buffer on blank lines (LF only)."""
    buffer = b""
    count = 0
    for piece in pieces:
        buffer += piece
        *blocks, buffer = buffer.split(b"\n\n")
        for block in blocks:
            data = [
                line[5:].lstrip(b" ") for line in block.split(b"\n") if line.startswith(b"data:")
            ]
            if data:
                b"\n".join(data).decode("utf-8", "replace")
                count += 1
    return count


def measure(decode: Callable[[list[bytes]], int], pieces: list[bytes]) -> float:
    """Median wall time of RUNS decodes, checking the event count every time."""
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        count = decode(pieces)
        times.append(time.perf_counter() - start)
        assert count == EVENTS, f"{decode.__name__} decoded {count} events, expected {EVENTS}"
    return statistics.median(times)


def main() -> None:
    stream = EVENT * EVENTS
    print(
        f"stream: {EVENTS} events, {len(stream) / 1e6:.2f} MB, median of {RUNS} runs, "
        f"Python {sys.version.split()[0]}"
    )
    # 1 KiB pieces is the headline figure; one event per piece is how a gateway's
    # events usually arrive (one write each), shown for context.
    for label, size in [(f"{PIECE} B pieces", PIECE), ("one event per piece", len(EVENT))]:
        pieces = [stream[i : i + size] for i in range(0, len(stream), size)]
        print(f"{label} ({len(pieces)} feeds):")
        for name, decode in [
            ("SSEDecoder", decode_with_sse_decoder),
            ("naive split", decode_naive),
        ]:
            seconds = measure(decode, pieces)
            print(
                f"  {name:12} {len(stream) / 1e6 / seconds:8.1f} MB/s"
                f" {EVENTS / seconds:12,.0f} events/s {seconds / EVENTS * 1e6:6.2f} us/event"
            )


if __name__ == "__main__":
    main()
