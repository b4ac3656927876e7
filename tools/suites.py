"""Run the test suite in fresh venvs: each supported Python, the lowest dependencies, the wheel.

    python tools/suites.py --uv .venv/bin/uv [--matrix] [--lowest] [--wheel] [--jobs N]
                           [--pythons 3.10,3.12] [--strict] [--covered-by PYTHON]

--matrix   one venv per supported Python found on the machine (pyenv's versions first,
           then PATH), edgee editable, the latest allowed dependencies.
--lowest   one venv on the oldest supported Python found, with exactly the floors of
           [project].dependencies (tools/lowest.py writes them as constraints and checks
           the venv holds them).
--wheel    the built wheel (dist/, from `make dist-smoke`) installed, not editable, and
           the suite run from the unpacked sdist with its edgee/ removed: every import
           finds the wheel's package.
--covered-by PYTHON   skip the matrix entry of PYTHON's version: the caller has just run
           the suite on that interpreter with the latest dependencies (CI: `make test`).

Venvs go to .venvs/<name> (uv: seconds each), logs to build/suites/<name>.log. The venvs
are set up one after another (editable installs write into the source tree), then the
suites run in parallel, --jobs at a time. The end is a table of what ran, passed or
failed, and which supported Pythons could not be found; --strict makes a missing one fail
the run too (CI uses it).
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import lowest  # noqa: E402  (tools/ is not a package)

# The Pythons requires-python and the trove classifiers promise.
SUPPORTED = ("3.10", "3.11", "3.12", "3.13")
BUILD = ROOT / "build" / "suites"


@dataclass
class Job:
    name: str
    python: Path
    version: str
    what: str
    install: list[str | Path] = field(default_factory=lambda: ["-e", ".[test]"])
    constraints: Path | None = None
    cwd: Path = ROOT
    venv: Path = field(init=False)
    log: Path = field(init=False)
    status: str = "not run"
    summary: str = ""
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.venv = ROOT / ".venvs" / self.name
        self.log = BUILD / f"{self.name}.log"


def probe(python: str | Path) -> str | None:
    """The full version ("3.12.1") of the CPython at `python`, or None if it does not run."""
    code = "import sys; print(sys.implementation.name, *sys.version_info[:3])"
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = out.stdout.split()
    if out.returncode != 0 or len(words) != 4 or words[0] != "cpython":
        return None
    return ".".join(words[1:])


def find_python(version: str) -> tuple[Path, str] | None:
    """The newest CPython `version` (like "3.12") here, and its full version, or None."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = glob.glob(str(pyenv / f"{version}.*" / "bin" / f"python{version}"))
    # Only plain releases (3.12.1, not 3.12-dev or 3.13.0t), newest patch first.
    found = [p for p in found if re.fullmatch(rf"{re.escape(version)}\.\d+", Path(p).parts[-3])]
    found.sort(key=lambda p: int(Path(p).parts[-3].rsplit(".", 1)[1]), reverse=True)
    on_path = shutil.which(f"python{version}")
    # pyenv's shims are on PATH even for versions it does not activate: run each one.
    for candidate in [*found, *([on_path] if on_path else [])]:
        full = probe(candidate)
        if full is not None and full.startswith(version + "."):
            return Path(candidate), full
    return None


def run(cmd: list[str | Path], cwd: Path = ROOT) -> None:
    print("  $", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=cwd, env=child_env())


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["UV_PYTHON_DOWNLOADS"] = "never"  # only this machine's interpreters
    return env


def set_up(job: Job, uv: Path) -> None:
    """A fresh venv with the job's install (edgee and the test extra) and constraints."""
    print(f"suites: setting up {job.name} (Python {job.version}, {job.what})", flush=True)
    run([uv, "venv", "--clear", "-q", "--python", job.python, job.venv])
    install: list[str | Path] = [
        uv,
        "pip",
        "install",
        "-q",
        "--python",
        job.venv / "bin" / "python",
    ]
    if job.constraints is not None:
        install += ["--constraints", job.constraints]
    run([*install, *job.install])
    if job.constraints is not None:
        print(f"suites: {job.name} holds the floors:", flush=True)
        run([job.venv / "bin" / "python", ROOT / "tools" / "lowest.py", "verify", job.constraints])


def wheel_job(python: Path, version: str) -> Job:
    """The suite against dist/'s wheel, from its sdist unpacked without edgee/."""
    wheels = sorted((ROOT / "dist").glob("edgee-*.whl"))
    sdists = sorted((ROOT / "dist").glob("edgee-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise SystemExit("suites: --wheel needs one wheel and one sdist in dist/: make dist-smoke")
    tree = BUILD / "sdist"
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    with tarfile.open(sdists[0]) as tar:
        # Our own sdist, just built; "data" refuses links and paths out of the tree.
        if hasattr(tarfile, "data_filter"):
            tar.extractall(tree, filter="data")
        else:  # Pythons before 3.10.12 / 3.11.4 have no extraction filters
            tar.extractall(tree)
    (src,) = tree.iterdir()
    # The tree's edgee/ goes, but for the generated module that tests/models diffs
    # against: a folder without __init__.py never shadows the installed package.
    generated = (src / "edgee/models/_generated.py").read_bytes()
    shutil.rmtree(src / "edgee")
    (src / "edgee/models").mkdir(parents=True)
    (src / "edgee/models/_generated.py").write_bytes(generated)
    return Job("wheel", python, version, "built wheel", [f"{wheels[0]}[test]"], cwd=src)


def check_imports_the_wheel(job: Job) -> None:
    code = "import edgee; print(edgee.__file__)"
    where = subprocess.run(
        [job.venv / "bin" / "python", "-c", code],
        cwd=job.cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if "site-packages" not in where:
        raise SystemExit(f"suites: wheel job imports edgee from {where}, not the wheel")
    print(f"suites: wheel: edgee is imported from {where}", flush=True)


def run_suites(jobs: list[Job], parallel: int, workers: int) -> None:
    """Each job's pytest, `parallel` at a time, each on `workers` processes (pytest-xdist;
    0: in one process); reports each one as it ends."""
    waiting = list(jobs)
    running: dict[subprocess.Popen[bytes], tuple[Job, float]] = {}
    while waiting or running:
        while waiting and len(running) < parallel:
            job = waiting.pop(0)
            with job.log.open("wb") as log:
                proc = subprocess.Popen(
                    [str(job.venv / "bin" / "pytest"), "-q", "-n", str(workers)],
                    cwd=job.cwd,
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
    parser.add_argument("--wheel", action="store_true")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--workers", type=int, default=2, help="pytest-xdist workers per suite (0: none)"
    )
    parser.add_argument("--pythons", default=",".join(SUPPORTED), help="matrix subset: 3.10,3.12")
    parser.add_argument("--strict", action="store_true", help="a missing Python fails the run")
    parser.add_argument("--covered-by", type=Path, help="skip this interpreter's matrix entry")
    args = parser.parse_args()
    if not (args.matrix or args.lowest or args.wheel):
        parser.error("say --matrix, --lowest, --wheel or several")
    wanted = [v.strip() for v in args.pythons.split(",") if v.strip()]
    unknown = [v for v in wanted if v not in SUPPORTED]
    if unknown:
        parser.error(f"not a supported Python: {', '.join(unknown)} (supported: {SUPPORTED})")
    BUILD.mkdir(parents=True, exist_ok=True)

    found = {v: find_python(v) for v in SUPPORTED}
    missing = [v for v, hit in found.items() if hit is None and v in wanted]
    covered = probe(args.covered_by) if args.covered_by else None
    jobs: list[Job] = []
    notes: list[str] = []
    if args.matrix:
        for v, hit in found.items():
            if hit is None or v not in wanted:
                continue
            if covered is not None and covered == hit[1]:
                notes.append(
                    f"  py{v:<6} Python {covered:<8} latest deps  SKIPPED: the caller "
                    f"ran the suite on it ({args.covered_by})"
                )
                continue
            jobs.append(Job(f"py{v}", hit[0], hit[1], "latest deps"))
    if args.lowest:
        oldest = next(((v, hit) for v, hit in found.items() if hit is not None), None)
        if oldest is None:
            print("suites: no supported Python found for the lowest dependencies", file=sys.stderr)
            return 1
        if oldest[0] != SUPPORTED[0]:
            print(f"suites: no Python {SUPPORTED[0]}: lowest dependencies on {oldest[0]}")
        constraints = BUILD / "lowest-constraints.txt"
        constraints.write_text("\n".join(lowest.constraints(ROOT / "pyproject.toml")) + "\n")
        python, version = oldest[1]
        jobs.append(Job("lowest", python, version, "lowest deps", constraints=constraints))
    if args.wheel:
        # The interpreter this script runs on (the dev venv's): resolve to its base.
        base = Path(getattr(sys, "_base_executable", sys.executable))
        jobs.append(wheel_job(base, ".".join(map(str, sys.version_info[:3]))))

    started = time.monotonic()
    for job in jobs:
        set_up(job, args.uv)
        if job.name == "wheel":
            check_imports_the_wheel(job)
    set_up_seconds = time.monotonic() - started
    parallel = max(1, args.jobs)
    run_suites(jobs, parallel, args.workers)

    print(
        f"\nsuites: {len(jobs)} venvs set up in {set_up_seconds:.0f}s; suites ran {parallel} "
        f"at a time; total {time.monotonic() - started:.0f}s"
    )
    for job in jobs:
        print(
            f"  {job.name:<8} Python {job.version:<8} {job.what:<12} {job.status:<6} "
            f"{job.summary}  ({job.seconds:.0f}s, log {job.log.relative_to(ROOT)})"
        )
    for note in notes:
        print(note)
    if args.matrix:
        for v in missing:
            print(f"  py{v:<6} NOT FOUND: no python{v} under ~/.pyenv/versions or on PATH; not run")
    failed = [job for job in jobs if job.status != "PASS"]
    # The tests of all suites, on the plain closing line CI reads ("N passed, N failed").
    counts = {"passed": 0, "failed": 0}
    for job in jobs:
        for number, word in re.findall(r"(\d+) (passed|failed|errors?)\b", job.summary):
            counts["passed" if word == "passed" else "failed"] += int(number)
    print(f"suites: {counts['passed']} passed, {counts['failed']} failed")
    if failed:
        print(f"suites: FAILED: {', '.join(job.name for job in failed)}", file=sys.stderr)
        return 1
    if args.matrix and missing and args.strict:
        print(f"suites: FAILED: Python {', '.join(missing)} not found (--strict)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
