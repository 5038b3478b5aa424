# Two commands on a fresh machine with Python 3.11: `make chat` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DB ?= ./coach.db

.PHONY: chat test lint format bench clean chromium graphviz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

chat: $(VENV)/.installed
	$(BIN)/coach chat --db $(DB)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The review page's browser tests drive Debian's chromium through Playwright (pip, the dev
# extras; it downloads no browser). Installed here when missing and running as root, as on
# CI; otherwise those tests are skipped with a message saying how to install it.
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make: installing chromium with apt-get for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# `coach dialogues graph ID --format svg` draws with Graphviz's dot (Debian's graphviz), and
# its test needs it: installed the same way, only when missing and running as root.
graphviz:
	@if ! command -v dot >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make: installing graphviz with apt-get for coach dialogues graph --format svg"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	fi

test: lint chromium graphviz
	$(BIN)/python -m pytest

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/turns.py

clean:
	rm -rf $(VENV) build *.egg-info
