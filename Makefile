# Tiến Độ — developer commands. `make demo` and `make test` are the two that matter.
SHELL := /bin/bash
VENV ?= .venv
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)

# Find a Python >= 3.12: an explicit PYTHON=..., python3.13, python3.12, then pyenv's versions.
PYTHON ?= $(shell for p in python3.13 python3.12 $$(ls -d $(PYENV_ROOT)/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) python3; do \
	command -v $$p >/dev/null 2>&1 || [ -x "$$p" ] || continue; \
	$$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { echo $$p; break; }; \
	done)

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-postgres lint format bench venv clean serve loadtest

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "Không tìm thấy Python >= 3.12 (thử: make PYTHON=/đường/dẫn/python3.12)"; exit 1; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

# The demo runs in debug mode with a key everyone knows; production sets neither (README,
# Configuration). A SECRET_KEY or DEBUG already in the environment wins.
DEMO_ENV := DEBUG=$${DEBUG:-true} SECRET_KEY=$${SECRET_KEY:-tiendo-demo-key-not-secret}

demo: $(STAMP)
	$(DEMO_ENV) $(BIN)/tiendo migrate --noinput
	$(DEMO_ENV) $(BIN)/tiendo units load
	$(DEMO_ENV) $(BIN)/tiendo units changes load src/tiendo/units/history/quang-tri.csv
	$(DEMO_ENV) $(BIN)/tiendo demo load
	$(DEMO_ENV) $(BIN)/tiendo demo users
	@# the background-task worker (imports run there) beside the server, stopped with it
	$(DEMO_ENV) $(BIN)/tiendo db_worker --no-reload --verbosity 0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEMO_ENV) $(BIN)/tiendo runserver 127.0.0.1:8000

# As in production: gunicorn (settings in src/tiendo/gunicorn_conf.py), DEBUG off, static
# files collected and served by WhiteNoise. Needs SECRET_KEY (and DATABASE_URL, ALLOWED_HOSTS
# beyond localhost); BIND, WEB_CONCURRENCY, GUNICORN_THREADS tune the server.
serve: $(STAMP)
	@if [ -z "$$SECRET_KEY" ]; then echo "Đặt biến SECRET_KEY trước (ví dụ: export SECRET_KEY=\$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))'))"; exit 1; fi
	DEBUG=false $(BIN)/tiendo collectstatic --noinput -v0
	DEBUG=false $(BIN)/tiendo migrate --noinput
	DEBUG=false $(BIN)/gunicorn -c python:tiendo.gunicorn_conf tiendo.wsgi

# 50 editors for 2 minutes against gunicorn on PostgreSQL (database tiendo_loadtest on
# 127.0.0.1:5432, created and loaded if missing); LOADTEST_SECONDS, LOADTEST_EDITORS tune it.
loadtest: $(STAMP)
	$(BIN)/python -m tiendo.loadtest $(LOADTEST_ARGS)

test: $(STAMP)
	scripts/debian-packages
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# The benchmarks live in bench/ at the root, outside the installed package: run from here.
# measured as in production (DEBUG off), with a key of its own
BENCH_DOCS_DB := SECRET_KEY=$${SECRET_KEY:-tiendo-bench-key-not-secret} DATABASE_URL=sqlite:///var/bench-docs.sqlite3

BENCH_PG_URL := $${TIENDO_BENCH_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/tiendo_bench}
# bench/ntm.py keeps its 1,3 million figures: in a database of their own, not the pivots'
BENCH_NTM_PG_URL := $${TIENDO_BENCH_NTM_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/tiendo_bench_ntm}
# bench/households_import.py drops and creates its database on every run
BENCH_HH_PG_URL := $${TIENDO_BENCH_HH_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/tiendo_bench_hh}

bench: $(STAMP)
	$(BIN)/python -m bench.pivot $(BENCH_ARGS)
	@echo "== NTM criteria: national counts by band, save → visible (bench/ntm.py, both databases)"
	$(BIN)/python -m bench.ntm --pg-url $(BENCH_NTM_PG_URL)
	@echo "== NTM pages: the province matrix at national scale (bench/ntm_matrix.py, PostgreSQL)"
	SECRET_KEY=$${SECRET_KEY:-tiendo-bench-key-not-secret} DATABASE_URL=$(BENCH_PG_URL) $(BIN)/python -m bench.ntm_matrix
	@echo "== household import: 100.000 households with loans and plots, dry run + import (bench/households_import.py, both databases)"
	$(BIN)/python -m bench.households_import --pg-url $(BENCH_HH_PG_URL)
	@echo "== rendering a provincial report (demo data on SQLite, var/bench-docs.sqlite3)"
	$(BENCH_DOCS_DB) $(BIN)/tiendo migrate --noinput -v0
	$(BENCH_DOCS_DB) $(BIN)/tiendo units load > /dev/null
	$(BENCH_DOCS_DB) $(BIN)/tiendo demo load > /dev/null
	$(BENCH_DOCS_DB) $(BIN)/python -m bench.documents

clean:
	rm -rf $(VENV) var/*.sqlite3
