# USM Portal: `make run` starts the demo, `make test` runs the whole suite.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Django 6.1 needs Python 3.12 or newer; take the newest found on PATH or in pyenv.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: install run test test-fast lint benchmark clean

$(BIN)/activate: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required; set PYTHON=/path/to/python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $(BIN)/activate

install: $(BIN)/activate

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py rundemo

test: install
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest
	DATABASE_URL=sqlite:///var/test-sqlite.sqlite3 \
		$(BIN)/pytest -m "not browser and not slow" -q

test-fast: install
	$(BIN)/pytest -m "not browser and not slow" -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

benchmark: install
	$(BIN)/python benchmarks/collect_backlog.py

clean:
	rm -rf var/broker var/broker-control var/celerybeat-schedule*
