# Two commands for a new user: `make run` (the main job) and `make test` (the whole suite).
# Both create .venv, install the pinned dependencies and fetch the jars into the project first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-connect setup jars unit integration clean install lint wheel system bench

run: setup
	$(BIN)/python -m medallion.demo fitness

# The suite runs in $(TEST_WORKERS) processes, each with its own Spark session (a driver of up to 4 GiB); which
# tests share a process is decided in tests/conftest.py (the tests of each of the project's servers share one).
TEST_WORKERS ?= 2
IN_WORKERS := -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder  # the groups in conftest's order

test: system setup
	$(BIN)/python -m pytest $(IN_WORKERS) tests

# The databricks profile (tests/conftest.py): the session is a Spark Connect session on the project's own
# server (scripts/spark-connect.sh, started and stopped by the run, port $MEDALLION_CONNECT_PORT), as on
# Databricks' standard access mode and serverless. The tests that prove the library runs there: the fitness
# acceptance in batch mode (with a table-by-table comparison against classic Spark) and in stream mode,
# experiments and movies.
CONNECT_TESTS := tests/integration/fitness/test_batch.py tests/integration/fitness/test_stream.py \
	tests/integration/experiments tests/integration/movies tests/integration/test_spark_connect.py

test-connect: system setup
	$(BIN)/python -m pytest --profile databricks $(CONNECT_TESTS)

unit: setup
	$(BIN)/python -m pytest $(IN_WORKERS) tests/unit

integration: system setup
	$(BIN)/python -m pytest $(IN_WORKERS) tests/integration

setup: $(STAMP) jars

# Java, PostgreSQL and Chromium (the tests' system packages): installed as root, else the command is printed.
system:
	bash scripts/system-packages.sh

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src deployment tests benchmarks scripts
	$(BIN)/ruff format --check src deployment tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/python scripts/check_public_apis.py src

# The fitness pipeline against the I/O floor at SF1 and SF10 (22 minutes on the 2-core AMD machine): docs/benchmarks.md.
bench: setup
	$(BIN)/python -m benchmarks.fitness

# The wheel `medallion deploy` ships (reproducible: the same sources give the same file).
wheel: $(STAMP)
	SOURCE_DATE_EPOCH=315532800 $(BIN)/python -m pip wheel --no-deps --quiet --wheel-dir dist .

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

jars: $(STAMP)
	$(BIN)/python -m medallion.platform.jars spark kafka

clean:
	rm -rf .lakehouse .pytest_cache build dist
