"""Run one differential script under both SDKs and print both runs side by side.

.venv/bin/python tests/compat/show.py SCRIPT [SCRIPT...]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import test_differential as td


def main(names: list[str]) -> int:
    official_python = str(td.ensure_official_venv())
    failed = 0
    for name in names or td.SCRIPT_NAMES:
        path = td.SCRIPTS / f"{name}.py"
        replies = td.gateway_script(path)
        official = td.run_script(official_python, path, replies)
        ours = td.run_script(sys.executable, path, replies)
        problems = td.compare(name, official, ours)
        print(f"=== {name}: {len(official.steps)} steps, {len(problems)} difference(s)")
        for side, run in (("official", official), ("ours", ours)):
            print(f"--- {side} ({run.ending}, {len(run.requests)} requests)")
            for step, value in run.steps:
                print(f"    {step}: {value}")
            if run.ending != "exit 0":
                print("    " + "\n    ".join(run.stderr.strip().splitlines()[-6:]))
        for p in problems:
            print(f"  ! {p}")
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
