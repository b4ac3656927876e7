"""``import edgee`` against ``import requests``: ``-X importtime`` in fresh interpreters."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile

from _harness import Settings
from _report import Figure, Report

median = statistics.median


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
            target=0.8,
            target_text="<= 0.8x",
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
