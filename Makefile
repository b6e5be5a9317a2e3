# Two commands: `make run` serves the API, `make test` runs the whole suite (after `make lint`).
# Both create .venv and install the pinned requirements (again only when a requirements file changes);
# only the test targets install requirements-test.txt. `make test-fast`: the suite without its slow tests.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-requirements
TEST_STAMP := $(VENV)/.installed-test-requirements
BENCH_STAMP := $(VENV)/.installed-bench-requirements

.PHONY: run test test-fast test-one lint bench clean-data

# Processes for the fast tests (pytest-xdist): this machine's two cores.
FAST_WORKERS ?= 2

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@cp requirements.txt $(STAMP)

$(TEST_STAMP): requirements-test.txt $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@cp requirements-test.txt $(TEST_STAMP)

$(BENCH_STAMP): bench/requirements.txt $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	@cp bench/requirements.txt $(BENCH_STAMP)

run: $(STAMP)
	$(BIN)/python -m apps.api.tools.boot

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The suite also runs the benchmark's harness once on a tiny data set (tests/functional/test_bench_harness.py).
# Its fast part runs on FAST_WORKERS processes like test-fast, then the slow part (timing-sensitive: load,
# faults, gunicorn) in one; both always run, and either failing fails the target (5: PYTEST_ARGS selected
# none of that part's tests).
test: $(STAMP) $(TEST_STAMP) $(BENCH_STAMP) lint
	@$(BIN)/python -m pytest -m "not slow" -n $(FAST_WORKERS) $(PYTEST_ARGS); fast=$$?; \
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS); slow=$$?; \
	for code in $$fast $$slow; do test $$code -eq 0 -o $$code -eq 5 || exit 1; done

# The inner loop: every test but the slow ones (multi-process, fuzz, browser, faults, soak, bench; pytest.ini),
# on FAST_WORKERS pytest-xdist workers, each with a PostgreSQL of its own (FAST_WORKERS=1 for one process).
test-fast: $(STAMP) $(TEST_STAMP) $(BENCH_STAMP)
	$(BIN)/python -m pytest -m "not slow" -n $(FAST_WORKERS) $(PYTEST_ARGS)

# One module or -k expression in one process, slow tests included: make test-one T=tests/resources/test_jobs.py
# or make test-one T="-k idempotency".
test-one: $(STAMP) $(TEST_STAMP) $(BENCH_STAMP)
	$(BIN)/python -m pytest -n 0 -q $(T)

# BENCH_QUICK=1 for a smoke run (50,000 jobs); BENCH_JOBS to change the scale; BENCH_ARGS for bench/run.py.
# The seeded data sets are kept in BENCH_DATA_DIR and reused by the next run (the 1M set takes minutes).
BENCH_DATA_DIR ?= $(CURDIR)/.bench-data
bench: $(STAMP) $(BENCH_STAMP)
	BENCH_DATA_DIR=$(BENCH_DATA_DIR) $(BIN)/python -m bench.run $(BENCH_ARGS)

# As root the cluster lives in EMBEDDED_PG_HOME (apps/api/tools/embedded_root.py): remove it there too.
clean-data:
	@test ! -x $(BIN)/python || $(BIN)/python -c "from apps.api.tools.embedded_pg import dev_server; dev_server('.data').remove()"
	rm -rf .data
