# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo check test test-postgres wheel-check docs bench clean

# Create the virtual environment and install msp with its test extras once;
# re-run only when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,postgres]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/demo.sh

# Lint, format, types and the layer contracts (pyproject.toml); part of `make test`.
check: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check --quiet src tests benchmarks scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache --no-logo

# Tests marked `slow` (crash and concurrency loops, about a minute per pass) run in CI
# (CI=true, as .ci/run sets it) or with SLOW=1; elsewhere they are deselected, and said so.
RUN_SLOW := $(filter true 1 yes,$(CI) $(SLOW))
SLOW_ARGS := $(if $(RUN_SLOW),,-m "not slow")
SLOW_NOTE := $(if $(RUN_SLOW),slow tests included,slow tests deselected; SLOW=1 or CI=true runs them)

# SQLite always; PostgreSQL too when MSP_TEST_DATABASE_URL points at a server
# (`eval "$$(scripts/start-postgres)"` starts one; .ci/run does).
test: check
	@echo "== the suite on SQLite ($(SLOW_NOTE))"
	env -u MSP_TEST_DATABASE_URL MSP_TEST_WAREHOUSE_URL="$$MSP_TEST_DATABASE_URL" $(PY) -m pytest $(SLOW_ARGS) $(PYTEST_ARGS)
	@if [ -n "$$MSP_TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL ($(SLOW_NOTE))"; \
		$(PY) -m pytest $(SLOW_ARGS) $(PYTEST_ARGS); \
	else \
		echo "PostgreSQL pass not run: no MSP_TEST_DATABASE_URL (see docs/development.md)"; \
	fi
	@if [ -n "$$CI" ]; then \
		$(MAKE) --no-print-directory wheel-check; \
	else \
		echo "wheel check not run: CI is not set (make wheel-check runs it, one to two minutes)"; \
	fi
	@echo "($(SLOW_NOTE))"

test-postgres: $(STAMP)
	@echo "== the suite on PostgreSQL ($(SLOW_NOTE))"
	eval "$$(scripts/start-postgres)" && $(PY) -m pytest $(SLOW_ARGS) $(PYTEST_ARGS)

# Build the sdist and wheel, install the wheel into a fresh venv outside the checkout and
# tour msp from there (on PostgreSQL too with MSP_TEST_DATABASE_URL); also `pipx install .`.
wheel-check: $(STAMP)
	$(PY) scripts/wheel_check.py --pipx

docs: $(STAMP)
	$(PY) scripts/generate_reference.py > docs/reference.md

# The warehouse benchmark needs a PostgreSQL server: started (or reused) here.
bench: $(STAMP)
	eval "$$(scripts/start-postgres)" && $(PY) -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
