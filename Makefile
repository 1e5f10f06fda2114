# The README's two commands: `make demo` and `make test`. Both build .venv from
# nothing but python3, as does `make docs` (the HTML site in build/docs/).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[cli,plot]"
	touch $@

$(VENV)/.test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

$(VENV)/.docs: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@

demo: $(VENV)/.demo
	MPLBACKEND=Agg $(BIN)/emix demo

test: $(VENV)/.test
	$(BIN)/python -m pytest -q

lint: $(VENV)/.test
	$(BIN)/ruff check emix tests benchmarks
	$(BIN)/ruff format --check emix tests benchmarks

# The guide (docs/*.md) and the API reference (docs/api/, from the docstrings); every
# warning is an error, and -E reads every page again, so a second run sees them too.
# The docstrings' examples run in `make test` (tests/test_doctests.py), not here.
docs: $(VENV)/.docs
	$(BIN)/python -m sphinx -E -W --keep-going -q -b html docs build/docs
	@echo "docs written to build/docs/index.html"

bench: $(VENV)/.test
	$(BIN)/python benchmarks/bench_em.py --quick

clean:
	rm -rf $(VENV) build *.egg-info
