# The two commands a newcomer needs: `make run` and `make test`. Everything else is a step of theirs.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PATIENTS ?= 36
MONITOR_PORT ?= 2575

.PHONY: run test install check lint typecheck contracts docs pytest pytest-sqlite pytest-postgres lock clean messages

# Installs, migrates a fresh SQLite database, loads the demo clinic and serves it with its worker.
run: install
	KAPSTONE_DEMO_MODE=1 $(BIN)/kapstone migrate --no-input -v 0
	KAPSTONE_DEMO_MODE=1 $(BIN)/kapstone demo_clinic --patients $(DEMO_PATIENTS)
	KAPSTONE_DEMO_MODE=1 $(BIN)/kapstone collectstatic --no-input -v 0
	@# The task worker runs alongside (alert escalations, reminders), and the monitor listener with a
	@# simulated bedside monitor feeding IV chair 2 (docs/monitors.md); they stop with the server.
	KAPSTONE_DEMO_MODE=1 $(BIN)/kapstone db_worker -v 0 & pids=$$!; \
	  if $(BIN)/python -c 'import socket,sys; sys.exit(socket.socket().connect_ex(("127.0.0.1", $(MONITOR_PORT))) == 0)'; then \
	    KAPSTONE_DEMO_MODE=1 $(BIN)/kapstone monitor_listener --port $(MONITOR_PORT) -v 0 & pids="$$pids $$!"; \
	    KAPSTONE_DEMO_MODE=1 $(BIN)/kapstone monitor_simulator --port $(MONITOR_PORT) --device DEMO_MONITOR \
	      --speed 10 --loop -v 0 >/dev/null & pids="$$pids $$!"; \
	  else echo "Port $(MONITOR_PORT) is busy, so no live monitor feed this time (MONITOR_PORT=2576 make run picks another)."; fi; \
	  trap 'kill $$pids' EXIT; \
	  KAPSTONE_DEMO_MODE=1 $(BIN)/kapstone runserver $(HOST):$(PORT)

# Installs everything (with the browser) and runs every check and test. The two database legs and the
# checks run at once: each alone leaves a core idle much of the time (mypy is one process; a leg's
# last long tests run while its other worker has nothing left; PostgreSQL round trips and the browser
# wait), together they keep both busy. Each prints its output whole when it ends (--output-sync).
test: install
	scripts/ensure-chromium
	scripts/fetch-fhir-schema
	@echo "== The SQLite leg, the PostgreSQL leg and the checks, at once; each reports when it ends"
	$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target pytest-sqlite pytest-postgres check

check: lint typecheck contracts docs

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck:
	$(BIN)/mypy

contracts:
	$(BIN)/lint-imports

# The documentation site (mkdocs.yml, docs/) into site/; a warning (a broken link or anchor, a page
# left out of the navigation) fails it; not --quiet, which also hides the warnings from --strict.
# It builds offline: no web fonts, no plugin that fetches anything.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# The whole suite on SQLite and on PostgreSQL (scripts/test-postgres says how it finds one), each leg
# spread over PYTEST_WORKERS processes (pytest-xdist; one per core by default), each with its own
# database: pytest-django suffixes the test database's name with the worker (test.sqlite3_gw0, ...;
# test_postgres_gw0, ...). Tests that use no database run once, in the SQLite leg
# (--database-tests-only, tests/conftest.py).
PYTEST_WORKERS ?= auto
# One file's tests on one worker (--dist loadfile): a module that builds its clinic once for its tests
# (tests/conftest.py, kept_for_the_module) would otherwise build it on each worker its tests reached.
# A file's transactional test may then run before other files' tests; its flush empties the rows
# the data migrations seeded, and tests/conftest.py puts them back right after it.
PYTEST_XDIST = -n $(PYTEST_WORKERS) --dist loadfile
# Jobs `make test` runs at once: both legs, and the checks beside them.
TEST_JOBS ?= 4

# Compile each module once for the run, not in every worker and every `kapstone` subprocess: an
# environment that sets PYTHONDONTWRITEBYTECODE made every Python start compile Django from source.
# A full run (no PYTEST_ARGS) records each test's outcome and then checks the safety case against it
# (docs/safety/index.md): every control's tests passed in this very run. A targeted run does neither.
SAFETY_RESULTS := var/safety-case/test-results.json
SAFETY_PLUGIN = $(if $(PYTEST_ARGS),,-p kapstone.safety_case.pytest_plugin --safety-case-results=$(SAFETY_RESULTS))

# `make pytest` runs the two legs one after the other; `make test` runs them at once.
pytest: pytest-sqlite pytest-postgres

pytest-sqlite pytest-postgres: export PYTHONDONTWRITEBYTECODE =
pytest-sqlite:
	@echo "== SQLite leg"
	@# A file per worker in WAL mode, as in production, not Django's shared in-memory test database:
	@# there the live server's threads (polling tablets) get "table is locked" at once instead of waiting.
	dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
	  KAPSTONE_TEST_SQLITE_NAME="$$dir/test.sqlite3" $(BIN)/pytest -p no:cacheprovider $(PYTEST_XDIST) $(SAFETY_PLUGIN) $(PYTEST_ARGS)
	$(if $(PYTEST_ARGS),,$(BIN)/kapstone safety_case check --results $(SAFETY_RESULTS))

pytest-postgres:
	scripts/test-postgres $(PYTEST_XDIST) --database-tests-only $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock requirements-bootstrap.lock
	test -x $(BIN)/python || $$(scripts/find-python) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes --no-deps -r requirements-bootstrap.lock
	$(BIN)/uv pip sync -q --python $(BIN)/python --require-hashes requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $@

# Regenerates the hash-pinned lock from pyproject's exact pins, without any download address.
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.13 \
	  --python-platform x86_64-manylinux_2_28 --no-emit-index-url --no-header -q -o requirements.lock

clean:
	rm -rf $(VENV) var/*.sqlite3* staticfiles

# The patient companion's translations (docs/features/companion-accounts.md, "Languages"): collects
# every marked string of src/kapstone into locale/es/LC_MESSAGES/django.po (new ones untranslated),
# then compiles django.mo. Translate the new entries, run it again, and commit both files.
messages: install
	cd src/kapstone && ../../$(BIN)/kapstone makemessages -l es --ignore=static --ignore=migrations
	cd src/kapstone && ../../$(BIN)/kapstone compilemessages -l es
