# The two commands: `make serve` and `make test`. Both install what is missing first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 5006

.PHONY: install system-deps python-deps serve test bench clean

install: system-deps python-deps

system-deps:
	@bash scripts/system_deps.sh

python-deps: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

serve: install
	$(BIN)/somana serve --port $(PORT)

test: install
	$(BIN)/python -m pytest

bench: install
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
