# make run: a fresh machine to a working demo forum. make test: every test.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := FLASK_APP=wsgi.py $(VENV)/bin/flask
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run serve test db bench clean

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

db: install
	$(FLASK) db upgrade
	$(FLASK) forum recook
	$(FLASK) forum seed-demo

run: db
	$(FLASK) run --host $(HOST) --port $(PORT)

serve: db
	$(VENV)/bin/gunicorn -w 4 -b $(HOST):$(PORT) wsgi:app

# The browser tests inject axe-core from npm; install it when package.json asks for it.
NODE_DEPS := $(if $(wildcard package.json),node_modules/.package-lock.json)
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# Tests run in parallel, one worker per core (TEST_WORKERS=0 runs them in this process).
TEST_WORKERS ?= auto
test: install $(NODE_DEPS)
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) instance search_index/*
