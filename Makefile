# The two commands a new user needs: `make demo` and `make test`.
# Each creates .venv and installs the project into it when missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit bench chaos install lock clean browser

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c constraints.txt
	@touch $(STAMP)

install: $(STAMP)

## Refresh constraints.txt with the newest releases pyproject.toml allows; then run make test.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet -e '.[dev]'
	{ sed -n '1,2p' constraints.txt; .venv-lock/bin/python -m pip freeze --exclude-editable \
		| grep -v '^pip=='; } > constraints.new && mv constraints.new constraints.txt
	rm -rf .venv-lock

## Run the bridge end to end against simulated LAPOR! and SIDUMAS servers (SQLite ledger).
demo: $(STAMP)
	$(BIN)/bridge demo

## Lint, type-check and run the whole test suite (ledger tests on SQLite and PostgreSQL).
test: $(STAMP) lint typecheck unit

## ruff, and the layer rules (which parts may import which: tests/test_layers.py).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q -p no:cacheprovider tests/test_layers.py

typecheck: $(STAMP)
	$(BIN)/mypy

## The status page test drives Debian's chromium (Playwright downloads no browser here):
## installed when missing and we are root; otherwise that test says why it is skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
		|| echo "chromium not installed (not root, or no apt-get): the browser test will be skipped"; }

unit: $(STAMP) browser
	$(BIN)/pytest

## The long chaos run: 10,000 complaints both ways, 3 replicas on PostgreSQL, one killed
## again and again; its figures are in README.md. (CI runs a 2,000-complaint one in `make test`.)
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos.harness --complaints 10000 --kills 30 --replicas 3 \
		--ledger pg --deadline 3000 --workdir .chaos --json .chaos/summary.json

## Throughput figures; see bench/README.md.
bench: $(STAMP)
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/http_throughput.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
