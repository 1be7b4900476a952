# Two commands matter: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUNTIME := $(VENV)/.runtime-installed
BROWSER := $(VENV)/.system-packages
DEMO_CASE := fixtures/incident-small/case.yaml
DEMO_OUT  := out/incident-small
LINTED    := forensics tests fixtures $(wildcard benchmarks)

.PHONY: setup demo test lint format lab clean bench-sql bench-ingest bench-policy bench bench-warehouse bench-rerun

setup: $(STAMP) $(BROWSER)

# System packages the tests use, from Debian, installed once when absent: Chromium (the
# report is checked in a real browser), poppler-utils (pdftotext reads the report printed
# to PDF) and a Java runtime (Spark's Thrift Server).
$(BROWSER): Makefile
	@SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing (Debian packages)"; \
	  $$SUDO apt-get install -y -q $$missing >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q $$missing >/dev/null; }; \
	fi
	mkdir -p $(VENV) && touch $(BROWSER)

# Re-installs only when the project's dependency declaration changes. The runtime (what the
# demo and the notebooks need) and the dev extras (tests, lint, PySpark: ~0.5 GB) apart.
$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo needs only the runtime (no dev extras, no browser, no Java).
demo: $(RUNTIME)
	$(BIN)/forensics report $(DEMO_CASE) --out $(DEMO_OUT)

test: setup
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/python -m pytest -q

format: setup
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

# Benchmarks (results are written down in docs/performance.md).
bench-sql: $(STAMP)
	$(BIN)/python benchmarks/bench_sql.py

# JupyterLab on the notebooks; their default parameters point at the demo's evidence.
# Jupyter refuses to run as root unless told: --allow-root only then.
lab: $(RUNTIME)
	test -f $(DEMO_OUT)/manifest.json || $(BIN)/forensics investigate $(DEMO_CASE) --out $(DEMO_OUT)
	$(BIN)/jupyter lab notebooks/ $$([ "$$(id -u)" = 0 ] && echo --allow-root)

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache

# Ingest per log format beside DuckDB's raw readers, on generated incidents of 1M and 10M
# events (kept in $FORENSICS_BENCH_DIR or ~/.cache/forensics-bench); writes
# benchmarks/results/ingest.md.
bench-ingest: $(STAMP)
	$(BIN)/python benchmarks/bench_ingest.py

# Baseline authorization (forensics.policy.allowed_sets) for 45,000 objects x 50,000
# principals x 2,000 generated policies: time, peak RSS and agreement with the
# single-request evaluator on 100,000 requests; writes benchmarks/results/policy.md.
bench-policy: $(STAMP)
	$(BIN)/python benchmarks/bench_policy.py

# The whole investigation from normalized events (1M, 10M, 100M; Parquet written by
# benchmarks/synth_events.py, cached like bench-ingest's) beside a pandas notebook, DuckDB's
# raw scan and PySpark on the same queries/; writes benchmarks/results/investigate.md and
# the "Whole investigation" section of docs/performance.md.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_investigate.py

# The warehouse path: the 1M and 10M incidents of benchmarks/synth_events.py declared to a
# Spark Thrift Server (external Parquet tables), `forensics investigate --profile` per
# pushdown mode beside the embedded run on the same events: time per stage, rows and bytes
# fetched, evidence compared byte for byte; writes benchmarks/results/warehouse.md.
bench-warehouse: setup
	$(BIN)/python benchmarks/bench_warehouse.py

# Reruns with the ingest cache on the 1M raw-format incident of benchmarks/synth.py (kept
# as bench-ingest keeps it): first run, cold cache, unchanged inputs, one new day of logs;
# writes benchmarks/results/rerun.md (the "Reruns" section of docs/performance.md).
bench-rerun: $(STAMP)
	$(BIN)/python benchmarks/bench_rerun.py
