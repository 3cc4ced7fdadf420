# Vigil: two commands for a newcomer (`make run`, `make test`); the rest is for daily work.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PKGS   := api domain persistence authz

.PHONY: run test check lint typecheck schema schema-check migrations-check bench install clean help
.DEFAULT_GOAL := help

help:
	@echo "make run     start Vigil on an embedded PostgreSQL with demo data (http://127.0.0.1:8000/graphql)"
	@echo "make test    bootstrap and run the whole test suite on a throwaway embedded PostgreSQL"
	@echo "make check   ruff, mypy --strict, schema drift, alembic check"
	@echo "make schema  re-export schema.graphql"
	@echo "make bench   run the benchmarks in bench/"

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

run: $(STAMP)
	$(BIN)/vigil serve --seed

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check $(PKGS) migrations tests bench
	$(BIN)/ruff format --check $(PKGS) migrations tests bench

typecheck: $(STAMP)
	$(BIN)/mypy $(PKGS)

schema: $(STAMP)
	$(BIN)/vigil schema export

schema-check: $(STAMP)
	$(BIN)/vigil schema check

migrations-check: $(STAMP)
	$(BIN)/vigil db check

check: lint typecheck schema-check migrations-check

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
