# Quickstart: `make demo` runs the demo, `make test` runs the test suite. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NPM_REF := .npm-ref
NPM_PKGS := @modelcontextprotocol/server-everything@2026.8.31 @modelcontextprotocol/conformance@0.1.16 node@22

.PHONY: demo test test-fast lint bench npm-ref clean

$(BIN)/mcpload: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The pinned npm reference servers, in a git-ignored folder. Tests that need them skip (or fail
# under MCPLOAD_REQUIRE_SYSTEM_TESTS=1) when npm is missing.
$(NPM_REF)/.installed:
	@if command -v npm >/dev/null; then \
	  mkdir -p $(NPM_REF) && cd $(NPM_REF) && (test -f package.json || echo '{"private":true}' > package.json) && \
	  npm install --no-audit --no-fund --loglevel=error $(NPM_PKGS) && touch .installed; \
	else echo "npm not found: tests against the npm reference server will be skipped"; fi

npm-ref: $(NPM_REF)/.installed

demo: $(BIN)/mcpload
	$(BIN)/mcpload demo

test: $(BIN)/mcpload npm-ref
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(BIN)/mcpload
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: $(BIN)/mcpload
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: $(BIN)/mcpload
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/client_overhead.py

clean:
	rm -rf $(VENV) $(NPM_REF) .pytest_cache .ruff_cache
