# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test browser
.DEFAULT_GOAL := run

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
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
