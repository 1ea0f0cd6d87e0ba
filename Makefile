# Two commands do all the set-up: `make run` and `make test`. Both are safe to repeat.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 5000
MAIL_SINK_PORT ?= 1025
export FLASK_APP := wsgi

.PHONY: run test test-sqlite test-postgres bench install install-dev assets clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.stamp-runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.stamp-runtime

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

app/static/govuk/.stamp: node_modules/.stamp scripts/install_assets.py | $(VENV)/bin/python
	$(PY) scripts/install_assets.py
	touch $@

install: $(VENV)/.stamp-runtime app/static/govuk/.stamp
	bash scripts/ensure_system_packages.sh run
install-dev: $(VENV)/.stamp-dev app/static/govuk/.stamp
assets: app/static/govuk/.stamp

run: install
	mkdir -p instance
	$(VENV)/bin/flask db upgrade
	$(VENV)/bin/flask demo load --if-empty
	bash scripts/run_dev.sh $(PORT) $(MAIL_SINK_PORT)

test: install-dev
	bash scripts/ensure_system_packages.sh test
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: install-dev
	@echo "== Test suite on SQLite"
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-postgres: install-dev
	@echo "== Test suite on PostgreSQL"
	bash scripts/with_postgres.sh $(PY) -m pytest -q $(PYTEST_ARGS)

bench: install-dev
	bash scripts/ensure_system_packages.sh test
	$(PY) -m bench $(BENCH_ARGS)
	$(PY) -m bench.statements
	$(PY) -m bench.reports
	$(PY) -m bench.outbox
	bash scripts/with_postgres.sh $(PY) -m bench.outbox
	$(PY) -m bench.slow_mail

clean:
	rm -rf $(VENV) node_modules app/static/govuk .pytest_cache
