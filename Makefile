# Two commands on a fresh machine (Python 3.11+, Node.js and npm):
#   make run    install what is needed, then serve the app on the embedded default (SQLite)
#   make test   install what is needed, then run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint-imports bench bench-connections bench-evidence bench-projections bench-projection-cost bench-pages demo clean

ASSET_SOURCES := $(wildcard src/incidents/web/styles/*.scss src/incidents/web/static/*.css src/incidents/web/static/*.js src/incidents/web/static/*.mjs)

install: $(VENV)/.installed src/incidents/web/static/dist/staticfiles.json

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

src/incidents/web/node_modules/.installed: src/incidents/web/package.json src/incidents/web/package-lock.json
	cd src/incidents/web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The styles and scripts compiled and bundled (src/incidents/web/static/build), then each file named by its
# content and compressed (src/incidents/web/static/dist, served at /static/ with a long cache).
src/incidents/web/static/dist/staticfiles.json: src/incidents/web/node_modules/.installed $(VENV)/.installed $(ASSET_SOURCES)
	cd src/incidents/web && npm run build --silent
	$(BIN)/servestatic --all --clear --copy-original --no-zstd --quiet src/incidents/web/static/build src/incidents/web/static/dist

run: install
	$(BIN)/incidents serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest

lint-imports: install
	$(BIN)/lint-imports

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
	rm -rf $(VENV) src/incidents/web/node_modules src/incidents/web/static/build src/incidents/web/static/dist
