# Strengthmap: `make run` starts the web app on the Leeds data; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast setup system lint typecheck pytest bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Start the web app (SQLite default); on first run creates the database and loads the data.
run: $(STAMP)
	$(BIN)/strengthmap serve

## Everything CI runs: system packages and services, lint, types, all tests.
test: $(STAMP) system lint typecheck pytest

## The inner loop: ruff, then the tests that need no browser, no real data and no slow run
## (both backends still: the PostGIS server must be up, or set STRENGTHMAP_TEST_POSTGIS=off).
test-fast: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/pytest -q -x -m "not browser and not slow and not realdata" $(PYTEST_ARGS)

system:
	bash scripts/ensure-system.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py --quick

## Regenerate the docs made from the code: the CLI reference (docs/cli.md; a test fails when stale).
docs: $(STAMP)
	$(BIN)/python scripts/gen_cli_docs.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
