# Two entry points: `make demo` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test
# two pytest workers (a test file stays on one): most tests wait on servers and timeouts, not on the CPU
TEST_WORKERS ?= 2

.PHONY: demo test bench lint typecheck clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	$(BIN)/python -m compileall -q collector  # bytecode, as pip writes it for an installed package
	touch $(STAMP)

$(TESTSTAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[test]'
	touch $(TESTSTAMP)

demo: $(STAMP)
	$(BIN)/collector demo
	@echo 'next: run ". .venv/bin/activate" to put collector on your PATH for the commands in README.md'

test: $(TESTSTAMP)
	$(BIN)/ruff check collector tests benchmarks
	$(BIN)/mypy collector
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

bench: $(TESTSTAMP)
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m compileall -q collector
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

lint: $(TESTSTAMP)
	$(BIN)/ruff check collector tests benchmarks

typecheck: $(TESTSTAMP)
	$(BIN)/mypy collector

clean:
	rm -rf $(VENV) runs build *.egg-info collector/platforms/__cache__
