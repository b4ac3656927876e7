"""CPU per chunk while reading one stream, per framing: the SDK, both floors and the peers.

Every round reads one stream with every reader in turn (in-process readers and
peer workers interleaved, so a burst of load from elsewhere hits all alike);
a reader's figure is the median over rounds of its process CPU time divided
by the chunks. The SDK is compared with both floors of its side (the raw
floor and the user loop) and each peer with the SDK of its side.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from _harness import Runner, check_stream
from _peers import Worker
from _report import Figure, Report

median = statistics.median

TAGS = {
    "event": "one HTTP chunk per event",
    "paced": "one HTTP chunk per event, 1 ms apart",
    "packed": "16 KiB HTTP chunks",
    "length": "Content-Length body",
}

FLOOR_NAMES = {
    ("sync", "floor"): "raw floor: requests raw.read1 + split + json.loads",
    ("sync", "user"): "user loop: requests iter_lines + json.loads",
    ("async", "floor"): "raw floor: aiohttp readany + split + json.loads",
    ("async", "user"): "user loop: aiohttp async for line + json.loads",
}

KIND_NAMES = {"user": "user loop", "floor": "raw floor"}

#: (framing, side, floor kind) -> bound on the SDK's ratio to that floor (issue #18).
TARGETS = {
    ("event", "sync", "user"): 1.0,
    ("event", "sync", "floor"): 1.25,
    ("event", "async", "user"): 0.9,
    ("paced", "sync", "user"): 1.1,
    ("paced", "async", "user"): 1.05,
    ("packed", "sync", "floor"): 1.2,
    ("packed", "async", "floor"): 1.2,
}

#: Peer kind -> (side, how many times the SDK's CPU per chunk it must cost at least).
PEER_TARGETS = {
    "openai-sync": ("sync", 15.0),
    "openai-async": ("async", 15.0),
    "edgee-1.1.0": ("sync", 1.5),
}
PEER_NAMES = {
    "openai-sync": "openai 3.57.0 OpenAI",
    "openai-async": "openai 3.57.0 AsyncOpenAI",
    "edgee-1.1.0": "official edgee 1.1.0",
}

#: Chunks of the warm-up stream each reader reads before round 1 (not measured).
WARM_CHUNKS = 500


def _read_one(runner: Runner, reader: Any, is_async: bool | None, n: int, framing: str) -> float:
    """CPU seconds of one stream (checked) read by one reader."""
    if is_async is None:  # a peer worker measures itself
        assert isinstance(reader, Worker)
        cpu, result = reader.stream(n, framing)
        check_stream(result, n, reader.kind)
        return cpu
    gc.collect()
    c0 = time.process_time()
    result = runner.run(reader.stream(n, framing)) if is_async else reader.stream(n, framing)
    cpu = time.process_time() - c0
    check_stream(result, n, type(reader).__name__)
    return cpu


def bench_stream_cpu(
    runner: Runner, report: Report, framing: str, workers: dict[str, Worker]
) -> None:
    s = runner.settings
    n = s.paced_chunks if framing == "paced" else s.stream_chunks
    contestants: list[tuple[str, str, Any, bool | None]] = [
        *runner.readers(("floor", "user", "edgee")),
        *((kind, "peer", worker, None) for kind, worker in workers.items()),
    ]
    cpu: dict[tuple[str, str], list[float]] = {}
    for _label, _kind, reader, is_async in contestants:
        _read_one(runner, reader, is_async, min(n, WARM_CHUNKS), framing)
    for _ in range(s.rounds):
        for label, kind, reader, is_async in contestants:
            seconds = _read_one(runner, reader, is_async, n, framing)
            cpu.setdefault((label, kind), []).append(seconds / n * 1e6)

    tag = TAGS[framing]
    section = f"stream-{framing}"
    for side in ("sync", "async"):
        sdk = cpu[(side, "edgee")]
        for floor_kind in ("user", "floor"):
            target = TARGETS.get((framing, side, floor_kind))
            report.add(
                Figure(
                    section,
                    f"{side}: CPU per chunk, {tag}, vs {KIND_NAMES[floor_kind]}",
                    "us/chunk",
                    median(sdk),
                    median(cpu[(side, floor_kind)]),
                    FLOOR_NAMES[(side, floor_kind)],
                    target=target,
                    target_text=f"<= {target}x" if target else "",
                    samples=sdk,
                    floor_samples=cpu[(side, floor_kind)],
                )
            )
    for kind in workers:
        side, times = PEER_TARGETS[kind]
        peer = cpu[(kind, "peer")]
        sdk = cpu[(side, "edgee")]
        headline = framing == "event"
        report.add(
            Figure(
                section,
                f"{PEER_NAMES[kind]}: CPU per chunk, {tag}, vs {side} SDK",
                "us/chunk",
                median(peer),
                median(sdk),
                "edgee.Edgee" if side == "sync" else "edgee.AsyncEdgee",
                better="higher",
                target=times if headline else None,
                target_text=f">= {times:g}x" if headline else "",
                samples=peer,
                floor_samples=sdk,
                note="ratio: the peer's CPU per chunk over the SDK's",
            )
        )
