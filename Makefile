# The two commands a newcomer needs: `make run` and `make test`.
# Each creates .venv when missing and installs the pinned dependencies.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench bench-quick lint install clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Start the portal on the bundled demo config (SQLite-free state in ./.portal, dev tokens, fake GitLab).
run: $(STAMP)
	$(VENV)/bin/portal serve

## The whole test suite, unit and end-to-end.
test: $(STAMP)
	$(PY) -m pytest -q

## Benchmarks; tables go to docs/benchmarks.md.
bench: $(STAMP)
	$(PY) -m bench

bench-quick: $(STAMP)
	$(PY) -m bench --quick

lint: $(STAMP)
	$(VENV)/bin/ruff check portal servers sandbox tests bench
	$(VENV)/bin/mypy portal sandbox servers

clean:
	rm -rf $(VENV) .portal .pytest_cache
