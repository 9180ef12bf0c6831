# The two set-up commands of the README:
#   make run     the example API on SQLite, jobs in an in-process worker
#                (installs the `demo` extra: plain Python, no system packages)
#   make test    the test suite on SQLite, PostgreSQL and MariaDB
#                (installs the `test` extra; mysqlclient needs scripts/system-deps)
# What CI (.ci/run) runs besides `make test`:
#   make matrix      the supported range: lowest versions, Django 6.0, newest (docs/compatibility.md)
#   make lint        ruff, configured in pyproject.toml
#   make package     sdist and wheel, twine check --strict, the tests run from the sdist
#   make docs-check  every curl example of README.md and docs/, in reading order, against the example project
#   make docs        the docs site (MkDocs, Material theme) built with --strict into site/
#   make check-clients  a Python client (openapi-python-client) and TypeScript types
#                    (openapi-typescript) generated from the example's schema; the
#                    client's bulk create, list-route PATCH and job poll against the example
#   make typecheck   mypy with django-stubs and djangorestframework-stubs on the public surface
#   make install-check  docs/quickstart.md run from a wheel in a clean virtualenv (scripts/check-install)
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
BIN := $(VENV)/bin

.PHONY: run test matrix lint package docs-check docs check-clients install-check typecheck venv bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-demo: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[demo]'
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	./scripts/system-deps
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-docs: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[docs]'
	touch $@

$(VENV)/.installed-typecheck: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,typecheck]'
	touch $@

$(VENV)/.installed-dev: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed-test

run: $(VENV)/.installed-demo
	cd example && ../$(BIN)/python manage.py migrate --noinput && ../$(BIN)/python manage.py seed_demo \
		&& ../$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: $(VENV)/.installed-test
	$(BIN)/python runtests.py $(ARGS)

matrix:
	./scripts/test-matrix $(ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

package: $(VENV)/.installed-test $(VENV)/.installed-dev
	./scripts/check-package $(BIN)/python

docs-check: $(VENV)/.installed-demo
	$(BIN)/python scripts/check-doc-examples

docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

check-clients: $(VENV)/.installed-demo
	$(BIN)/python scripts/check-clients

typecheck: $(VENV)/.installed-typecheck
	$(BIN)/mypy

install-check:
	$(PYTHON) scripts/check-install $(PYTHON)

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py $(ARGS)
