"""Figures, their ratios to the floors, and the console, JSON and Markdown output.

A :class:`Figure` is one measured value of one reader with the floor it is
compared with (measured in the same run), the target on their ratio, and the
samples behind both medians (so the spread can be shown: machines are noisy).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


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
    paired: bool = True  # samples[i] and floor_samples[i] come from the same round

    @property
    def ratio(self) -> float | None:
        if self.floor is None or self.floor == 0 or not self.show_ratio:
            return None
        return self.value / self.floor

    @property
    def ratio_range(self) -> tuple[float, float] | None:
        """Lowest and highest round-by-round ratio (the noise of the median's ratio)."""
        if not self.paired or self.ratio is None or len(self.samples) != len(self.floor_samples):
            return None
        pairs = [(v, f) for v, f in zip(self.samples, self.floor_samples, strict=True) if f]
        if len(pairs) < 2:
            return None
        ratios = [v / f for v, f in pairs]
        return min(ratios), max(ratios)

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


def _range_text(f: Figure) -> str:
    span = f.ratio_range
    return f"{span[0]:.2f}-{span[1]:.2f}" if span else ""


def print_figure(f: Figure) -> None:
    ratio = f"{f.ratio:.2f}x" if f.ratio is not None else ""
    verdict = {True: "ok", False: "MISS", None: ""}[f.ok]
    floor = f"{fmt(f.floor)} {f.floor_name or ''}" if f.floor is not None else ""
    print(
        f"  {f.name}\n      {fmt(f.value):>8} {f.unit:9} floor {floor:56.56} {ratio:>7}"
        f" {_range_text(f):>10}  {f.target_text:>8} {verdict}"
    )


def median(xs: list[float]) -> float:
    return statistics.median(xs)


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


def write_json(report: Report, settings: Any, info: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "date": info["date"],
        "machine": info["machine"],
        "settings": asdict(settings),
        "figures": [{**asdict(f), "ratio": f.ratio} for f in report.figures],
        "extra": report.extra,
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


def markdown_table(report: Report) -> str:
    """One row per figure: the reader's value, its floor, their ratio and the target."""
    lines = [
        "| measure | value | floor (same run) | ratio | ratio range | target | |",
        "|---|---:|---|---:|---:|---|---|",
    ]
    for f in report.figures:
        floor = f"{fmt(f.floor)} ({f.floor_name})" if f.floor is not None else ""
        ratio = f"**{f.ratio:.2f}x**" if f.ratio is not None else ""
        verdict = {True: "ok", False: "**MISS**", None: ""}[f.ok]
        lines.append(
            f"| {f.name} | {fmt(f.value)} {f.unit} | {floor} | {ratio} | {_range_text(f)} "
            f"| {f.target_text} | {verdict} |"
        )
    return "\n".join(lines)


def write_markdown(report: Report, info: dict[str, Any], path: Path, about: str) -> None:
    """RESULTS.md: the machine, how the figures were made (``about``), the table."""
    m = info["machine"]
    v = m["versions"]
    missed = [f.name for f in report.figures if f.ok is False]
    verdict = (
        "Targets missed in this run: " + "; ".join(missed) + "."
        if missed
        else "Every target held in this run."
    )
    peers = ", ".join(f"{k} {v}" for k, v in info.get("peers", {}).items()) or "none"
    text = f"""# Benchmark results

Written by `make bench` (`benchmarks/run.py`) on {info["date"]}; do not edit by hand.

Machine: {m["cpu"]}, {m["cores"]} cores, {m["os"]}; {m["implementation"]} {m["python"]};
requests {v["requests"]}, urllib3 {v["urllib3"]}, aiohttp {v["aiohttp"]}, attrs {v["attrs"]},
cattrs {v["cattrs"]}. Peers: {peers}.

{about}

{verdict}

{markdown_table(report)}
"""
    path.write_text(text)
