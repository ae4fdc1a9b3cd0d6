# `make test` and `make demo` create .venv when it is missing and install scenarist with its test
# extras into it; later runs reuse it (re-installing only when pyproject.toml changed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: test demo lint bench install

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/scenarist demo

lint: $(STAMP)
	$(BIN)/ruff check scenarist tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/drift.py
