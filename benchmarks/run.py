"""The benchmark suite: the SDK against floors and peers, in one run.

``make bench`` (``python benchmarks/run.py``) measures, against a loopback
server running in a process of its own (``server.py``: pre-built bodies, so
the client dominates the CPU):

* the headline, CPU microseconds per chunk while reading a stream, for four
  framings (``_wire.FRAMINGS``): one HTTP chunk per event (20,000 events
  written at once, and 3,000 events 1 ms apart), 16 KiB HTTP chunks, and one
  ``Content-Length`` body; the SDK against two floors of its side, the raw
  floor (``raw.read1`` / ``content.readany`` + split + ``json.loads``) and the
  user loop (``iter_lines`` / ``async for line in resp.content`` +
  ``json.loads``), and the peers (``openai``, the official ``edgee`` 1.1.0,
  each in its own venv made on demand, ``_peers.py``) against the SDK
  (``_stream_cpu.py``);
* time to first chunk, cold (new client, new connection) and warm (pooled);
* sequential non-streaming ``send`` requests per second;
* 200 concurrent streams of 200 chunks, ``AsyncEdgee`` against raw ``aiohttp``;
* connections the server saw opened per sequential call after the first;
* ``import edgee`` against ``import requests`` (``_import_time.py``);
* peak RSS, and RSS growth over a 200,000-chunk stream (``_memory.py``).

Every figure is the median of several runs, the readers interleaved round by
round, and is printed with its floor, their ratio, and the range of the
round-by-round ratios. Every stream is checked (chunk and character counts).
Results go to ``benchmarks/results/latest.json``; a full run also rewrites
``benchmarks/RESULTS.md``. ``--quick`` (``make bench-quick``, the CI smoke
test) reads shorter streams in fewer rounds, skips the peers unless their
venvs exist, and finishes in under a minute. Targets are reported, never
asserted (``--strict`` makes a missed target exit with status 1).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _clients import ASYNC_READERS, SYNC_READERS  # noqa: E402
from _harness import Runner, Server, Settings, check_stream  # noqa: E402
from _import_time import bench_import  # noqa: E402
from _memory import bench_memory, probe_rss  # noqa: E402
from _peers import PEERS  # noqa: E402
from _peers import start as start_peers  # noqa: E402
from _report import Figure, Report, machine, print_figure, write_json, write_markdown  # noqa: E402
from _stream_cpu import bench_stream_cpu  # noqa: E402
from _wire import FRAMINGS  # noqa: E402

RESULTS_DIR = HERE / "results"
median = statistics.median

#: Sequential send: bound on the SDK's requests/s over its floor's.
SEND_TARGETS = {"sync": 1.0, "async": 0.95}

ABOUT = """Each row is one figure of one reader, the floor it is compared with (measured in the
same run), their ratio, the range of the round-by-round ratios (the noise), and the target.
CPU figures are the client process's CPU time (`time.process_time`), divided by the chunks
read; medians of interleaved rounds. Two floors per side: the raw floor (`requests`
`raw.read1` or `aiohttp` `content.readany`, a split on blank lines, `json.loads`) and the user
loop (`requests` `iter_lines()` or `aiohttp` `async for line in resp.content`, a `data: `
check, `json.loads`). Peer rows (openai, the official edgee 1.1.0, each read in a subprocess
of its own venv) show the peer's CPU per chunk and its ratio to the SDK's (higher is better
for the SDK). Framings: one HTTP chunk per event written at once (the headline), one HTTP
chunk per event 1 ms apart (the CPU cost includes the wakeups), 16 KiB HTTP chunks, one
Content-Length body. The server is a loopback HTTP/1.1 server in a separate process. "RSS
growth beyond text" is the RSS growth between 10% and 100% of a long stream, minus the UTF-8
size of the text that arrived meanwhile (the stream keeps it for `final_response()`)."""


def bench_ttfc(runner: Runner, report: Report) -> None:
    s = runner.settings
    n = s.ttfc_chunks
    base = runner.server.base_url
    times: dict[tuple[str, str, str], list[float]] = {}

    # Sync and async apart (see bench_send); a reader and its floor alternate.
    for side in ("sync", "async"):
        for _ in range(s.ttfc_samples + 1):
            for label, kind, reader, is_async in runner.readers():
                if label != side:
                    continue
                # warm: the pooled connection of the long-lived reader
                if is_async:

                    async def warm(reader: Any = reader) -> tuple[float, tuple[int, int]]:
                        t0 = time.perf_counter()
                        rest = await reader.first_chunk(n)
                        t1 = time.perf_counter()
                        return t1 - t0, await rest()

                    elapsed, result = runner.run(warm())
                else:
                    t0 = time.perf_counter()
                    rest = reader.first_chunk(n)
                    elapsed = time.perf_counter() - t0
                    result = rest()
                check_stream(result, n, f"{label} {kind} warm")
                times.setdefault((label, kind, "warm"), []).append(elapsed * 1e3)

                # cold: a new client, so a new session and a new connection
                if is_async:
                    make = ASYNC_READERS[kind]

                    async def cold(
                        make: Callable[..., Any] = make,
                    ) -> tuple[float, tuple[int, int]]:
                        t0 = time.perf_counter()
                        fresh = make(base)
                        rest = await fresh.first_chunk(n)
                        t1 = time.perf_counter()
                        result = await rest()
                        await fresh.close()
                        return t1 - t0, result

                    elapsed, result = runner.run(cold())
                else:
                    t0 = time.perf_counter()
                    fresh = SYNC_READERS[kind](base)
                    rest = fresh.first_chunk(n)
                    elapsed = time.perf_counter() - t0
                    result = rest()
                    fresh.close()
                check_stream(result, n, f"{label} {kind} cold")
                times.setdefault((label, kind, "cold"), []).append(elapsed * 1e3)

    for temp in ("warm", "cold"):
        for label in ("sync", "async"):
            floor_name = "requests + json.loads" if label == "sync" else "aiohttp + json.loads"
            # drop the first sample of each (the warm-up)
            e = times[(label, "edgee", temp)][1:]
            f = times[(label, "floor", temp)][1:]
            report.add(
                Figure(
                    "ttfc",
                    f"{label}: time to first chunk, {temp}",
                    "ms",
                    median(e),
                    median(f),
                    floor_name,
                    target=1.0 if temp == "warm" else None,
                    target_text="<= 1.0x" if temp == "warm" else "",
                    samples=e,
                    floor_samples=f,
                    paired=False,  # single requests, not rounds
                )
            )


def bench_send(runner: Runner, report: Report) -> None:
    s = runner.settings
    # A reader and its floor alternate every `batch` requests, so a burst of load from
    # elsewhere hits both alike; sync and async are measured apart, so neither runs
    # between the other's requests (that would evict its code from the CPU caches).
    batch = 20
    rates: dict[tuple[str, str], list[float]] = {}
    for side in ("sync", "async"):
        for round_ in range(s.rounds + 1):
            elapsed: dict[tuple[str, str], float] = {}
            for _ in range(s.sends // batch):
                for label, kind, reader, is_async in runner.readers():
                    if label != side:
                        continue
                    if is_async:

                        async def some(reader: Any = reader) -> float:
                            t0 = time.perf_counter()
                            for _ in range(batch):
                                assert await reader.send() > 0
                            return time.perf_counter() - t0

                        seconds = runner.run(some())
                    else:
                        t0 = time.perf_counter()
                        for _ in range(batch):
                            assert reader.send() > 0
                        seconds = time.perf_counter() - t0
                    elapsed[(label, kind)] = elapsed.get((label, kind), 0.0) + seconds
            if round_:  # round 0 is the warm-up
                for key, seconds in elapsed.items():
                    rates.setdefault(key, []).append(batch * (s.sends // batch) / seconds)
    for label in ("sync", "async"):
        floor_name = "requests + json.loads" if label == "sync" else "aiohttp + json.loads"
        e = rates[(label, "edgee")]
        f = rates[(label, "floor")]
        report.add(
            Figure(
                "send",
                f"{label}: sequential send",
                "req/s",
                median(e),
                median(f),
                floor_name,
                better="higher",
                target=SEND_TARGETS[label],
                target_text=f">= {SEND_TARGETS[label]}x",
                samples=e,
                floor_samples=f,
            )
        )


def bench_concurrency(runner: Runner, report: Report) -> None:
    s = runner.settings
    n, m = s.concurrent_streams, s.concurrent_chunks
    base = runner.server.base_url

    async def setup() -> dict[str, Any]:
        return {kind: ASYNC_READERS[kind](base, n) for kind in ("floor", "edgee")}

    readers = runner.run(setup())

    async def burst(reader: Any) -> list[tuple[int, int]]:
        return list(await asyncio.gather(*(reader.stream(m) for _ in range(n))))

    walls: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    for round_ in range(s.rounds + 1):
        for kind, reader in readers.items():
            gc.collect()
            c0 = time.process_time()
            t0 = time.perf_counter()
            results = runner.run(burst(reader))
            t1 = time.perf_counter()
            c1 = time.process_time()
            for result in results:
                check_stream(result, m, f"concurrent {kind}")
            if round_:
                walls.setdefault(kind, []).append((t1 - t0) * 1e3)
                cpus.setdefault(kind, []).append((c1 - c0) * 1e3)
    for reader in readers.values():
        runner.run(reader.close())
    report.add(
        Figure(
            "concurrency",
            f"async: {n} concurrent streams x {m} chunks, wall",
            "ms",
            median(walls["edgee"]),
            median(walls["floor"]),
            "aiohttp + json.loads",
            target=1.2,
            target_text="<= 1.2x",
            samples=walls["edgee"],
            floor_samples=walls["floor"],
        )
    )
    report.add(
        Figure(
            "concurrency",
            f"async: {n} concurrent streams x {m} chunks, CPU",
            "ms",
            median(cpus["edgee"]),
            median(cpus["floor"]),
            "aiohttp + json.loads",
            samples=cpus["edgee"],
            floor_samples=cpus["floor"],
        )
    )


def bench_connections(runner: Runner, report: Report) -> None:
    s = runner.settings
    base = runner.server.base_url
    calls = s.connection_calls

    def count(label: str, kind: str, what: str) -> float:
        if label == "sync":
            reader = SYNC_READERS[kind](base)

            def call() -> None:
                if what == "stream":
                    check_stream(reader.stream(200), 200, f"{label} {kind}")
                else:
                    assert reader.send() > 0

            c0 = runner.server.stats()["connections"]
            call()
            c1 = runner.server.stats()["connections"]
            for _ in range(calls - 1):
                call()
            c2 = runner.server.stats()["connections"]
            reader.close()
        else:

            async def go() -> tuple[int, int, int]:
                reader = ASYNC_READERS[kind](base)

                async def call() -> None:
                    if what == "stream":
                        check_stream(await reader.stream(200), 200, f"{label} {kind}")
                    else:
                        assert await reader.send() > 0

                c0 = runner.server.stats()["connections"]
                await call()
                c1 = runner.server.stats()["connections"]
                for _ in range(calls - 1):
                    await call()
                c2 = runner.server.stats()["connections"]
                await reader.close()
                return c0, c1, c2

            c0, c1, c2 = runner.run(go())
        assert c1 - c0 == 1, f"{label} {kind} {what}: first call opened {c1 - c0} connections"
        return (c2 - c1) / (calls - 1)

    for label in ("sync", "async"):
        floor_name = "requests + json.loads" if label == "sync" else "aiohttp + json.loads"
        for what in ("stream", "send"):
            e = count(label, "edgee", what)
            f = count(label, "floor", what)
            fig = Figure(
                "connections",
                f"{label}: new connections per {what} after the first",
                "conn/call",
                e,
                f,
                floor_name,
                target_text="0",
                note=f"{calls} sequential calls on one client",
                show_ratio=False,
            )
            fig.ok = e == 0
            report.figures.append(fig)
            print_figure(fig)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (under a minute)")
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument(
        "--only",
        help="comma-separated sections: stream (all framings) or stream-<framing> "
        f"({', '.join(FRAMINGS)}), peers, ttfc, send, concurrency, connections, import, memory",
    )
    parser.add_argument("--no-peers", action="store_true", help="skip openai / official edgee")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "latest.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-markdown", action="store_true", help="do not rewrite RESULTS.md")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--probe-rss", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--chunks", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.probe_rss:
        print(json.dumps(probe_rss(args.base_url, args.probe_rss, args.chunks)))
        return 0

    settings = Settings.make(args.quick)
    if args.rounds:
        settings = Settings(**{**asdict(settings), "rounds": args.rounds})
    sections = (
        set(args.only.split(","))
        if args.only
        else {"stream", "peers", "ttfc", "send", "concurrency", "connections", "import", "memory"}
    )
    if "stream" in sections:
        sections |= {f"stream-{framing}" for framing in FRAMINGS}
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
    }
    m = info["machine"]
    print(
        f"edgee benchmarks ({'quick' if settings.quick else 'full'}), {info['date']}: "
        f"{m['cpu']}, {m['cores']} cores, Python {m['python']}"
    )
    started = time.perf_counter()
    report = Report()
    server = Server()
    try:
        runner = Runner(server, settings)
        try:
            workers: dict[str, Any] = {}
            if "peers" in sections and not args.no_peers:
                print("peers:")
                # Quick runs use venvs made earlier but never make one (too slow for CI).
                workers, skipped = start_peers(server.base_url, create=not settings.quick)
                for kind, reason in skipped.items():
                    print(f"    (peer {kind} skipped: {reason})")
                report.extra["peers_skipped"] = skipped
                info["peers"] = {
                    f"{p.dist}": p.version for p in PEERS if any(k in workers for k in p.kinds)
                }
            try:
                for framing in FRAMINGS:
                    if f"stream-{framing}" not in sections:
                        continue
                    n = settings.paced_chunks if framing == "paced" else settings.stream_chunks
                    print(f"stream CPU, {framing} framing, {n:,} chunks, {settings.rounds} rounds:")
                    bench_stream_cpu(
                        runner, report, framing, workers if framing in ("event", "paced") else {}
                    )
            finally:
                for worker in workers.values():
                    worker.close()
            if "ttfc" in sections:
                print(f"time to first chunk, {settings.ttfc_samples} samples:")
                bench_ttfc(runner, report)
            if "send" in sections:
                print(f"sequential send, {settings.sends} requests x {settings.rounds} rounds:")
                bench_send(runner, report)
            if "concurrency" in sections:
                print("concurrent streams:")
                bench_concurrency(runner, report)
            if "connections" in sections:
                print("connections (counted by the server):")
                bench_connections(runner, report)
        finally:
            runner.close()
        if "import" in sections:
            print(f"import time, {settings.import_runs} fresh processes each:")
            bench_import(report, settings)
        if "memory" in sections:
            print("memory (fresh process per reader):")
            bench_memory(server, report, settings)
    finally:
        server.stop()
    elapsed = time.perf_counter() - started
    print(f"done in {elapsed:.1f} s")
    report.extra["elapsed_s"] = elapsed
    write_json(report, settings, info, args.json)
    print(f"results: {args.json}")
    if not settings.quick and not args.only and not args.no_markdown:
        write_markdown(report, info, args.markdown, ABOUT)
        print(f"table: {args.markdown}")
    missed = [f.name for f in report.figures if f.ok is False]
    if missed:
        print("targets missed: " + "; ".join(missed))
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
