# The two commands: `make run` and `make test`. Everything else is a helper of those.
SHELL := /bin/bash
PY := .venv/bin/python
UV := $(shell command -v uv 2>/dev/null || echo .venv-tools/bin/uv)
export UV_PROJECT_ENVIRONMENT := .venv

.PHONY: run test env lint typecheck layers pytest bench bench-hunt bench-ingest clean

env: .venv/.synced

.venv/.synced: pyproject.toml uv.lock
	@if ! command -v uv >/dev/null 2>&1 && [ ! -x .venv-tools/bin/uv ]; then \
		python3 -m venv .venv-tools && .venv-tools/bin/pip install -q 'uv==0.13.9'; fi
	$(UV) sync --frozen
	@touch $@

run: env
	$(PY) -m mamori db upgrade
	$(PY) -m mamori up --demo

lint: env
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench

typecheck: env
	.venv/bin/mypy

layers: env
	.venv/bin/lint-imports

pytest: env
	.venv/bin/pytest -n 2 --dist loadgroup

test: lint typecheck layers pytest

bench: bench-ingest bench-hunt

bench-ingest: env
	$(PY) bench/bench_ingest.py

bench-hunt: env
	$(PY) bench/bench_hunt.py

clean:
	rm -rf .venv .venv-tools .mypy_cache .ruff_cache .pytest_cache
