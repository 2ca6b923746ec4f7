# Copilot Usage Warehouse — every entry point a user needs. `make run` and `make test` set up
# everything themselves (virtual environment, packages, system packages for browser tests).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv system-deps run test test-dist lint docs report export usage backfill import-legacy airflow simulator bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP) ## create .venv and install the pinned packages

system-deps: ## install Chromium from Debian for the browser test (needs root or sudo)
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: $(STAMP) ## run the whole pipeline end to end (simulator by default) and print a summary
	$(PY) -m copilot_dev run

test: $(STAMP) system-deps ## run the whole test suite: lint, unit, integration, dbt, browser
	$(BIN)/ruff check .
	$(PY) -m pytest tests

test-dist: $(STAMP) ## the distributed (Celery + PostgreSQL + Redis) integration test
	$(PY) -m pytest tests -m distributed

lint: $(STAMP) ## ruff and sqlfluff
	$(BIN)/ruff check .
	$(PY) -m copilot_warehouse lint-sql

docs: $(STAMP) ## build the dbt docs site into dbt/target
	$(PY) -m copilot_warehouse docs

report: $(STAMP) ## build the HTML usage report from the marts
	$(PY) -m copilot_warehouse report

export: $(STAMP) ## write every mart as Parquet and CSV under exports/
	$(PY) -m copilot_warehouse export

usage: $(STAMP) ## totals, weekly trend, members: SCOPE=organization:<slug> START_DAY=.. END_DAY=.. [TEAM=<slug>] [FORMAT=csv|json] [ANSWER=totals|trend|members]
	@$(PY) -m copilot_warehouse usage --scope "$(SCOPE)" --start-day "$(START_DAY)" --end-day "$(END_DAY)"$(if $(TEAM), --team "$(TEAM)")$(if $(FORMAT), --format "$(FORMAT)")$(if $(ANSWER), --answer "$(ANSWER)")

backfill: $(STAMP) ## fetch and land START_DAY..END_DAY without a scheduler, then transform
	$(PY) -m copilot_dev backfill --start-day "$(START_DAY)" --end-day "$(END_DAY)"

import-legacy: $(STAMP) ## load archived legacy /copilot/metrics JSON: FILE=<file or folder> ORG=<slug>
	$(PY) -m copilot_warehouse import-legacy --file "$(FILE)" --org "$(ORG)"

airflow: $(STAMP) ## start Airflow locally (UI on http://127.0.0.1:8080) with the simulator
	$(PY) -m copilot_dev airflow

simulator: $(STAMP) ## start the GitHub API simulator in the foreground
	$(PY) -m copilot_dev simulator

bench: $(STAMP) ## run the benchmarks (prints figures and how to reproduce them)
	$(PY) bench/run_all.py

clean: ## remove local data, Airflow home and dbt build output (keeps .venv)
	rm -rf data .airflow dbt/target dbt/logs exports test-artifacts
