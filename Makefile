# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
# A recipe's pipeline fails when any part of it does (make chaos pipes pytest into tee).
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install services run test bench bench-read bench-rebuild lint clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

services:
	bash scripts/ensure-services.sh

## Start the API (port 8000) and the workers, on an embedded SecantusDB unless CRM_MONGODB_URL is set.
run: install services
	$(BIN)/crm run

## Run every test tier against real MongoDB-protocol, RabbitMQ and Redis servers.
test: install services
	$(BIN)/pytest

## The benchmark suite (~1 min; BENCH_ARGS=--quick for ~30 s): every figure next to its bare baseline.
bench: install services
	$(BIN)/python bench/suite.py $(BENCH_ARGS)

## Read-side latencies at 100,000 customers against a bare Litestar route (a few minutes).
bench-read: install services
	$(BIN)/python bench/read_side.py

## Fault injection under load, longer than the short round `make test` (and CI) runs.
chaos: install services
	mkdir -p bench/results
	CRM_CHAOS_LOAD_SECONDS=$${CRM_CHAOS_LOAD_SECONDS:-20} $(BIN)/pytest tests/chaos -m chaos -v -s -p no:warnings \
		| tee bench/results/chaos-latest.txt


## Rebuild of 100,000 events against a bare insert_many of the same documents (about two minutes).
bench-rebuild: install services
	$(BIN)/python bench/rebuild.py

## Schemathesis against /api/openapi.json with valid tokens, on a stack of its own.
fuzz: install services
	bash scripts/fuzz-api.sh

lint: install
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .data
