# The two commands a new user needs: `make demo` and `make test`.
# Each creates .venv (and installs any system package the project needs) when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The tests also need the spark extra and Java (the DuckDB/Spark agreement test); the
# demo does not, so `make demo` stays light.
SPARK_STAMP := $(VENV)/.spark-stamp

.PHONY: setup setup-spark demo test lint docs clean

$(STAMP): pyproject.toml scripts/setup.sh
	PYTHON=$(PYTHON) bash scripts/setup.sh
	touch $(STAMP)

$(SPARK_STAMP): $(STAMP) scripts/install-java.sh
	PYTHON=$(PYTHON) bash scripts/setup.sh --spark
	touch $(SPARK_STAMP)

setup: $(STAMP)

setup-spark: $(SPARK_STAMP)

demo: setup
	$(BIN)/sectorlink demo

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: lint setup-spark
	bash scripts/test.sh

docs: setup
	$(BIN)/sectorlink model docs docs/data-model.md

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
