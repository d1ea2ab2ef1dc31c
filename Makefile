# Origin: the two commands a developer needs.
#   make run   - create .venv, install, create + seed the SQLite database if empty, serve :5000
#   make test  - the whole test suite (MariaDB half runs when a server answers; see README)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test scan install install-dev clean-db

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed node_modules/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# Browser-test tools from npm (axe-core for the accessibility checks), exactly as package-lock.json pins them.
# Without npm the suite still runs: the accessibility check then skips with the reason (CI requires it).
NPM ?= npm
node_modules/.installed: package.json package-lock.json
	@if command -v $(NPM) >/dev/null 2>&1; then $(NPM) ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: axe-core not installed; the accessibility browser check will be skipped"; fi

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/flask init-db --if-empty
	$(BIN)/flask db-upgrade
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask refresh-stats
	$(BIN)/flask process-reminders
	@echo
	@$(BIN)/flask demo-logins
	@echo
	@echo "Serving Origin on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# Two pytest-xdist workers (this project's machines have two cores); each worker gets its own MariaDB
# test database (tests/conftest.py mysql_url). --dist loadfile keeps a file on one worker, so a module's
# shared fixtures (a seeded live server, the accessibility walk) are built once; --no-loadscope-reorder keeps
# the order tests/conftest.py gives (the slowest modules first). TEST_WORKERS=0 runs
# everything in one process. --durations lists the 25 slowest steps (the suite is kept under 12 minutes).
TEST_WORKERS ?= 2

test: install-dev
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25

# The scanners (docs/scanners.md): bandit over app/ (medium and high; accepted findings carry
# "# nosec BXXX # reason"), then pip-audit over requirements.txt judged against the dated exceptions in
# security/pip-audit-exceptions.toml (exit 2: the packages could not be audited here).
scan: install-dev
	@# bandit warns "nosec encountered, but no failed test" for every part of a marked multi-line string: filtered
	@err=$$(mktemp); $(BIN)/python -m bandit -r app -q -ll 2>$$err; status=$$?; \
	  grep -v 'nosec encountered' $$err >&2; rm -f $$err; exit $$status
	$(BIN)/python security/check_dependencies.py

clean-db:
	rm -f instance/origin.sqlite3
