# Vigil: two commands for a newcomer (`make run`, `make test`); the rest is for daily work.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PKGS   := api domain persistence authz
# Two bootstraps at once (`make run` and `make test` in two terminals) take turns on the venv: the lock file sits
# beside .venv (so `make clean` never deletes a lock someone holds); without flock(1) installs are not serialised.
LOCK   := .venv.lock
FLOCK  := $(shell command -v flock 2>/dev/null)

.PHONY: run test test-unit check lint typecheck schema schema-check migrations-check bench install venv-locked lock-prod clean help
.DEFAULT_GOAL := help

help:
	@echo "make run     start Vigil on an embedded PostgreSQL with demo data (http://127.0.0.1:8000/graphql)"
	@echo "make test    bootstrap and run the whole test suite on a throwaway embedded PostgreSQL"
	@echo "make test-unit  the fast tier: every test that needs no database (domain, authz, audit hashing, tooling)"
	@echo "make check   ruff, mypy --strict, schema drift, alembic check"
	@echo "make schema  re-export schema.graphql"
	@echo "make bench   run the benchmarks in bench/"
	@echo "make lock-prod  rewrite requirements-prod.lock (the Docker image's run-time dependencies) from requirements.lock"
	@echo "make clean   delete .venv and the tool caches (the next command reinstalls); .data (the database) stays"

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
ifneq ($(FLOCK),)
	@$(FLOCK) $(LOCK) $(MAKE) --no-print-directory venv-locked
else
	@$(MAKE) --no-print-directory venv-locked
endif

# Runs with the lock held: whoever waited finds the stamp of the install that ran first and does nothing.
venv-locked:
	@if [ ! -f $(STAMP) ]; then \
	  set -e; \
	  test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
	  echo "installing the locked dependencies into $(VENV)"; \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock; \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .; \
	  $(BIN)/python -m compileall -q api domain persistence authz migrations > /dev/null; \
	  rm -f $(VENV)/.installed-*; \
	  touch $(STAMP); \
	fi

run: $(STAMP)
	$(BIN)/vigil serve --seed

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest -m "not db" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check $(PKGS) migrations tests bench tools
	$(BIN)/ruff format --check $(PKGS) migrations tests bench tools

typecheck: $(STAMP)
	$(BIN)/mypy $(PKGS) tools bench

schema: $(STAMP)
	$(BIN)/vigil schema export

schema-check: $(STAMP)
	$(BIN)/vigil schema check

migrations-check: $(STAMP)
	$(BIN)/vigil db check

check: lint typecheck schema-check migrations-check

lock-prod: $(STAMP)
	$(BIN)/python -m tools.production_lock

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
