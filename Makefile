# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test browser lock
.DEFAULT_GOAL := run

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Everything `make run` and `make test` need (runtime, demo, bench and dev
# extras), exactly as locked with hashes in requirements/dev.txt; then the
# project itself, editable and without dependencies (a separate call, as
# --require-hashes refuses an editable install).
$(VENV)/.installed: requirements/dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# GOV.UK Frontend (and axe-core for the browser tests) from package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## run: set everything up and serve the demo borough on http://127.0.0.1:8000
run: $(VENV)/.installed node_modules/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m config.localdev run

# The browser journeys drive Debian's Chromium (never a browser download).
# As root on Debian/Ubuntu it is installed here; anyone else is told how.
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "The browser tests need Chromium at $(CHROMIUM): sudo apt-get install chromium"; exit 1; fi; }

## test: set everything up and run the whole test suite against PostgreSQL
test: $(VENV)/.installed node_modules/.installed browser
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m config.localdev test $(PYTEST_ARGS)

# Maintainers only (not one of the README's two commands): after changing the
# dependencies in pyproject.toml, re-lock requirements/base.txt (runtime: the
# production image) and requirements/dev.txt (runtime + demo + bench + dev:
# `make run`, `make test` and CI) with hashes, resolved against PyPI. uv comes
# from a throwaway venv in .local/uv unless UV is given. Add UV_ARGS=--upgrade
# to move every pin to its newest allowed release.
UV ?= .local/uv/bin/uv
UV_COMPILE = $(UV) pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --no-config --index-url https://pypi.org/simple \
	--custom-compile-command "make lock" --quiet $(UV_ARGS)
lock:
	@command -v $(UV) >/dev/null || { $(PYTHON) -m venv .local/uv && .local/uv/bin/python -m pip install --quiet uv; }
	@mkdir -p requirements
	$(UV_COMPILE) -o requirements/base.txt
	$(UV_COMPILE) --extra dev --constraint requirements/base.txt -o requirements/dev.txt
