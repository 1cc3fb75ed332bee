# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test docs bench clean

# Create the virtual environment and install msp with its test extras once;
# re-run only when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,postgres]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/demo.sh

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

docs: $(STAMP)
	$(PY) scripts/generate_reference.py > docs/reference.md

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
