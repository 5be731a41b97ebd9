# The two commands: `make run` and `make test`. Everything else is a helper of those.
SHELL := /bin/bash
PY := .venv/bin/python
# A project-local uv, pinned, so a fresh machine and this one behave the same.
UV := .venv-tools/bin/uv
export UV_PROJECT_ENVIRONMENT := .venv
# Libraries installed with their bytecode: where Python may not write it (PYTHONDONTWRITEBYTECODE=1, as in many
# container images) a process would otherwise recompile every library it imports, on every start.
export UV_COMPILE_BYTECODE := 1

.PHONY: run test env env-run lint typecheck layers pytest bench bench-hunt bench-ingest clean

# One .venv, two installs, a stamp each. `make run` needs only the runtime dependencies (~400 MB); `make test`
# adds the development group (pytest, mypy, Playwright …, ~280 MB more). The runtime sync is --inexact: it
# never uninstalls what `make test` added, so switching between the two commands costs nothing.
env: .venv/.synced-dev
env-run: .venv/.synced-run

$(UV):
	python3 -m venv .venv-tools
	.venv-tools/bin/pip install -q 'uv==0.13.9'

# The interpreter: the distribution's own CPython when it is 3.11 or newer, else the first python3 on PATH.
# Why: Debian and Ubuntu build theirs with PGO and LTO; `make bench-hunt` runs ~15 % faster on it than on a
# source build without --enable-optimizations (pyenv's default). `make PYTHON=/path/to/python3` overrides.
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& echo /usr/bin/python3 || echo python3)

.venv/.synced-dev: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

.venv/.synced-run: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --no-dev --inexact --python $(PYTHON)
	@touch $@

# The demo uses SigmaHQ's rules too when the shared test data sits beside the repository.
SIGMAHQ := $(wildcard ../shared/data/sigma/sigmahq)

run: env-run
	@echo "the mamori command is .venv/bin/mamori (or run 'source .venv/bin/activate', then: mamori --help)"
	$(PY) -m mamori db upgrade
	$(if $(SIGMAHQ),MAMORI_SIGMAHQ_DIR=$(SIGMAHQ) )$(PY) -m mamori up --demo

lint: env
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench

typecheck: env
	.venv/bin/mypy

layers: env
	.venv/bin/lint-imports

pytest: env
	.venv/bin/pytest -n 2 --dist loadfile

test: lint typecheck layers pytest

bench: bench-ingest bench-hunt

bench-ingest: env
	$(PY) bench/bench_ingest.py

bench-hunt: env
	$(PY) bench/bench_hunt.py

clean:
	rm -rf .venv .venv-tools .mypy_cache .ruff_cache .pytest_cache
