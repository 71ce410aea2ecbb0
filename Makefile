# Two entry points, both self-installing into ./.venv (Python 3.11, pinned dependencies):
#   make app    install the runtime and start the Streamlit app (no LLM, no network needed)
#   make test   install runtime + test tools, then lint, type-check and run every test
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: app test install install-test lint typecheck clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3

$(VENV)/.installed-runtime: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed-runtime
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

install: $(VENV)/.installed-runtime
install-test: $(VENV)/.installed-test

app: install
	$(BIN)/advisor index
	$(BIN)/streamlit run app.py

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-test
	$(BIN)/mypy

test: install-test lint typecheck
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .advisor-data .pytest_cache .mypy_cache .ruff_cache
