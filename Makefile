# Two commands do all the set-up: `make run` and `make test` each create .venv and install
# what they need on first use (and again whenever pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CALCULATOR := bot/miniapp
VENDOR := $(CALCULATOR)/static/vendor/uPlot.iife.min.js

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The calculator page's chart library, from the npm registry at the version its lock file pins.
# Without npm the bot runs, and the page says its chart could not load.
$(VENDOR): $(CALCULATOR)/package.json $(CALCULATOR)/package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --prefix $(CALCULATOR) --no-audit --no-fund --silent && \
	  mkdir -p $(CALCULATOR)/static/vendor && \
	  cp $(CALCULATOR)/node_modules/uplot/dist/uPlot.iife.min.js \
	     $(CALCULATOR)/node_modules/uplot/dist/uPlot.min.css $(CALCULATOR)/static/vendor/; \
	else echo "npm not found: the calculator page will have no chart (the bot runs without it)"; fi

# The bot: on Telegram with TELEGRAM_BOT_TOKEN set, otherwise a chat in this terminal.
run: $(STAMP) $(VENDOR)
	$(BIN)/hedgebot

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint $(VENDOR)
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis \
	  $(CALCULATOR)/node_modules $(CALCULATOR)/static/vendor
