"""Micro-benchmark of typed stream events: what ``stream.events()`` adds per chunk.

Every stream folds its chunks into a ``StreamAccumulator`` (that is what
``final_response()`` and ``stream.snapshot`` read); ``events()`` adds an
``EventBuilder`` that looks at what each chunk brings. This times, per chunk,
on chunks already structured (the SSE and JSON work is the same either way):

* ``accumulator``: ``StreamAccumulator.add`` alone, what a stream costs
  whose events nobody asks for (the builder is never made);
* ``events``: ``add`` plus ``EventBuilder.feed`` and ``finish`` (the final
  parse included), events kept in a list, their lazy fields not read.

Three streams of 20,000 chunks: one-word text deltas, four parallel tool calls
whose argument pieces interleave, and a ``response_format=T`` answer (JSON text
deltas, partials not read). Figures are the median of 5 runs; the machine is
shared, so read them as +-2x.

Run with ``.venv/bin/python benchmarks/bench_events.py``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

try:
    from edgee._events import EventBuilder
    from edgee._streaming import StreamAccumulator
    from edgee._structured import structured_format
    from edgee.models import StreamChunk
except ImportError:  # not installed: use the checkout this script lives in
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from edgee._events import EventBuilder
    from edgee._streaming import StreamAccumulator
    from edgee._structured import structured_format
    from edgee.models import StreamChunk

CHUNKS = 20_000
RUNS = 5


@attrs.define
class Item:
    name: str
    count: int


@attrs.define
class Listing:
    items: list[Item]


def _chunk(delta: dict[str, Any], finish: str | None = None) -> StreamChunk:
    return StreamChunk.from_dict(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "openai/gpt-4o",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
    )


def text_stream() -> list[StreamChunk]:
    words = ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]
    chunks = [_chunk({"role": "assistant", "content": ""})]
    chunks += [_chunk({"content": " " + words[i % len(words)]}) for i in range(CHUNKS - 2)]
    return [*chunks, _chunk({}, "stop")]


def tool_stream() -> list[StreamChunk]:
    chunks = [_chunk({"role": "assistant", "content": None})]
    for i in range(4):
        head = {"index": i, "id": f"call_{i}", "type": "function"}
        chunks.append(
            _chunk({"tool_calls": [{**head, "function": {"name": "f", "arguments": ""}}]})
        )
    body = (CHUNKS - 6) // 4
    for n in range(body * 4):
        piece = '{"q": "' if n < 4 else "ab"
        chunks.append(_chunk({"tool_calls": [{"index": n % 4, "function": {"arguments": piece}}]}))
    chunks += [
        _chunk({"tool_calls": [{"index": i, "function": {"arguments": '"}'}}]}) for i in range(4)
    ]
    return [*chunks, _chunk({}, "tool_calls")]


def structured_stream() -> tuple[list[StreamChunk], str]:
    items = [{"name": f"item{i}", "count": i} for i in range(CHUNKS)]
    text = json.dumps({"items": items})
    size = max(1, len(text) // (CHUNKS - 2))
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    chunks = [_chunk({"role": "assistant", "content": ""})]
    chunks += [_chunk({"content": p}) for p in pieces]
    return [*chunks, _chunk({}, "stop")], text


def accumulate(chunks: list[StreamChunk], **_: Any) -> None:
    add = StreamAccumulator().add
    for chunk in chunks:
        add(chunk)


def timed(run: Callable[..., None], chunks: list[StreamChunk], **options: Any) -> float:
    """Median ns per chunk of ``run`` over ``chunks``."""
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter_ns()
        run(chunks, **options)
        samples.append((time.perf_counter_ns() - start) / len(chunks))
    return statistics.median(samples)


def events_run(chunks: list[StreamChunk], **options: Any) -> None:
    accumulator = StreamAccumulator()
    builder = EventBuilder(accumulator, **options)
    add, feed = accumulator.add, builder.feed
    events = []
    for chunk in chunks:
        add(chunk)
        events.extend(feed(chunk))
    events.extend(builder.finish())


def main() -> None:
    structured, _ = structured_stream()
    cases = [
        ("text deltas", text_stream(), {}),
        ("4 interleaved tool calls", tool_stream(), {}),
        (
            "response_format=T, partials not read",
            structured,
            {"format": structured_format(Listing)},
        ),
    ]
    print(f"{'case':<40} {'accumulator':>12} {'events':>12}   (ns per chunk, median of {RUNS})")
    for name, chunks, options in cases:
        alone = timed(accumulate, chunks)
        events = timed(events_run, chunks, **options)
        print(f"{name:<40} {alone:>12.0f} {events:>12.0f}")


if __name__ == "__main__":
    main()
