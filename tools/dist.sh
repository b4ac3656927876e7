#!/usr/bin/env bash
# `make dist`: build the sdist and the wheel, check them, and test what a user installs.
#   tools/dist.sh BIN    (BIN: the dev venv's bin/, with python, uv and twine)
# 1. python -m build: the sdist, then the wheel built from that sdist; twine check --strict.
# 2. The wheel (not editable) plus the test extra into a fresh venv, .venvs/dist.
# 3. From a bare temp dir (no source tree): `edgee demo`, the examples against the loopback
#    gateway (tests/cli/test_examples.py, copied from the sdist) and the pytest plugin smoke
#    test (tests/dist_smoke/plugin_smoke.py).
# 4. From the unpacked sdist: `make check-codegen` and `make codegen` (the sdist holds the
#    schema and templates).
# `make dist` then runs the whole suite against the wheel (tools/suites.py --wheel).
set -euo pipefail
BIN=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
ROOT=$PWD
export UV_PYTHON_DOWNLOADS=never
step() { printf '\ndist: %s\n' "$*"; }

step "build sdist and wheel"
rm -rf dist
"$BIN/python" -m build --installer uv --outdir dist . >build-dist.log 2>&1 \
    || { cat build-dist.log; rm -f build-dist.log; exit 1; }
rm -f build-dist.log
sdist=$(ls dist/edgee-*.tar.gz)
wheel=$(ls dist/edgee-*.whl)
ls -l dist
"$BIN/twine" check --strict dist/*
"$BIN/python" tools/check_dist.py "$sdist" "$wheel"

step "install the wheel into a fresh venv"
venv=$ROOT/.venvs/dist
"$BIN/uv" venv --clear -q --python "$BIN/python" "$venv"
"$BIN/uv" pip install -q --python "$venv/bin/python" "$wheel[test]"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$sdist" -C "$work"
src=$(echo "$work"/edgee-*/)

step "outside the source tree ($work/smoke): edgee demo, examples, pytest plugin"
mkdir -p "$work/smoke/tests/cli"
cp -r "$src/examples" "$work/smoke/"
cp "$src"/tests/cli/{conftest.py,cli_helpers.py,test_examples.py} "$work/smoke/tests/cli/"
cp "$src/tests/dist_smoke/plugin_smoke.py" "$work/smoke/"
(
    cd "$work/smoke"
    env -u VIRTUAL_ENV -u PYTHONPATH "$venv/bin/edgee" demo >demo.log 2>&1 \
        || { cat demo.log; exit 1; }
    tail -n 5 demo.log
    grep -q "steps worked" demo.log
    env -u VIRTUAL_ENV -u PYTHONPATH "$venv/bin/pytest" -q -p no:cacheprovider \
        tests/cli/test_examples.py plugin_smoke.py
)

step "from the unpacked sdist: make check-codegen, make codegen"
# -o: the sdist has no .venv; BIN: the wheel's venv has datamodel-codegen and ruff.
make -s -C "$src" -o .venv/.installed BIN="$venv/bin" check-codegen
make -s -C "$src" -o .venv/.installed BIN="$venv/bin" codegen
cmp "$src/edgee/models/_generated.py" "$ROOT/edgee/models/_generated.py"
echo "dist: make codegen in the unpacked sdist rebuilt edgee/models/_generated.py identically"

echo "dist: OK: $(basename "$sdist") and $(basename "$wheel") in dist/"
