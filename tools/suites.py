"""Run the test suite in fresh venvs: each supported Python, and/or the lowest dependencies.

    python tools/suites.py --uv .venv/bin/uv [--matrix] [--lowest] [--jobs N] [--strict]

--matrix   one venv per supported Python found on the machine (pyenv's versions first,
           then PATH), with the latest allowed dependencies.
--lowest   one venv on the oldest supported Python found, with exactly the floors of
           [project].dependencies (tools/lowest.py writes them as constraints and checks
           the venv holds them).

Venvs go to .venvs/<name> (created by uv: seconds each), logs to build/suites/<name>.log.
The venvs are set up one after another (editable installs write into the source tree),
then their suites run in parallel, --jobs at a time. The end is a table of what ran,
passed or failed, and which supported Pythons could not be found; --strict makes a
missing one fail the run too (CI uses it).
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import lowest  # noqa: E402  (tools/ is not a package)

# The Pythons requires-python and the trove classifiers promise.
SUPPORTED = ("3.10", "3.11", "3.12", "3.13")


@dataclass
class Job:
    name: str
    python: Path
    version: str
    constraints: Path | None = None
    venv: Path = field(init=False)
    log: Path = field(init=False)
    status: str = "not run"
    summary: str = ""
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.venv = ROOT / ".venvs" / self.name
        self.log = ROOT / "build" / "suites" / f"{self.name}.log"


def find_python(version: str) -> tuple[Path, str] | None:
    """The newest CPython `version` (like "3.12") here, and its full version, or None."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = glob.glob(str(pyenv / f"{version}.*" / "bin" / f"python{version}"))
    # Only plain releases (3.12.1, not 3.12-dev or 3.13.0t), newest patch first.
    found = [p for p in found if re.fullmatch(rf"{re.escape(version)}\.\d+", Path(p).parts[-3])]
    found.sort(key=lambda p: int(Path(p).parts[-3].rsplit(".", 1)[1]), reverse=True)
    on_path = shutil.which(f"python{version}")
    candidates = [*found, *([on_path] if on_path else [])]
    probe = "import sys; print(sys.implementation.name, *sys.version_info[:3])"
    for candidate in candidates:
        # pyenv's shims are on PATH even for versions it does not activate: run each one.
        try:
            out = subprocess.run(
                [candidate, "-c", probe],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        words = out.stdout.split()
        if out.returncode == 0 and len(words) == 4 and words[0] == "cpython":
            full = ".".join(words[1:])
            if full.startswith(version + "."):
                return Path(candidate), full
    return None


def run(cmd: list[str | Path]) -> None:
    print("  $", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT)


def set_up(job: Job, uv: Path) -> None:
    """A fresh venv with edgee (editable) and the test extra, under the job's constraints."""
    print(f"suites: setting up {job.name} (Python {job.version})", flush=True)
    run([uv, "venv", "--clear", "-q", "--python", job.python, job.venv])
    install = [uv, "pip", "install", "-q", "--python", job.venv / "bin" / "python"]
    if job.constraints is not None:
        install += ["--constraints", job.constraints]
    run([*install, "-e", ".[test]"])
    if job.constraints is not None:
        print(f"suites: {job.name} holds the floors:", flush=True)
        run([job.venv / "bin" / "python", ROOT / "tools" / "lowest.py", "verify", job.constraints])


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


def run_suites(jobs: list[Job], parallel: int) -> None:
    """Each job's pytest, `parallel` at a time; reports each one as it ends."""
    waiting = list(jobs)
    running: dict[subprocess.Popen[bytes], tuple[Job, float]] = {}
    while waiting or running:
        while waiting and len(running) < parallel:
            job = waiting.pop(0)
            job.log.parent.mkdir(parents=True, exist_ok=True)
            with job.log.open("wb") as log:
                proc = subprocess.Popen(
                    [str(job.venv / "bin" / "pytest"), "-q"],
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=child_env(),
                )
            running[proc] = (job, time.monotonic())
            print(f"suites: {job.name}: pytest started", flush=True)
        time.sleep(0.2)
        for proc in [p for p in running if p.poll() is not None]:
            job, started = running.pop(proc)
            job.seconds = time.monotonic() - started
            job.status = "PASS" if proc.returncode == 0 else f"FAIL (exit {proc.returncode})"
            job.summary = last_summary(job.log)
            print(f"suites: {job.name}: {job.status}: {job.summary}", flush=True)
            if proc.returncode != 0:
                tail = job.log.read_text(errors="replace").splitlines()[-40:]
                print("\n".join(f"  | {line}" for line in tail), flush=True)


def last_summary(log: Path) -> str:
    """pytest's closing line ("1194 passed in 53.8s"), without its = padding."""
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if re.search(r"\b(passed|failed|error|errors|no tests ran)\b", line):
            return line.strip("= ").strip()
    return "(no pytest summary line; see the log)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uv", type=Path, required=True)
    parser.add_argument("--matrix", action="store_true")
    parser.add_argument("--lowest", action="store_true")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--strict", action="store_true", help="a missing Python fails the run")
    parser.add_argument("--pythons", default=",".join(SUPPORTED), help="matrix subset: 3.10,3.12")
    args = parser.parse_args()
    if not (args.matrix or args.lowest):
        parser.error("say --matrix, --lowest or both")
    os.environ["UV_PYTHON_DOWNLOADS"] = "never"  # only this machine's interpreters

    wanted = [v.strip() for v in args.pythons.split(",") if v.strip()]
    unknown = [v for v in wanted if v not in SUPPORTED]
    if unknown:
        parser.error(f"not a supported Python: {', '.join(unknown)} (supported: {SUPPORTED})")
    found = {v: find_python(v) for v in SUPPORTED}
    missing = [v for v, hit in found.items() if hit is None and v in wanted]
    jobs: list[Job] = []
    if args.matrix:
        jobs += [Job(f"py{v}", hit[0], hit[1]) for v, hit in found.items() if hit and v in wanted]
    if args.lowest:
        oldest = next(((v, hit) for v, hit in found.items() if hit is not None), None)
        if oldest is None:
            print("suites: no supported Python found for the lowest dependencies", file=sys.stderr)
            return 1
        if oldest[0] != SUPPORTED[0]:
            print(f"suites: no Python {SUPPORTED[0]}: lowest dependencies on {oldest[0]}")
        constraints = ROOT / "build" / "suites" / "lowest-constraints.txt"
        constraints.parent.mkdir(parents=True, exist_ok=True)
        pins = lowest.constraints(ROOT / "pyproject.toml")
        constraints.write_text("\n".join(pins) + "\n")
        jobs.append(Job("lowest", oldest[1][0], oldest[1][1], constraints=constraints))

    started = time.monotonic()
    for job in jobs:
        set_up(job, args.uv)
    set_up_seconds = time.monotonic() - started
    run_suites(jobs, max(1, args.jobs))

    print(
        f"\nsuites: {len(jobs)} venvs set up in {set_up_seconds:.0f}s; "
        f"suites ran {max(1, args.jobs)} at a time; total {time.monotonic() - started:.0f}s"
    )
    for job in jobs:
        what = "lowest deps" if job.constraints else "latest deps"
        print(
            f"  {job.name:<8} Python {job.version:<8} {what:<12} {job.status:<6} "
            f"{job.summary}  ({job.seconds:.0f}s, log {job.log.relative_to(ROOT)})"
        )
    if args.matrix:
        for v in missing:
            print(f"  py{v:<6} NOT FOUND: no python{v} under ~/.pyenv/versions or on PATH; not run")
    failed = [job for job in jobs if job.status != "PASS"]
    if failed:
        print(f"suites: FAILED: {', '.join(job.name for job in failed)}", file=sys.stderr)
        return 1
    if args.matrix and missing and args.strict:
        print(f"suites: FAILED: Python {', '.join(missing)} not found (--strict)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
