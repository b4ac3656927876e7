"""The benchmark suite: the SDK against raw ``requests``/``aiohttp`` floors, in one run.

``make bench`` (``python benchmarks/run.py``) measures, against a loopback
server running in a process of its own (``server.py``: pre-built bodies, one
write per response, so the client dominates the CPU):

* CPU microseconds per chunk and chunks/s while reading a 20,000-chunk stream;
* time to first chunk, cold (new client, new connection) and warm (pooled);
* sequential non-streaming ``send`` requests per second;
* ``import edgee`` against ``import requests`` (``-X importtime``, fresh processes);
* 200 concurrent streams of 200 chunks, ``AsyncEdgee`` against raw ``aiohttp``;
* connections the server saw opened per sequential call after the first;
* peak RSS, and RSS at 10% and 100% of a 200,000-chunk stream.

Every figure is the median of several runs, the readers interleaved round by
round, and is printed with its ratio to the floor measured in the same run.
Every stream is checked (chunk and character counts). Results go to
``benchmarks/results/latest.json``; a full run also rewrites
``benchmarks/RESULTS.md``. ``--quick`` (``make bench-quick``) uses fewer
rounds and finishes in well under a minute. Targets are reported, never
asserted: timings do not belong in a pass/fail test (``--strict`` makes a
missed target exit with status 1, for those who want it).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _clients import ASYNC_READERS, SYNC_READERS  # noqa: E402
from _wire import stream_bytes, stream_text, text_length  # noqa: E402

RESULTS_DIR = HERE / "results"
MIB = 1024 * 1024


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    quick: bool
    rounds: int  # rounds of the stream CPU, send and concurrency figures
    stream_chunks: int = 20_000
    ttfc_samples: int = 30
    ttfc_chunks: int = 20
    sends: int = 200
    concurrent_streams: int = 200
    concurrent_chunks: int = 200
    import_runs: int = 11
    rss_chunks: int = 200_000
    connection_calls: int = 20
    event_framing: bool = True  # also time one-HTTP-chunk-per-event streams (context only)

    @classmethod
    def make(cls, quick: bool) -> Settings:
        if quick:
            return cls(
                quick=True,
                rounds=3,
                ttfc_samples=15,
                sends=100,
                import_runs=5,
                connection_calls=10,
                event_framing=False,
            )
        return cls(quick=False, rounds=7)


# --------------------------------------------------------------------------- results


@dataclass
class Figure:
    """One measured figure of one reader, with its floor from the same run."""

    section: str
    name: str
    unit: str
    value: float
    floor: float | None = None
    floor_name: str | None = None
    better: str = "lower"  # "lower" or "higher"
    target: float | None = None  # bound on the ratio to the floor (or on the value)
    target_text: str = ""
    ok: bool | None = None
    samples: list[float] = field(default_factory=list)
    floor_samples: list[float] = field(default_factory=list)
    note: str = ""
    show_ratio: bool = True  # False where the target is absolute and a ratio means nothing

    @property
    def ratio(self) -> float | None:
        if self.floor is None or self.floor == 0 or not self.show_ratio:
            return None
        return self.value / self.floor

    def judge(self) -> None:
        if self.target is None:
            return
        ratio = self.ratio
        measured = ratio if ratio is not None else self.value
        self.ok = measured <= self.target if self.better == "lower" else measured >= self.target


class Report:
    def __init__(self) -> None:
        self.figures: list[Figure] = []
        self.extra: dict[str, Any] = {}

    def add(self, figure: Figure) -> Figure:
        figure.judge()
        self.figures.append(figure)
        print_figure(figure)
        return figure


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "MiB":
        return f"{value:.1f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def print_figure(f: Figure) -> None:
    ratio = f"{f.ratio:.2f}x" if f.ratio is not None else ""
    verdict = {True: "ok", False: "MISS", None: ""}[f.ok]
    floor = f"floor {fmt(f.floor)}" if f.floor is not None else ""
    print(
        f"  {f.name:44} {fmt(f.value):>9} {f.unit:10} {floor:18} {ratio:>7}"
        f"  {f.target_text:>8} {verdict}"
    )


def median(xs: list[float]) -> float:
    return statistics.median(xs)


# --------------------------------------------------------------------------- server


class Server:
    """``server.py`` in a subprocess; it exits when our end of its stdin closes."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "server.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode()
        if not line.startswith("PORT "):
            raise RuntimeError(f"benchmark server did not start: {line!r}")
        self.base_url = f"http://127.0.0.1:{int(line.split()[1])}"

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.base_url + "/stats") as response:
            stats: dict[str, Any] = json.loads(response.read())
            return stats

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --------------------------------------------------------------------------- helpers


def check_stream(result: tuple[int, int], chunks: int, who: str) -> None:
    expected = (chunks, text_length(chunks))
    if tuple(result) != expected:
        raise AssertionError(f"{who}: got (chunks, characters) {result}, expected {expected}")


class Runner:
    """Both kinds of reader in one process; async ones live in one event loop."""

    def __init__(self, server: Server, settings: Settings) -> None:
        self.server = server
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.sync = {k: make(server.base_url) for k, make in SYNC_READERS.items()}
        self.asyncs = {
            k: self.run(self._make_async(make, server.base_url))
            for k, make in ASYNC_READERS.items()
        }

    @staticmethod
    async def _make_async(make: Callable[..., Any], base_url: str, limit: int = 100) -> Any:
        return make(base_url, limit)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def readers(self) -> list[tuple[str, str, Any, bool]]:
        """(label, kind, reader, is_async), floors first."""
        return [
            ("sync", "floor", self.sync["floor"], False),
            ("sync", "edgee", self.sync["edgee"], False),
            ("async", "floor", self.asyncs["floor"], True),
            ("async", "edgee", self.asyncs["edgee"], True),
        ]

    def close(self) -> None:
        for reader in self.sync.values():
            reader.close()
        for reader in self.asyncs.values():
            self.run(reader.close())
        self.loop.close()


# --------------------------------------------------------------------------- sections


def bench_stream_cpu(runner: Runner, report: Report, framing: str) -> None:
    s = runner.settings
    n = s.stream_chunks
    cpu: dict[tuple[str, str], list[float]] = {}
    wall: dict[tuple[str, str], list[float]] = {}
    share: dict[tuple[str, str], list[float]] = {}
    readers = runner.readers()
    for round_ in range(s.rounds + 1):
        for label, kind, reader, is_async in readers:
            gc.collect()
            before = runner.server.stats()
            c0 = time.process_time()
            w0 = time.perf_counter()
            if is_async:
                result = runner.run(reader.stream(n, framing))
            else:
                result = reader.stream(n, framing)
            w1 = time.perf_counter()
            c1 = time.process_time()
            after = runner.server.stats()
            check_stream(result, n, f"{label} {kind}")
            if round_ == 0:
                continue  # warm-up
            key = (label, kind)
            cpu.setdefault(key, []).append((c1 - c0) / n * 1e6)
            wall.setdefault(key, []).append(n / (w1 - w0))
            server_cpu = after["cpu"] - before["cpu"]
            share.setdefault(key, []).append(server_cpu / (server_cpu + c1 - c0))
    tag = "" if framing == "packed" else ", one HTTP chunk per event"
    section = "stream" if framing == "packed" else "stream-event-framing"
    for label in ("sync", "async"):
        floor_name = "requests + json.loads" if label == "sync" else "aiohttp + json.loads"
        f_cpu = cpu[(label, "floor")]
        e_cpu = cpu[(label, "edgee")]
        headline = framing == "packed"
        report.add(
            Figure(
                section,
                f"{label}: CPU per chunk ({n:,} chunks{tag})",
                "us/chunk",
                median(e_cpu),
                median(f_cpu),
                floor_name,
                target=1.5 if headline else None,
                target_text="<= 1.5x" if headline else "",
                samples=e_cpu,
                floor_samples=f_cpu,
            )
        )
        f_wall = wall[(label, "floor")]
        e_wall = wall[(label, "edgee")]
        report.add(
            Figure(
                section,
                f"{label}: chunks/s{tag}",
                "chunks/s",
                median(e_wall),
                median(f_wall),
                floor_name,
                better="higher",
                samples=e_wall,
                floor_samples=f_wall,
            )
        )
        report.add(
            Figure(
                section,
                f"{label}: server's share of the CPU{tag}",
                "%",
                median(share[(label, "edgee")]) * 100,
                median(share[(label, "floor")]) * 100,
                floor_name,
                note="server CPU / (server + client CPU) while the stream is read",
            )
        )


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
                    target=1.2 if temp == "warm" else None,
                    target_text="<= 1.2x" if temp == "warm" else "",
                    samples=e,
                    floor_samples=f,
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
                target=0.9,
                target_text=">= 0.9x",
                samples=e,
                floor_samples=f,
            )
        )


def bench_concurrency(runner: Runner, report: Report) -> None:
    s = runner.settings
    n, m = s.concurrent_streams, s.concurrent_chunks
    base = runner.server.base_url

    async def setup() -> dict[str, Any]:
        return {kind: make(base, n) for kind, make in ASYNC_READERS.items()}

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
            target=1.5,
            target_text="<= 1.5x",
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


def _top_level(stderr: str) -> list[tuple[str, int]]:
    """(module, cumulative us) of each top-level line of ``-X importtime`` output."""
    out = []
    for line in stderr.splitlines():
        parts = line.split("|", 2)
        if len(parts) != 3 or not line.startswith("import time:"):
            continue
        name = parts[2]
        if name.startswith(" ") and not name.startswith("  ") and parts[1].strip().isdigit():
            out.append((name.strip(), int(parts[1])))
    return out


def _importtime(statement: str, cwd: str) -> float:
    """Import cost of ``statement`` in a fresh interpreter (ms, from ``-X importtime``).

    The sum of the cumulative times of the top-level imports that the
    interpreter's own start-up (``-c pass``) does not make.
    """
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=True,
    )
    total = sum(us for module, us in _top_level(proc.stderr) if module not in _STARTUP_MODULES)
    return total / 1000


# Modules that the interpreter itself imports before running ``-c`` code.
_STARTUP_MODULES: set[str] = set()


def bench_import(report: Report, settings: Settings) -> None:
    with tempfile.TemporaryDirectory() as cwd:
        # What the interpreter imports on its own (site, encodings...), not the statement's.
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "pass"],
            capture_output=True,
            text=True,
            cwd=cwd,
            check=True,
        )
        _STARTUP_MODULES.update(module for module, _ in _top_level(proc.stderr))
        statements = {
            "requests": "import requests",
            "aiohttp": "import aiohttp",
            "edgee": "import edgee",
            "edgee.Edgee": "from edgee import Edgee",
            "edgee.AsyncEdgee": "from edgee import AsyncEdgee",
        }
        samples: dict[str, list[float]] = {k: [] for k in statements}
        for _ in range(settings.import_runs):
            for key, statement in statements.items():
                samples[key].append(_importtime(statement, cwd))
        check = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, edgee; print(sorted(m for m in ('requests', 'aiohttp', 'urllib3',"
                " 'cattrs', 'attrs') if m in sys.modules))",
            ],
            capture_output=True,
            text=True,
            cwd=cwd,
            check=True,
        )
    loaded = check.stdout.strip()
    heavy = [m for m in ("requests", "aiohttp") if f"'{m}'" in loaded]
    report.extra["import edgee loads"] = loaded
    fig = report.add(
        Figure(
            "import",
            "import edgee",
            "ms",
            median(samples["edgee"]),
            median(samples["requests"]),
            "import requests",
            target=1.3,
            target_text="<= 1.3x",
            samples=samples["edgee"],
            floor_samples=samples["requests"],
            note=f"modules of interest loaded by `import edgee`: {loaded}",
        )
    )
    if heavy:
        fig.ok = False
        fig.note += f"; MISS: {heavy} imported"
    print(f"    (import edgee loads {loaded}; neither requests nor aiohttp allowed)")
    report.add(
        Figure(
            "import",
            "sync: import the client class",
            "ms",
            median(samples["edgee.Edgee"]),
            median(samples["requests"]),
            "import requests",
            samples=samples["edgee.Edgee"],
            floor_samples=samples["requests"],
            note="`from edgee import Edgee` (loads requests) against `import requests`",
        )
    )
    report.add(
        Figure(
            "import",
            "async: import the client class",
            "ms",
            median(samples["edgee.AsyncEdgee"]),
            median(samples["aiohttp"]),
            "import aiohttp",
            samples=samples["edgee.AsyncEdgee"],
            floor_samples=samples["aiohttp"],
            note="`from edgee import AsyncEdgee` (loads aiohttp) against `import aiohttp`",
        )
    )


# --------------------------------------------------------------------------- memory probe


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss() -> int:
    """This process's peak RSS (VmHWM): unlike ru_maxrss, not inherited across exec."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def probe_rss(base_url: str, reader_key: str, chunks: int) -> dict[str, Any]:
    """In a fresh process: read one ``chunks`` stream, sampling RSS at 10% and at the end."""
    label, kind = reader_key.split("-")
    marks: dict[str, tuple[int, int]] = {}
    tenth = chunks // 10

    def on_chunk(count: int) -> None:
        if count >= tenth and "10%" not in marks:
            marks["10%"] = (count, _rss())
        if count >= chunks:
            marks["100%"] = (count, _rss())

    rss_start = _rss()
    if label == "sync":
        reader = SYNC_READERS[kind](base_url)
        check_stream(reader.stream(2000), 2000, reader_key)  # warm: hooks, pool, buffers
        rss_warm = _rss()
        count, _ = reader.stream(chunks, on_chunk=on_chunk)
        reader.close()
    else:

        async def go() -> tuple[int, int]:
            reader = ASYNC_READERS[kind](base_url)
            check_stream(await reader.stream(2000), 2000, reader_key)
            nonlocal rss_warm
            rss_warm = _rss()
            result = await reader.stream(chunks, on_chunk=on_chunk)
            await reader.close()
            return result  # type: ignore[no-any-return]

        rss_warm = 0
        count, _ = asyncio.run(go())
    assert count == chunks, (count, chunks)
    (n10, rss10), (n100, rss100) = marks["10%"], marks["100%"]
    # The text sizes are worked out by the caller: here they would add to the peak.
    return {
        "rss_start": rss_start,
        "rss_warm": rss_warm,
        "rss_10": rss10,
        "rss_100": rss100,
        "chunks_10": n10,
        "chunks_100": n100,
        "peak": _peak_rss(),
    }


def bench_memory(server: Server, report: Report, settings: Settings) -> None:
    n = settings.rss_chunks
    # Build the big body in the server before any probe runs (not part of any figure).
    SYNC_READERS["floor"](server.base_url).stream(n)
    results: dict[str, dict[str, Any]] = {}
    for key in ("sync-floor", "sync-edgee", "async-floor", "async-edgee"):
        proc = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--probe-rss",
                key,
                "--base-url",
                server.base_url,
                "--chunks",
                str(n),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        text = stream_text(n)
        between = text[text_length(n, result["chunks_10"]) : text_length(n, result["chunks_100"])]
        result["text_utf8_bytes_between"] = len(between.encode())
        results[key] = result
    report.extra["rss_probes"] = results
    print(
        f"    (stream of {n:,} chunks, {stream_bytes(n) / 1e6:.1f} MB of events; "
        "RSS sampled at 10% and 100% of the chunks, before final_response())"
    )
    for label in ("sync", "async"):
        floor_name = "requests + json.loads" if label == "sync" else "aiohttp + json.loads"
        e, f = results[f"{label}-edgee"], results[f"{label}-floor"]
        report.add(
            Figure(
                "memory",
                f"{label}: peak RSS ({n:,}-chunk stream)",
                "MiB",
                e["peak"] / MIB,
                f["peak"] / MIB,
                floor_name,
            )
        )
        growth = (e["rss_100"] - e["rss_10"]) / MIB
        text_mib = e["text_utf8_bytes_between"] / MIB
        net = growth - text_mib
        fig = Figure(
            "memory",
            f"{label}: RSS growth 10% -> 100%, beyond text",
            "MiB",
            net,
            (f["rss_100"] - f["rss_10"]) / MIB,
            floor_name,
            target_text="<= 1 MiB",
            show_ratio=False,
            note=(
                f"RSS grew {growth:.2f} MiB while {text_mib:.2f} MiB of text (UTF-8) "
                "was accumulated for final_response(); the floor keeps no text"
            ),
        )
        fig.ok = net <= 1.0
        report.figures.append(fig)
        print_figure(fig)
        print(f"      {fig.note}")


# --------------------------------------------------------------------------- output


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for dist in ("requests", "urllib3", "aiohttp", "attrs", "cattrs", "edgee"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": platform.platform(),
        "versions": versions,
    }


def write_json(report: Report, settings: Settings, info: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "date": info["date"],
        "machine": info["machine"],
        "settings": asdict(settings),
        "figures": [{**asdict(f), "ratio": f.ratio} for f in report.figures],
        "extra": report.extra,
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


def _cell(f: Figure) -> str:
    ratio = f" **{f.ratio:.2f}x**" if f.ratio is not None else ""
    floor = f" ({fmt(f.floor)})" if f.floor is not None else ""
    verdict = {True: " ok", False: " **MISS**", None: ""}[f.ok]
    return f"{fmt(f.value)} {f.unit}{floor}{ratio}{verdict}"


def markdown_table(report: Report) -> str:
    """One row per measure, Edgee and AsyncEdgee side by side."""
    rows: dict[str, dict[str, Figure]] = {}
    for f in report.figures:
        side, sep, measure = f.name.partition(": ")
        if not sep or side not in ("sync", "async"):
            side, measure = "both", f.name
        rows.setdefault(measure, {})[side] = f
    lines = [
        "| measure | `Edgee` (floor) ratio | `AsyncEdgee` (floor) ratio | target |",
        "|---|---|---|---|",
    ]
    for measure, cells in rows.items():
        if "both" in cells:
            f = cells["both"]
            sync_cell = _cell(f) + f" (floor: {f.floor_name})"
            async_cell = "same"
        else:
            sync_cell = _cell(cells["sync"]) if "sync" in cells else "-"
            async_cell = _cell(cells["async"]) if "async" in cells else "-"
        target = next((f.target_text for f in cells.values() if f.target_text), "")
        lines.append(f"| {measure} | {sync_cell} | {async_cell} | {target} |")
    return "\n".join(lines)


def write_markdown(report: Report, info: dict[str, Any], path: Path) -> None:
    m = info["machine"]
    v = m["versions"]
    missed = [f.name for f in report.figures if f.ok is False]
    verdict = (
        "Targets missed in this run: " + "; ".join(missed) + "."
        if missed
        else "Every target held in this run."
    )
    text = f"""# Benchmark results

Written by `make bench` (`benchmarks/run.py`) on {info["date"]}; do not edit by hand.

Machine: {m["cpu"]}, {m["cores"]} cores, {m["os"]}; {m["implementation"]} {m["python"]};
requests {v["requests"]}, urllib3 {v["urllib3"]}, aiohttp {v["aiohttp"]}, attrs {v["attrs"]},
cattrs {v["cattrs"]}.

Each cell is the SDK's figure, the floor's in parentheses, and the ratio of the two, all
measured in the same run (medians of several runs, readers interleaved round by round). The
floors read the same streams with the least code that can: raw `requests` (`raw.read1`) or raw
`aiohttp` (`content.readany`), a split on blank lines and `json.loads` per event. The server is
a loopback HTTP/1.1 server in a separate process (pre-built bodies, one write per response,
chunked transfer coding in 16 KiB HTTP chunks; the "one HTTP chunk per event" rows, context
only, frame each event alone). CPU figures are the client process's CPU time; the server's
share of all CPU used while a stream is read is shown to prove the client dominates. "RSS
growth beyond text" is the RSS growth between 10% and 100% of a 200,000-chunk stream, minus
the UTF-8 size of the text that arrived meanwhile (the stream keeps it for `final_response()`).

{verdict}

{markdown_table(report)}
"""
    path.write_text(text)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (under a minute)")
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument("--only", help="comma-separated sections: stream,ttfc,send,...")
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
        else {"stream", "ttfc", "send", "concurrency", "connections", "import", "memory"}
    )
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
            if "stream" in sections:
                print(f"stream of {settings.stream_chunks:,} chunks, {settings.rounds} rounds:")
                bench_stream_cpu(runner, report, "packed")
                if settings.event_framing:
                    bench_stream_cpu(runner, report, "event")
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
        write_markdown(report, info, args.markdown)
        print(f"table: {args.markdown}")
    missed = [f.name for f in report.figures if f.ok is False]
    if missed:
        print("targets missed: " + "; ".join(missed))
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
