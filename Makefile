# Two commands for a newcomer: `make run` and `make test`. Both build .venv from the lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-fast lint bench venv format

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: venv
	$(BIN)/flare run

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fast part while developing: everything but the multi-process suites (marker `slow`).
test-fast: venv
	$(BIN)/python -m pytest -m "not slow" -n auto $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# wrk (Debian's package) generates the page load; installed here if missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
bench: venv
	@command -v wrk >/dev/null 2>&1 || { echo "bench: installing wrk (apt-get)"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }
	$(BIN)/python -m bench $(BENCH_ARGS)
