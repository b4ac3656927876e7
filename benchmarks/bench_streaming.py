"""Micro-benchmark of the streaming hot path: bytes -> chunks -> response.

A realistic chat-completions stream of 20,000 chunk events (OpenAI-shaped
chunks with ``system_fingerprint`` and ``logprobs``, mostly one-word content
deltas with some non-ASCII text, then a finish chunk and a usage/compression
chunk with empty ``choices``, then ``[DONE]``) is fed in 1 KiB pieces (about
what a socket read hands over) through:

* ``ChunkParser``: SSE decoding, JSON parsing, structuring into
  ``StreamChunk`` models, folding every chunk into its
  ``StreamAccumulator`` (what ``final_response()`` reads; the parser's
  end-of-stream check asks it whether every choice finished), and the final
  ``SendResponse``.

For scale, the same run times a floor: a naive decoder that splits the bytes
on blank lines (LF only) and calls ``json.loads`` on each data payload, with
no models and no checks. It is not a correct SSE decoder; it shows the part
of the cost that is JSON parsing alone. Figures are the median of 5 runs.

Run with ``.venv/bin/python benchmarks/bench_streaming.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

try:
    from edgee._streaming import NEED_DATA, ChunkParser
    from edgee.models import StreamChunk
except ImportError:  # not installed: use the checkout this script lives in
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from edgee._streaming import NEED_DATA, ChunkParser
    from edgee.models import StreamChunk

EVENTS = 20_000
PIECE = 1024
RUNS = 5

TEXT = (
    "The quick brown fox jumps over the lazy dog while streaming tokens arrive one by one "
    "from the gateway, café naïve façade déjà vu, 東京 の 天気 は 晴れ, 🙂 done."
)
WORDS = TEXT.split()


def make_stream(events: int) -> tuple[bytes, int]:
    """The stream's bytes and the length of the text its content deltas add up to."""
    head = (
        '{"id":"chatcmpl-AbC123xyz","object":"chat.completion.chunk","created":1731000000,'
        '"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_a7d06e42a7","choices":'
    )
    parts = [
        head + '[{"index":0,"delta":{"role":"assistant","content":""},'
        '"logprobs":null,"finish_reason":null}]}'
    ]
    text_length = 0
    for i in range(events - 3):
        word = WORDS[i % len(WORDS)] if i == 0 else " " + WORDS[i % len(WORDS)]
        text_length += len(word)
        content = json.dumps(word, ensure_ascii=False)
        parts.append(
            head + f'[{{"index":0,"delta":{{"content":{content}}},'
            '"logprobs":null,"finish_reason":null}]}'
        )
    parts.append(head + '[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}')
    parts.append(
        head + '[],"usage":{"prompt_tokens":812,"completion_tokens":19997,"total_tokens":20809,'
        '"input_tokens_details":{"cached_tokens":512}},'
        '"compression":{"saved_tokens":1234,"cost_savings":5600,"reduction":31.5,"time_ms":4}}'
    )
    body = "".join(f"data: {p}\n\n" for p in parts) + "data: [DONE]\n\n"
    return body.encode(), text_length


def run_parser(pieces: list[bytes]) -> tuple[int, int]:
    """ChunkParser, pulled as a transport pulls it; it folds every chunk into its
    accumulator. Returns (chunks, accumulated text length)."""
    parser = ChunkParser()
    next_event = parser.next_event
    rest = iter(pieces)
    count = 0
    while True:
        event = next_event()
        if event is NEED_DATA:
            parser.receive_data(next(rest, b""))
        elif isinstance(event, StreamChunk):
            count += 1
        else:
            break
    return count, len(parser.accumulator.response().text or "")


def run_floor(pieces: list[bytes]) -> tuple[int, int]:
    """Naive split on blank lines + json.loads of each payload; returns (chunks, -1)."""
    buffer = b""
    count = 0
    loads = json.loads
    for piece in pieces:
        buffer += piece
        *blocks, buffer = buffer.split(b"\n\n")
        for block in blocks:
            if block.startswith(b"data: "):
                payload = block[6:]
                if payload != b"[DONE]":
                    loads(payload)
                    count += 1
    return count, -1


Runner = Callable[[list[bytes]], tuple[int, int]]


def measure(
    runners: list[Runner], pieces: list[bytes], events: int, text_length: int, runs: int
) -> list[float]:
    """Median wall time of each runner, checking its results every time.

    Each runner is warmed up once, then the runs are interleaved (one of each
    per round) so that noise from the machine hits every runner alike.
    """
    times: list[list[float]] = [[] for _ in runners]
    for round_ in range(runs + 1):
        for run, samples in zip(runners, times, strict=True):
            start = time.perf_counter()
            count, length = run(pieces)
            elapsed = time.perf_counter() - start
            if round_:  # round 0 is the warm-up
                samples.append(elapsed)
            assert count == events, f"{run.__name__}: {count} chunks, expected {events}"
            assert length in (-1, text_length), (
                f"{run.__name__}: text of {length} characters, expected {text_length}"
            )
    return [statistics.median(samples) for samples in times]


def main(argv: list[str] | None = None) -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--events", type=int, default=EVENTS, help="chunk events in the stream")
    args.add_argument("--runs", type=int, default=RUNS, help="runs per measurement")
    args.add_argument("--piece", type=int, default=PIECE, help="bytes per feed")
    opts = args.parse_args(argv)
    if opts.events < 3:
        raise SystemExit("--events must be at least 3")

    stream, text_length = make_stream(opts.events)
    pieces = [stream[i : i + opts.piece] for i in range(0, len(stream), opts.piece)]
    megabytes = len(stream) / 1e6
    print(
        f"stream: {opts.events:,} chunk events, {megabytes:.2f} MB, {text_length:,} characters "
        f"of text, {len(pieces):,} feeds of {opts.piece} B, median of {opts.runs} runs, "
        f"Python {sys.version.split()[0]}"
    )
    variants: list[tuple[str, Runner]] = [
        ("floor: split + json.loads", run_floor),
        ("ChunkParser (and its accumulator)", run_parser),
    ]
    medians = measure([run for _, run in variants], pieces, opts.events, text_length, opts.runs)
    floor = medians[0]
    for (name, _), seconds in zip(variants, medians, strict=True):
        print(
            f"  {name:34} {megabytes / seconds:7.1f} MB/s {opts.events / seconds:10,.0f} chunks/s"
            f" {seconds / opts.events * 1e6:6.2f} us/chunk  ({seconds / floor:4.2f}x floor)"
        )


if __name__ == "__main__":
    main()
