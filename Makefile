# Two commands on a fresh machine: `make demo` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

# Use uv from PATH when present, else bootstrap it with pip into .tools/.
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)

.PHONY: install demo test lint bench up down status services-up services-down services-status airflow clean

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools && .tools/bin/pip install -q "uv==$(UV_VERSION)"

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

install: .venv/.synced

demo: install
	$(UV) run --frozen credit-platform demo

lint: install
	$(UV) run --frozen ruff check .

test: install lint
	$(UV) run --frozen pytest

bench: install
	$(UV) run --frozen credit-platform bench ingest
	$(UV) run --frozen credit-platform bench contracts

# The whole platform as local services: PostgreSQL, S3, source stand-ins, Airflow (README: "Run it as services").
up: install
	.venv/bin/credit-platform up

down:
	@if [ -x .venv/bin/credit-platform ]; then .venv/bin/credit-platform down; else echo "nothing to stop (no .venv)"; fi

status: install
	.venv/bin/credit-platform status

services-up: install
	$(UV) run --frozen credit-platform services up

services-down: install
	$(UV) run --frozen credit-platform services down

services-status: install
	$(UV) run --frozen credit-platform services status

airflow: up

clean: down
	rm -rf .platform .venv .tools
