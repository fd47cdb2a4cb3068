# Everything memview needs is installed here, from PyPI, into .venv (pinned by constraints.txt).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint typecheck unit clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# The main job: check every property of the built-in seed design.
run: setup
	$(BIN)/memview check --design seed

lint: setup
	$(BIN)/ruff check memview tests bench

typecheck: setup
	$(BIN)/mypy --strict memview

unit: setup
	$(BIN)/pytest -n 2 -q

# Every test: lint, types, and the whole pytest suite (slow tests included).
test: lint typecheck unit

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
