# MétalTech — `make run` serves the demo on SQLite, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py

.PHONY: run test guide lint typecheck format migrations-check worker clean

# A stamp per extra set: `make test` after `make run` still adds the dev extras.
$(VENV)/.installed-run: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed-run $@

run: export DEBUG ?= 1
run: $(VENV)/.installed-run
	$(MANAGE) migrate --no-input
	$(MANAGE) seed_demo
	$(MANAGE) runserver 127.0.0.1:8000

# One pytest-xdist worker per core (TEST_WORKERS=0 runs in this process); a module that
# builds its rows once keeps its tests on one worker (xdist_group, --dist loadgroup).
# pytest-randomly shuffles the order at each run and prints its seed: replay an order
# with PYTEST_ARGS="--randomly-seed=N" (docs/tests.md).
TEST_WORKERS ?= auto
# The bytecode is kept even where PYTHONDONTWRITEBYTECODE is set: each worker would
# otherwise compile the project and rewrite the pytest plugins' asserts again (~8 s each).
test: $(VENV)/.installed-dev
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup -rs $(PYTEST_ARGS)

# The user guide's screenshots (docs/guide/screenshots/), taken again by the browser
# tests of the everyday journeys and home pages (needs Chromium at /usr/bin/chromium).
guide: $(VENV)/.installed-dev
	ARTIFACTS_DIR=docs/guide BROWSER_TESTS=1 $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/browser/test_journeys.py tests/browser/test_accessibility.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	DEBUG=1 $(BIN)/mypy school companies courses internships billing assessments

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: $(VENV)/.installed-dev
	DEBUG=1 $(MANAGE) makemigrations --check --dry-run

worker: export DEBUG ?= 1
worker: $(VENV)/.installed-run
	TASKS_BACKEND=database $(MANAGE) db_worker

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
