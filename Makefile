# Larder. `make run` and `make test` work on a fresh clone with only Python 3.11+ and make.
SHELL := /bin/bash
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?=
FEATURE ?=
PYTEST_ARGS ?=

# Use uv from PATH when there is one; otherwise install it into .tools/ with the system Python.
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --no-sync

.PHONY: run serve migrate seed test lint format revision bench sync clean openapi docs-assets

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/python -m pip install --quiet --disable-pip-version-check "uv>=0.5"

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked
	@touch $@

sync: .venv/.synced

## run: install, migrate, seed and serve on HOST:PORT (defaults 127.0.0.1:8000)
run: sync
	$(RUN) python -m prestart
	$(RUN) uvicorn main:app --host $(HOST) --port $(PORT) --no-server-header --no-proxy-headers

## serve: production serving, WEB_CONCURRENCY workers (default: CPU count); run `make migrate` first
serve: sync
	HOST=$(HOST) PORT=$(PORT) $(if $(WORKERS),WEB_CONCURRENCY=$(WORKERS)) $(RUN) python -m serve

## migrate: wait for the database and upgrade it to the latest revision (no seeding)
migrate: sync
	$(RUN) python -m prestart --no-seed

seed: sync
	$(RUN) python -m prestart

## test: the whole suite; TEST_DATABASE_URL selects the database (default: a temporary SQLite file);
## FEATURE=recipes runs one feature's tests
test: sync
	$(RUN) pytest $(if $(FEATURE),-m $(FEATURE)) $(PYTEST_ARGS)

## lint: ruff (lint and format), mypy --strict and the import contracts (lint-imports)
lint: sync
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy .
	$(RUN) lint-imports

format: sync
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

## revision: autogenerate a migration, e.g. make revision m="add recipe tags"
revision: sync
	@test -n "$(m)" || { echo 'usage: make revision m="what changed"'; exit 2; }
	$(RUN) python -m prestart --no-seed
	$(RUN) alembic revision --autogenerate -m "$(m)"

## openapi: write the served OpenAPI document to openapi/v1.json (review the diff; commit it)
openapi: sync
	$(RUN) python -c "import json, main; print(json.dumps(main.app.openapi(), indent=2, sort_keys=True))" > openapi/v1.json
	$(RUN) python -m tools.openapi_compat --history openapi/v1.json

## docs-assets: refresh the Swagger UI and ReDoc files that /docs and /redoc serve (needs npm;
## review the diff and commit it)
docs-assets: sync
	$(RUN) python -m tools.docs_assets

## bench: load Larder and a FastAPI hello world with wrk on 127.0.0.1, on SQLite and PostgreSQL,
## at 10k and 100k recipes (BENCH_FULL=1 adds 1M); prints the table and writes bench/RESULTS.md
bench: sync
	$(RUN) python -m bench.run

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
