# The project's verbs. Every target creates the virtual environment on demand,
# so a fresh clone needs nothing but Python 3.10+ and make.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
STAMP := $(VENV)/.installed

SCHEMA := schema/edgee.schema.json
GENERATED := edgee/models/_generated.py
LINTED := $(wildcard edgee tests codegen benchmarks examples fuzz)
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

# The oldest supported Python, when the machine has one (pyenv keeps it here).
PY310 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10) $(shell command -v python3.10 2>/dev/null))
VENV310 ?= .venv310

.PHONY: install test test-py310 lint typecheck pytest codegen check-codegen demo bench bench-quick fuzz soak clean

$(STAMP): pyproject.toml
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -e '.[dev]'
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

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint check-codegen pytest

# The suite again on Python 3.10 (requires-python's floor), if it is installed.
test-py310:
	@if [ -z "$(PY310)" ] || ! "$(PY310)" -c "import sys" 2>/dev/null; then \
		echo "test-py310: no Python 3.10 on this machine; not run"; \
	else \
		test -x $(VENV310)/bin/python || "$(PY310)" -m venv $(VENV310); \
		$(VENV310)/bin/python -m pip install -q --upgrade pip; \
		$(VENV310)/bin/python -m pip install -q -e '.[dev]'; \
		$(VENV310)/bin/pytest -q; \
	fi

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
	rm -rf $(VENV) build *.egg-info
