# Two commands on a fresh machine (Python 3.11+, Node.js and npm):
#   make run    install what is needed, then serve the app on the embedded default (SQLite)
#   make test   install what is needed, then run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint-imports bench bench-connections bench-evidence bench-projections bench-projection-cost bench-pages demo clean

ASSET_SOURCES := $(wildcard web/styles/*.scss web/static/*.css web/static/*.js web/static/*.mjs)

install: $(VENV)/.installed web/static/dist/staticfiles.json

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The styles and scripts compiled and bundled (web/static/build), then each file named by its
# content and compressed (web/static/dist, served at /static/ with a long cache).
web/static/dist/staticfiles.json: web/node_modules/.installed $(VENV)/.installed $(ASSET_SOURCES)
	cd web && npm run build --silent
	$(BIN)/servestatic --all --clear --copy-original --no-zstd --quiet web/static/build web/static/dist

run: install
	$(BIN)/incidents serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest

# Bare lint-imports cannot see web/ and projections/ (mapped into the package at install), so the
# contracts run through the test that lays them inside a copy of the package.
lint-imports: install
	$(BIN)/python -m pytest -q tests/unit/test_import_contracts.py

demo: install
	$(BIN)/incidents demo

bench: install
	$(BIN)/python -m bench.logging_http

bench-connections: install
	$(BIN)/python -m bench.connections

bench-evidence: install
	$(BIN)/python -m bench.evidence_bundle

bench-projection-cost: install
	$(BIN)/python -m bench.projection_cost

bench-projections: install
	$(BIN)/python -m bench.projections_rebuild

bench-pages: install
	$(BIN)/python -m bench.pages_http

clean:
	rm -rf $(VENV) web/node_modules web/static/build web/static/dist
