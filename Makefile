# Common Measure — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.DEFAULT_GOAL := help
.PHONY: help run install dev test lint format demo migrate clean load load-short bench bench-quick messages

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed ## Create .venv and install the application

dev: $(VENV)/.installed-dev ## Install the application with test and lint tools

migrate: install ## Bring the database schema up to date
	$(BIN)/cm db upgrade

run: install ## Migrate, load the demo (or refresh one built in an earlier quarter), serve on http://127.0.0.1:8000
	$(BIN)/cm db upgrade
	$(BIN)/cm demo --first-start
	$(BIN)/cm serve

demo: install ## (Re)load the demo initiatives
	$(BIN)/cm demo --reset

test: dev ## Run the whole test suite (SQLite and PostgreSQL, browser tests) on every core
	$(BIN)/pytest -n auto

load: dev ## Load test: 200 partners submit while 20 API readers and 20 dashboard users read (PostgreSQL, 90 s)
	$(PY) -m tests.load.run --reporters 200 --readers 20 --dashboard-users 20 --seconds 90

load-short: dev ## The load test in CI's short mode (30 s; the latency target printed, not enforced)
	$(PY) -m tests.load.run --reporters 200 --readers 20 --dashboard-users 20 --seconds 30 --latency-report-only

bench: dev ## Benchmarks at full size (5 M values) on SQLite and PostgreSQL
	$(PY) -m bench --db sqlite --size full --json var/bench/full-sqlite.json
	$(PY) -m bench --db postgresql --size full --json var/bench/full-postgresql.json

bench-quick: dev ## Benchmarks at quick size on SQLite (about two minutes)
	$(PY) -m bench --db sqlite --size quick --json var/bench/quick-sqlite.json

lint: dev ## Check style, the layering contract and the domain's types
	$(BIN)/ruff check api dashboard models migrations tests
	$(BIN)/ruff format --check api dashboard models migrations tests
	$(BIN)/lint-imports
	$(BIN)/mypy models

messages: dev ## Extract the text to translate and update the catalogues (README, "Languages")
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -k lazy_gettext -o models/locale/messages.pot api dashboard models
	$(BIN)/pybabel update -i models/locale/messages.pot -d models/locale

format: dev ## Format the code
	$(BIN)/ruff format api dashboard models migrations tests
	$(BIN)/ruff check --fix api dashboard models migrations tests

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var .pytest_cache
