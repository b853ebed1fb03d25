# Two commands do all the set-up on a fresh machine:
#   make run    install, migrate, load the demo county, serve on http://127.0.0.1:8000
#   make test   install, lint, run the test suite (SQLite; PostgreSQL with TEST_DATABASE_URL)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: install
	$(BIN)/bihuan migrate
	$(BIN)/bihuan demo --if-needed
	$(BIN)/bihuan serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
