# The two set-up commands of the README:
#   make run    the example API on SQLite, jobs in an in-process worker
#   make test   the test suite on SQLite, PostgreSQL and MariaDB
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test venv bench schema

$(BIN)/.installed: setup.cfg pyproject.toml
	./scripts/system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(BIN)/.installed

run: venv
	cd example && ../$(BIN)/python manage.py migrate --noinput && ../$(BIN)/python manage.py seed_demo \
		&& ../$(BIN)/python manage.py runserver 127.0.0.1:8000

test: venv
	$(BIN)/python runtests.py $(ARGS)

bench: venv
	$(BIN)/python benchmarks/run.py $(ARGS)
