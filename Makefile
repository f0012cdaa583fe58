# Throughline — the commands a developer needs. `make run` and `make test` are the front door.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first Python 3.12+ on the PATH (pyenv honours .python-version).
PYTHON ?= $(shell for p in python3.13 python3.12 python3 python; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 \
	&& echo $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/*.txt | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
comma := ,
# `make run HOST=0.0.0.0` serves other machines of the network, whatever name they use for this one.
RUN_ALLOWED_HOSTS := $(if $(filter 0.0.0.0,$(HOST)),*,127.0.0.1$(comma)localhost$(comma)$(HOST))

.PHONY: help
help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements/base.txt requirements/dev.txt
	@test -n "$(PYTHON)" || { echo "Throughline needs Python 3.12 or newer on the PATH."; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

.PHONY: venv
venv: $(STAMP)  ## Build the virtual environment and install the pinned requirements

.PHONY: run
run: export DJANGO_SETTINGS_MODULE := config.settings.local
run: export DATABASE_URL := $(or $(RUN_DATABASE_URL),sqlite:///$(CURDIR)/db.sqlite3)
run: export CELERY_TASK_ALWAYS_EAGER := true
run: export DJANGO_ALLOWED_HOSTS := $(or $(DJANGO_ALLOWED_HOSTS),$(RUN_ALLOWED_HOSTS))
# Links in the demo's emails (printed to the console) point at the address being served.
run: export THROUGHLINE_SITE_URL := $(or $(THROUGHLINE_SITE_URL),http://$(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST)):$(PORT))
run: $(STAMP)  ## Load the demo hospital on SQLite and serve http://127.0.0.1:8000 (PORT=8001 HOST=0.0.0.0 to change)
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py seed_demo
	@echo "Serving Throughline on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	$(PY) manage.py runserver $(HOST):$(PORT)

.PHONY: test
# One pytest process per core (pytest-xdist); a file's tests stay together so its module-scoped
# fixtures (the demo hospital of the browser tests) are built once. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= auto
test: $(STAMP)  ## Run the whole suite (PostgreSQL when DATABASE_URL is set, else SQLite)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

.PHONY: bench
bench: $(STAMP)  ## Measure on PostgreSQL and write bench/results/latest.json
	DJANGO_SETTINGS_MODULE=config.settings.local DJANGO_DEBUG=false CELERY_TASK_ALWAYS_EAGER=true $(PY) -m bench.run

.PHONY: bench-http
bench-http: $(STAMP)  ## The HTTP section alone: gunicorn + production settings vs a bare DRF view (APP_DIR=path adds an older checkout)
	$(PY) -m bench.http $(if $(APP_DIR),--app-dir $(APP_DIR))

.PHONY: lint
lint: $(STAMP)  ## Ruff lint and format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

.PHONY: format
format: $(STAMP)  ## Format and fix what ruff can
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

.PHONY: worker
worker: $(STAMP)  ## A Celery worker and beat against CELERY_BROKER_URL (for a PostgreSQL + Redis set-up)
	$(VENV)/bin/celery -A config worker --beat --loglevel=info

.PHONY: check
check: $(STAMP)  ## Deploy checks, migrations up to date, lint, compose file
	env -u DJANGO_ALLOW_ASYNC_UNSAFE DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(60))') \
		DJANGO_ALLOWED_HOSTS=throughline.example.org $(PY) manage.py check --deploy --fail-level WARNING
	DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run
	$(MAKE) lint
	docker-compose config -q

.PHONY: clean
clean:  ## Remove the virtual environment and the local database
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
