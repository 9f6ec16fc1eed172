# Two commands on a fresh machine: `make demo` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

# Use uv from PATH when present, else bootstrap it with pip into .tools/.
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)

.PHONY: install demo test lint bench services-up services-down services-status airflow clean

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

services-up: install
	$(UV) run --frozen credit-platform services up

services-down: install
	$(UV) run --frozen credit-platform services down

services-status: install
	$(UV) run --frozen credit-platform services status

airflow: install
	$(UV) run --frozen credit-platform airflow standalone

clean: services-down
	rm -rf .platform .venv .tools
