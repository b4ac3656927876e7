"""Run every atheris target for a bounded number of iterations (``make fuzz``).

Each target starts from the seeds in ``fuzz/corpus/<target>`` (copied into a
scratch corpus under ``build/fuzz`` so the repository's seeds never change),
uses the dictionary ``fuzz/sse.dict``, and stops after ``--runs`` inputs.
An input slower than ``--timeout`` seconds counts as a hang and fails the run,
like any crash or broken property. A summary (iterations, seconds, coverage
features, corpus size) is printed at the end; the exit status is non-zero if
any target failed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGETS = {"sse": "fuzz_sse.py", "chunks": "fuzz_chunks.py"}


def run_target(name: str, script: str, args: argparse.Namespace) -> tuple[bool, str]:
    work = ROOT / "build" / "fuzz" / name
    artifacts = ROOT / "build" / "fuzz" / "artifacts" / name
    work.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    for seed in (HERE / "corpus" / name).iterdir():
        shutil.copy(seed, work / seed.name)
    command = [
        sys.executable,
        str(HERE / script),
        f"-runs={args.runs}",
        f"-max_len={args.max_len}",
        f"-timeout={args.timeout}",
        "-rss_limit_mb=2048",
        f"-dict={HERE / 'sse.dict'}",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
        str(work),
    ]
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    log = proc.stdout + proc.stderr
    (ROOT / "build" / "fuzz" / f"{name}.log").write_text(log)
    done = re.search(r"Done (\d+) runs in (\d+) second", log)
    features = re.findall(r"ft: (\d+)", log)
    corpus = len(list(work.iterdir()))
    ok = proc.returncode == 0 and done is not None
    runs = done.group(1) if done else "?"
    summary = (
        f"{name:7} {'ok' if ok else 'FAILED':7} runs={runs:>8} time={elapsed:6.1f}s "
        f"features={features[-1] if features else '?':>5} corpus={corpus}"
    )
    if not ok:
        tail = "\n".join(log.splitlines()[-40:])
        summary += f"\n--- last lines of build/fuzz/{name}.log ---\n{tail}"
    return ok, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200_000, help="inputs per target")
    parser.add_argument("--max-len", type=int, default=4096, help="longest input, in bytes")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take")
    parser.add_argument("targets", nargs="*", help=f"targets to run (default: {' '.join(TARGETS)})")
    args = parser.parse_args()
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; choose from {list(TARGETS)}")
    results = [run_target(name, TARGETS[name], args) for name in args.targets or TARGETS]
    print("fuzz summary")
    for _ok, summary in results:
        print(summary)
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
