# fairserver developer entry points. All paths are relative to the repo root.
#
#   make setup        .venv + editable install with [dev] extras (pinned by requirements.lock), node_modules
#   make lock         re-pin requirements.lock from pyproject.toml in a throwaway venv
#   make system       apt-install redis-server, postgresql, chromium, fonts-noto-cjk, coturn if missing
#   make run          start the demo server (FAIRSERVER_HOST / FAIRSERVER_PORT)
#   make test         lint and type checks, then the full suite against throwaway PostgreSQL + redis
#   make check        lint, type and JS checks only (ruff, ruff format --check, mypy --strict, eslint, node --test)
#   make messages     extract UI strings to messages.pot and merge them into every catalogue
#   make bench-reports  time the reports page and downloads on 5,000 students (SQLite, PostgreSQL)
#   make clean        caches and build output;  make distclean also drops .venv, node_modules

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.stamp
NODE_STAMP := node_modules/.stamp
PYTEST_ARGS ?=

# Reinstall node packages when package.json/lock changed or socket.io-client is gone.
NODE_DEPS := package.json $(wildcard package-lock.json)
ifeq ($(wildcard node_modules/socket.io-client/package.json),)
NODE_DEPS += FORCE
endif

.PHONY: help setup lock system run test check messages bench-chat bench-media bench-reports clean distclean FORCE

help:
	@sed -n 's/^#   //p' Makefile

setup: $(PY_STAMP) $(NODE_STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): pyproject.toml requirements.lock | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -c requirements.lock -e '.[dev]'
	touch $@

lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --disable-pip-version-check -q -e '.[dev]'
	{ echo "# Versions the suite was last run with: make setup installs exactly these (pip -c)."; \
	  echo "# Regenerate with 'make lock' after changing pyproject.toml's dependencies."; \
	  .lock-venv/bin/pip freeze --exclude-editable; } > requirements.lock
	rm -rf .lock-venv

$(NODE_STAMP): $(NODE_DEPS)
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	test -f node_modules/socket.io-client/dist/socket.io.esm.min.js
	touch $@

FORCE:

system:
	scripts/ensure-system.sh

run: setup
	$(VENV)/bin/fairserver demo

test: system setup check
	scripts/with-services.sh $(PY) -m pytest $(PYTEST_ARGS)

check: setup
	$(VENV)/bin/ruff check fairserver tests bench
	$(VENV)/bin/ruff format --check fairserver tests bench
	$(VENV)/bin/mypy --strict fairserver
	npm run --silent lint
	npm test --silent

# Keywords and the method map (babel.cfg) must match tests/test_i18n.py.
LOCALE_DIR := fairserver/locale
BABEL_KEYWORDS := --no-default-keywords -k _ -k N_ -k gettext -k ngettext:1,2

messages: setup
	$(VENV)/bin/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --ignore-dirs='.* _* node_modules' \
		--sort-by-file --no-wrap --project=fairserver --copyright-holder='fairserver contributors' \
		-o $(LOCALE_DIR)/messages.pot .
	$(VENV)/bin/pybabel update -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) -D messages \
		--ignore-obsolete --no-wrap

bench-chat: setup
	$(PY) -m bench.chat

bench-media: setup
	$(PY) -m bench.media

bench-reports: system setup
	scripts/with-services.sh $(PY) -m bench.reports

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o \
		-type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
