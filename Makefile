# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
# A recipe's pipeline fails when any part of it does (make chaos pipes pytest into tee).
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# Every target here runs on the development secrets, which the service refuses elsewhere.
export CRM_ENV ?= development
# uv installs exactly what uv.lock pins (versions and hashes); --locked fails when the lock
# no longer matches pyproject.toml: run `.venv/bin/uv lock` after changing a dependency.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: install services run test bench bench-lists bench-round-trips bench-rebuild lint fuzz chaos clean

# --inexact keeps pip and uv themselves, which the lock does not list.
$(INSTALLED): pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(UV) --version 2>/dev/null | grep -qx 'uv $(UV_VERSION)' || $(BIN)/pip install --quiet 'uv==$(UV_VERSION)'
	$(UV) sync --locked --inexact --extra dev --quiet
	touch $(INSTALLED)

install: $(INSTALLED)

services:
	bash scripts/ensure-services.sh
	bash scripts/ensure-tools.sh

## Start the API (port 8000) and the workers, on an embedded SecantusDB unless CRM_MONGODB_URL is set.
run: install services
	$(BIN)/crm run

## Run every test tier against real MongoDB-protocol, RabbitMQ and Redis servers.
test: install services
	$(BIN)/pytest

## The benchmark suite (~1 min; BENCH_ARGS=--quick for ~30 s): every figure next to its bare baseline.
## BENCH_ARGS="--tenant N" (or --large: 100,000) measures in a business of that size; bench/results/growth.md.
bench: install services
	$(BIN)/python bench/suite.py $(BENCH_ARGS)

## Every list shape at 1,000 and 10,000 customers (BENCH_ARGS=--large adds 100,000): p50 next to
## the bare find_one route, documents examined per page; bench/results/list-growth.md.
bench-lists: install services
	$(BIN)/python bench/list_growth.py $(BENCH_ARGS)

## Database round trips per registration and per inbound order.placed, by process and command (load does not move them).
bench-round-trips: install services
	$(BIN)/python bench/round_trips.py $${BENCH_ARGS:---inbound 300}

## Fault injection under load, longer than the short round `make test` (and CI) runs.
chaos: install services
	mkdir -p bench/results
	CRM_CHAOS_LOAD_SECONDS=$${CRM_CHAOS_LOAD_SECONDS:-20} $(BIN)/pytest tests/chaos -m chaos -v -s -p no:warnings \
		| tee bench/results/chaos-latest.txt


## Rebuild of 100,000 events against its bare I/O (read the events, insert_many the documents), then a second one timed by a reader (about five minutes).
bench-rebuild: install services
	$(BIN)/python bench/rebuild.py

## Schemathesis against /api/openapi.json with valid tokens, on a stack of its own.
fuzz: install services
	bash scripts/fuzz-api.sh

## Style, format, types and layer rules: ruff (lint and format check), mypy (strict on the
## domain and application layers) and import-linter. CI runs it before the tests.
lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .data
