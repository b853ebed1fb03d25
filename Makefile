# Two commands do all the set-up on a fresh machine:
#   make run    install, migrate, load the demo county, serve on http://127.0.0.1:8000
#   make test   install, lint, run the test suite (SQLite; PostgreSQL with TEST_DATABASE_URL),
#               browser tests included (installs Debian's chromium and CJK fonts when missing)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test lint browser-deps bench clean

# Apache ECharts (npm registry, pinned by package-lock.json) for the committee's board: the
# "common" build (bar, line, tooltip, legend; 0.7 MB) served from /static/vendor/. Without
# npm the board still shows its tables and says charts are unavailable.
ECHARTS := app/web/static/vendor/echarts.min.js

install: $(VENV)/.installed $(ECHARTS)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(ECHARTS): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error && mkdir -p $(@D) && \
	  cp node_modules/echarts/dist/echarts.common.min.js $@ && \
	  cp node_modules/echarts/LICENSE $(@D)/echarts.LICENSE; \
	else echo "npm not found: the board will show its tables without charts"; fi

run: install
	$(BIN)/bihuan migrate
	$(BIN)/bihuan demo --if-needed
	$(BIN)/bihuan serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check .

# The browser tests drive Debian's chromium (Playwright's own browser download does not work
# here); without fonts-noto-cjk every Chinese character renders as a box.
BROWSER_PACKAGES := chromium fonts-noto-cjk
browser-deps:
	@if [ -x /usr/bin/chromium ] && dpkg -s fonts-noto-cjk >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "browser tests need the Debian packages $(BROWSER_PACKAGES):" \
	       "run as root: apt-get install -y $(BROWSER_PACKAGES)" >&2; exit 1; \
	fi; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES)

test: lint browser-deps
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache node_modules app/web/static/vendor
