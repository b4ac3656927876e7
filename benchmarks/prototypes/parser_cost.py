"""The parser's share of the per-read budget: one event per feed, no I/O.

Feeds the benchmark's 20,000 events one per call (what a one-HTTP-chunk-per-
event stream hands over) to: ``json.loads`` of each payload alone; the raw
floor's split + ``json.loads``; the SDK's ``ChunkParser`` (SSE, JSON,
structuring) and ``StreamAccumulator`` (what ``final_response()`` needs).
Prints CPU microseconds per chunk (best of 7).
``python benchmarks/prototypes/parser_cost.py``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from _clients import _SplitReader  # noqa: E402
from _wire import _events  # noqa: E402

from edgee._streaming import DONE, NEED_DATA, ChunkParser  # noqa: E402

N = 20_000


def loads_only(events: tuple[bytes, ...]) -> None:
    loads = json.loads
    for event in events[:-1]:
        loads(event[6:-2])


def split_reader(events: tuple[bytes, ...]) -> None:
    feed = _SplitReader().feed
    for event in events:
        feed(event)


def sdk_parser(events: tuple[bytes, ...]) -> None:
    parser = ChunkParser()  # it folds every chunk into its own accumulator
    next_event, receive = parser.next_event, parser.receive_data
    for event in events:
        receive(event)
        while (chunk := next_event()) is not NEED_DATA and chunk is not DONE:
            pass


def best(fn: Callable[[tuple[bytes, ...]], None], events: tuple[bytes, ...]) -> float:
    times = []
    for _ in range(7):
        t0 = time.process_time()
        fn(events)
        times.append(time.process_time() - t0)
    return min(times) / N * 1e6


def main() -> None:
    events = _events(N)
    for name, fn in (
        ("json.loads alone", loads_only),
        ("raw floor: split + json.loads", split_reader),
        ("SDK: ChunkParser + StreamAccumulator", sdk_parser),
    ):
        print(f"  {name:40} {best(fn, events):6.2f} us/chunk")


if __name__ == "__main__":
    main()
