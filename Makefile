# The two commands a new user needs: `make demo` and `make test`.
# Each creates .venv (and installs any system package the project needs) when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint docs clean

$(STAMP): pyproject.toml scripts/setup.sh
	PYTHON=$(PYTHON) bash scripts/setup.sh
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/sectorlink demo

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: lint
	bash scripts/test.sh

docs: setup
	$(BIN)/sectorlink model docs docs/data-model.md

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
