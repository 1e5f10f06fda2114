# The README's two commands: `make demo` and `make test`. Both build .venv from
# nothing but python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[cli,plot]"
	touch $@

$(VENV)/.test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: $(VENV)/.demo
	MPLBACKEND=Agg $(BIN)/emix demo

test: $(VENV)/.test
	$(BIN)/python -m pytest -q

lint: $(VENV)/.test
	$(BIN)/ruff check emix tests benchmarks
	$(BIN)/ruff format --check emix tests benchmarks

bench: $(VENV)/.test
	$(BIN)/python benchmarks/bench_em.py --quick

clean:
	rm -rf $(VENV) build *.egg-info
