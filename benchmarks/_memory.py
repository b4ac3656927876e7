"""RSS of one long stream per reader, each in a fresh process (``run.py --probe-rss``)."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from _clients import ASYNC_READERS, SYNC_READERS
from _harness import Server, Settings, check_stream
from _report import Figure, Report, print_figure
from _wire import stream_bytes, stream_text, text_length

MIB = 1024 * 1024
RUN_PY = Path(__file__).resolve().parent / "run.py"


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
                str(RUN_PY),
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
