# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo check test test-postgres docs bench clean

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

# SQLite always; PostgreSQL too when MSP_TEST_DATABASE_URL points at a server
# (`eval "$$(scripts/start-postgres)"` starts one; .ci/run does).
test: check
	env -u MSP_TEST_DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)
	@if [ -n "$$MSP_TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL"; \
		$(PY) -m pytest $(PYTEST_ARGS); \
	else \
		echo "PostgreSQL pass not run: no MSP_TEST_DATABASE_URL (see docs/development.md)"; \
	fi

test-postgres: $(STAMP)
	eval "$$(scripts/start-postgres)" && $(PY) -m pytest $(PYTEST_ARGS)

docs: $(STAMP)
	$(PY) scripts/generate_reference.py > docs/reference.md

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
