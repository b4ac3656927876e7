"""Check what the sdist and the wheel hold (run by `make dist` after `twine check`).

    python tools/check_dist.py dist/edgee-X.tar.gz dist/edgee-X-py3-none-any.whl

The sdist must be a working source tree (schema, codegen templates, Makefile, tests and
what they read); the wheel must hold the package with its typing marker, generated
models, entry points and declared dependencies, and nothing else.
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SDIST_NEEDS = [
    "pyproject.toml",
    "README.md",
    "Makefile",
    "schema/edgee.schema.json",
    "codegen/base_classes.json",
    "codegen/extra_template_data.json",
    "codegen/header.txt",
    "edgee/models/_generated.py",
    "tests/conftest.py",
    "tests/cli/test_examples.py",
    "tests/dist_smoke/plugin_smoke.py",
    "fuzz/stream_harness.py",
    "docs/reliability.md",
    "tools/lowest.py",
    "LICENSE",
]
WHEEL_NEEDS = [
    "edgee/__init__.py",
    "edgee/py.typed",
    "edgee/models/_generated.py",
    "edgee/testing/pytest_plugin.py",
]


def main(sdist: Path, wheel: Path) -> int:
    problems: list[str] = []

    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    templates = sorted(ROOT.glob("codegen/templates/**/*"))
    needs = SDIST_NEEDS + [str(p.relative_to(ROOT)) for p in templates if p.is_file()]
    needs += [str(p.relative_to(ROOT)) for p in sorted(ROOT.glob("examples/*.py"))]
    problems += [f"sdist lacks {name}" for name in needs if name not in names]
    problems += [f"sdist holds {name}" for name in names if "__pycache__" in name]
    print(f"check_dist: sdist {top}: {len(names)} entries")

    with zipfile.ZipFile(wheel) as whl:
        files = whl.namelist()
        info = next(n.split("/")[0] for n in files if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(whl.read(f"{info}/METADATA").decode())
        entry_points = whl.read(f"{info}/entry_points.txt").decode()
    problems += [f"wheel lacks {name}" for name in WHEEL_NEEDS if name not in files]
    problems += [
        f"wheel holds {name} (outside the package)"
        for name in files
        if not name.startswith(("edgee/", f"{info}/"))
    ]
    if "edgee = edgee.testing.pytest_plugin" not in entry_points:
        problems.append("wheel's entry points lack the pytest11 plugin")
    if "edgee = edgee.cli:main" not in entry_points:
        problems.append("wheel's entry points lack the edgee command")
    requires = metadata.get_all("Requires-Dist") or []
    runtime = [r for r in requires if "extra ==" not in r]
    print(f"check_dist: wheel {info}: {len(files)} files; requires {', '.join(runtime)}")
    for name in ("requests", "urllib3", "aiohttp", "yarl", "attrs", "cattrs"):
        if not any(r.startswith(f"{name}>=") for r in runtime):
            problems.append(f"wheel's metadata has no floor for {name}")
    if metadata.get("License-Expression") != "Apache-2.0":
        problems.append("wheel's metadata has no License-Expression: Apache-2.0")
    if f"{info}/licenses/LICENSE" not in files:
        problems.append("wheel lacks the LICENSE text")
    classifiers = metadata.get_all("Classifier") or []
    for version in ("3.10", "3.11", "3.12", "3.13"):
        if f"Programming Language :: Python :: {version}" not in classifiers:
            problems.append(f"wheel's classifiers lack Python {version}")

    for problem in problems:
        print(f"check_dist: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
