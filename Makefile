# crisis-ct — the two commands: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PORT ?= 5000
# gunicorn processes; unset: crisis_ct/serving.py decides (2, one per core of the reference machine)
WORKERS ?=
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -y -q -o Dpkg::Use-Pty=0

# Debian/Ubuntu packages: SpatiaLite for the embedded database; PostgreSQL + PostGIS
# and Chromium for the test suite (the server is started by the tests themselves).
RUN_DEB := libsqlite3-mod-spatialite libpango-1.0-0 libpangoft2-1.0-0 fonts-liberation
TEST_DEB := $(RUN_DEB) postgresql postgresql-postgis chromium

.PHONY: run test bench system-run system-test venv venv-test serve clean

run: system-run venv
	$(BIN)/crisis-ct db upgrade
	$(BIN)/crisis-ct demo load --if-empty
	@echo "crisis-ct on http://127.0.0.1:$(PORT)  (add a user: $(BIN)/crisis-ct users add EMAIL --role coordinator --operation demo)"
	$(SERVE)

# gunicorn and the worker (all scheduled jobs) side by side, on an installed, migrated
# database. One command, make's direct child, so SIGTERM/SIGINT to make stops both.
SERVE = $(BIN)/python -m crisis_ct.supervise --port $(PORT) $(if $(WORKERS),--workers $(WORKERS))
serve:
	$(SERVE)

test: system-test venv-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# SCALE=100k: the world ten times the demo's (generated once into bench/data/, several minutes)
bench: system-test venv-test
	$(BIN)/python bench/run.py $(if $(SCALE),--scale $(SCALE) --out bench/results-$(SCALE).json,--out bench/results.json)

# Installs only what is missing, so a second run is quick and needs no network.
system-run:
	@bash tools/ensure-debs.sh $(RUN_DEB)

system-test:
	@bash tools/ensure-debs.sh $(TEST_DEB)

$(BIN)/python:
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || bash tools/ensure-debs.sh python3-venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	@touch $@ $(VENV)/.installed

venv: $(VENV)/.installed
venv-test: $(VENV)/.installed-test

clean:
	rm -rf $(VENV) var test-artifacts
