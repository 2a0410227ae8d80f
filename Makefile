# Sunset Radar: `make demo` runs the main job on the embedded demo, `make test` runs the tests.
SHELL := /bin/bash
VENV := .venv/bin
export DAGSTER_HOME ?= $(CURDIR)/warehouse/dagster_home
export GX_ANALYTICS_ENABLED := false

.PHONY: setup demo test dev catalog lint report clean

setup:
	@./scripts/bootstrap.sh >/dev/null

# without Dagster's notice that its CLI commands have a successor in `dg` (not installed;
# README, troubleshooting)
demo: export PYTHONWARNINGS := ignore::Warning:click.core
demo: setup
	@./scripts/dagster_home.sh
	$(VENV)/python -m pipelines.demo.generate
	$(VENV)/dagster job execute -m pipelines.definitions -j radar_refresh
	$(VENV)/dagster asset materialize -m pipelines.definitions --select reports/migration_status_report
	@$(VENV)/python -m pipelines.demo.summary

test: setup
	@./scripts/ensure_chromium.sh
	$(VENV)/python -m pytest -q

dev: setup
	@./scripts/dagster_home.sh
	exec $(VENV)/dagster dev -m pipelines.definitions --host 127.0.0.1 --port 3000

# with OPENAI_API_KEY (a project key: admin keys cannot call GET /v1/models) set, the
# OpenAI Models API's shutdown dates are pulled too
catalog: setup
	$(VENV)/python -m pipelines.lib.catalog_build $(if $(OPENAI_API_KEY),--pull-models,)

lint: setup
	$(VENV)/ruff check .
	$(VENV)/mypy

clean:
	rm -rf warehouse/radar.duckdb* warehouse/published warehouse/reports warehouse/landing
