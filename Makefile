# Two commands for users: `make serve` and `make test`. Everything else is plumbing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# What each target installed into .venv; redone when pyproject.toml changes.
SERVING := $(VENV)/.installed-serving
TESTING := $(VENV)/.installed-testing

.PHONY: test test-fast serve venv debian-packages node-tools bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Serving needs readingroom alone; the test extra (pytest, Playwright ...) only for testing.
$(SERVING): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TESTING): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(TESTING)

# The Debian packages the tests need (.ci/debian-packages): installed when run as root,
# else named in one line (the tests needing them are skipped and counted at the end).
debian-packages:
	@.ci/install-debian-packages

# Node programs the tests start (package.json: configurable-http-proxy, JupyterHub's proxy), exactly as
# package-lock.json pins them; without npm, one line says so and the tests needing them are skipped.
NODE_TOOLS := node_modules/.package-lock.json
$(NODE_TOOLS): package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "make test: npm not found: install Node.js and npm to run the JupyterHub tests; they are skipped" >&2; fi

node-tools: $(NODE_TOOLS)

# Every test; nothing is skipped once the Debian packages and the Node tools are installed.
test: debian-packages $(TESTING) node-tools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The inner loop: every test that starts neither Chromium nor PostgreSQL (markers set in tests/conftest.py).
test-fast: debian-packages $(TESTING) node-tools
	$(BIN)/python -m pytest -m "not browser and not postgres" $(PYTEST_ARGS)

serve: $(SERVING)
	$(BIN)/readingroom serve cases

# Every figure in benchmarks/README.md; one script per figure (BENCH=name runs one).
BENCH ?= *
bench: $(TESTING)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	for script in benchmarks/$(BENCH).py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) build .pytest_cache node_modules
