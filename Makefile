# Two commands matter: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BROWSER := $(VENV)/.chromium
DEMO_CASE := fixtures/incident-small/case.yaml
DEMO_OUT  := out/incident-small
LINTED    := forensics tests fixtures $(wildcard benchmarks)

.PHONY: setup demo test lint format lab clean

setup: $(STAMP) $(BROWSER)

# The report tests render pages in Debian's Chromium; installed once when absent.
$(BROWSER):
	command -v chromium >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q chromium >/dev/null; }; }
	mkdir -p $(VENV) && touch $(BROWSER)

# Re-installs only when the project's dependency declaration changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

demo: setup
	$(BIN)/forensics report $(DEMO_CASE) --out $(DEMO_OUT)

test: setup
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/python -m pytest -q

format: setup
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

# JupyterLab on the notebooks; their default parameters point at the demo's evidence.
lab: setup
	test -f $(DEMO_OUT)/manifest.json || $(BIN)/forensics investigate $(DEMO_CASE) --out $(DEMO_OUT)
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
