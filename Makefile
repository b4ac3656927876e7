# The project's verbs. Every target creates the virtual environment on demand,
# so a fresh clone needs nothing but Python 3.10+ and make.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
STAMP := $(VENV)/.installed
UV := $(BIN)/uv
# Suites that run at once in test-matrix / test-versions (the CI machine has 2 cores).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Suites of `make test-versions` run JOBS at a time, each on SUITE_WORKERS processes:
# they mostly wait on sockets and timers, so more processes than cores still pays.
SUITE_WORKERS ?= 2

SCHEMA := schema/edgee.schema.json
GENERATED := edgee/models/_generated.py
LINTED := $(wildcard edgee tests codegen benchmarks examples fuzz tools)
CODEGEN_FLAGS := \
	--input $(SCHEMA) --input-file-type jsonschema \
	--output-model-type dataclasses.dataclass --target-python-version 3.10 \
	--use-standard-collections --use-union-operator --strict-nullable \
	--use-schema-description --use-field-description --disable-timestamp \
	--class-name EdgeeWireTypes \
	--custom-template-dir codegen/templates \
	--extra-template-data codegen/extra_template_data.json \
	--custom-file-header-path codegen/header.txt \
	--base-class edgee._convert.WireModel \
	--base-class-map "$$(cat codegen/base_classes.json)" \
	--formatters ruff-check ruff-format

.PHONY: install test test-matrix test-lowest test-versions test-py310 dist dist-smoke lint typecheck pytest codegen check-codegen api-diff demo bench bench-quick fuzz soak clean

# pip only bootstraps uv, which installs the dev extra in seconds (pip took a minute).
$(STAMP): pyproject.toml
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install -q 'uv>=0.8'
	$(UV) pip install -q --python $(PYTHON) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy --strict edgee

codegen: $(STAMP)
	$(BIN)/datamodel-codegen $(CODEGEN_FLAGS) --output $(GENERATED)

check-codegen: $(STAMP)
	@tmp=$$(mktemp -d) && \
	$(BIN)/datamodel-codegen $(CODEGEN_FLAGS) --output $$tmp/_generated.py && \
	if diff -u $(GENERATED) $$tmp/_generated.py; then echo "check-codegen: $(GENERATED) matches $(SCHEMA)"; rm -rf $$tmp; \
	else echo "check-codegen: $(GENERATED) is stale or was edited by hand; run 'make codegen'" >&2; rm -rf $$tmp; exit 1; fi

# What differs between the gateway's OpenAPI document (3.0 or 3.1) and $(SCHEMA), per model;
# exit 1 when something does (tools/api_diff.py; names mapped in tools/api_diff_names.json).
api-diff: $(STAMP)
	@test -n "$(OPENAPI)" || { echo "usage: make api-diff OPENAPI=path/to/openapi.json (the gateway's OpenAPI document, JSON or YAML)" >&2; exit 2; }
	@$(PYTHON) tools/api_diff.py "$(OPENAPI)" --schema $(SCHEMA)

# Worker processes per suite run (pytest-xdist); PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 4
pytest: $(STAMP)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS)

test: lint check-codegen pytest

# The suite in fresh venvs under .venvs/ (uv), JOBS at a time, by tools/suites.py; it says
# which ran, passed, failed or were not found. STRICT=1: a supported Python that is
# missing fails the run. COVERED=1: skip the matrix entry of .venv's Python (CI, right
# after `make test` ran the suite there).
SUITES = $(PYTHON) tools/suites.py --uv $(UV) --jobs $(JOBS) --workers $(SUITE_WORKERS) \
	$(if $(STRICT),--strict) \
	$(if $(COVERED),--covered-by $(PYTHON))

# The suite on every supported Python found here (3.10-3.13: pyenv, then PATH).
test-matrix: $(STAMP)
	$(SUITES) --matrix

# The suite on Python 3.10 with exactly the lowest versions pyproject.toml allows for
# every runtime dependency (constraints written by tools/lowest.py, checked in the venv).
test-lowest: $(STAMP)
	$(SUITES) --lowest

# Matrix and lowest sharing the cores; WHEEL=1 adds the suite against dist/'s wheel
# (after make dist-smoke). CI runs this.
test-versions: $(STAMP)
	$(SUITES) --matrix --lowest $(if $(WHEEL),--wheel)

# Kept for old habits: the matrix on 3.10 only.
test-py310: $(STAMP)
	$(SUITES) --matrix --pythons 3.10

# Build sdist and wheel, twine-check them, install the wheel (not editable) in a fresh
# venv and, outside the source tree, run `edgee demo`, the examples and the pytest
# plugin; from the unpacked sdist, `make codegen` (tools/dist.sh). `make dist` then runs
# the whole suite against the installed wheel.
dist-smoke: $(STAMP)
	bash tools/dist.sh $(BIN)

dist: dist-smoke
	$(SUITES) --wheel

demo: $(STAMP)
	$(BIN)/edgee demo

bench: $(STAMP)
	$(PYTHON) benchmarks/run.py

bench-quick: $(STAMP)
	$(PYTHON) benchmarks/run.py --quick

# Coverage-guided fuzzing (atheris) of the SSE decoder and the chunk parser: FUZZ_RUNS
# inputs per target, then a summary. Not part of `make test`. Findings go to build/fuzz/.
FUZZ_RUNS ?= 200000
fuzz: $(STAMP)
	@$(PYTHON) -c "import atheris" 2>/dev/null || $(PYTHON) -m pip install -q --only-binary=:all: atheris
	$(PYTHON) fuzz/run.py --runs $(FUZZ_RUNS)

# The long soak (a few minutes): 20,000 sequential streams per client, then 200 rounds of
# 100 concurrent async streams; sockets, threads and memory must stay flat. `make test`
# runs a short one (tests/hardening/test_soak.py).
SOAK_STREAMS ?= 20000
SOAK_ROUNDS ?= 200
soak: $(STAMP)
	$(PYTHON) tests/hardening/hardening_soak.py --streams $(SOAK_STREAMS) --rounds $(SOAK_ROUNDS)

clean:
	rm -rf $(VENV) .venvs build dist *.egg-info
