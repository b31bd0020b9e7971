# LinkStar affiliate analytics kit. `make help` lists the targets.
# Every target that runs Python sets up .venv on first use (from requirements.txt).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Overridable knobs: make report PARAMS=params/smoke.yaml, make sample-data ROWS=100000
PARAMS ?= params/default.yaml
ROWS ?= 30000
SEED ?= 0
ARGS ?=
# make screenshots RUN=reports/<run-id> (default: the latest run)
RUN ?=
# make lab PORT=8890 (fails rather than moving to another port, so the printed URL holds)
PORT ?= 8888
# Kernels inherit the environment: a backend forced here would strip figures from reports.
unexport MPLBACKEND
# Tests and notebooks run in parallel processes on small matrices, where multi-threaded
# BLAS only adds contention (50x slower least squares was seen under load).
report test test-fast test-slow: export OPENBLAS_NUM_THREADS = 1

.PHONY: help setup report test test-fast test-slow test-spark lab sample-data bench lint format clean distclean screenshots

help: ## Show this help
	@echo "LinkStar affiliate analytics kit"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "Knobs: PARAMS=$(PARAMS) ROWS=$(ROWS) SEED=$(SEED) PORT=$(PORT) RUN=$(RUN) ARGS='extra runner flags'"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the pinned dependencies

report: $(STAMP) ## Run every notebook on the bundled sample; prints reports/<run-id>/index.html
	$(PY) -m helpers.report --params $(PARAMS) $(ARGS)

test: $(STAMP) ## Run the test suite (unit, reduced simulations and notebook tests)
	$(PY) -m pytest -n 2 -m "not slow" $(ARGS)

test-slow: $(STAMP) ## Full-replication simulation studies (coverage, size; ~40 min on 2 cores)
	$(PY) -m pytest -n 2 -m slow $(ARGS)

test-fast: $(STAMP) ## Run the tests that do not execute notebooks
	$(PY) -m pytest -n 2 -m "not notebook and not slow" $(ARGS)

test-spark: $(STAMP) ## Install requirements-spark.txt (pinned pyspark) and run the Spark backend's tests (needs Java)
	$(PY) -m pip install --quiet -r requirements-spark.txt
	$(PY) -m pytest -n 1 tests/test_reduce.py tests/test_reduce_groups.py $(ARGS)

lab: $(STAMP) ## JupyterLab on the project with the venv's kernel (PORT=8888); prints its URL
	@flags="--notebook-dir=. --port=$(PORT) --ServerApp.port_retries=0"; \
	if [ "$$(id -u)" = 0 ]; then flags="$$flags --allow-root"; fi; \
	if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ "$$(uname -s)" != Darwin ]; then \
		flags="$$flags --no-browser"; fi; \
	export JUPYTER_TOKEN="$${JUPYTER_TOKEN:-$$($(PY) -c 'import secrets; print(secrets.token_hex(24))')}"; \
	echo "JupyterLab: http://localhost:$(PORT)/lab?token=$$JUPYTER_TOKEN  (Ctrl-C stops it)"; \
	exec $(VENV)/bin/jupyter lab $$flags $(ARGS)

screenshots: ## PNGs of index.html and every notebook HTML of the latest run (RUN=...), headless Chromium
	@browser=$$(command -v chromium || command -v chromium-browser || true); \
	if [ -z "$$browser" ]; then \
		echo "make screenshots: skipped, Chromium is not installed (Debian: apt-get install chromium)"; exit 0; fi; \
	run="$(RUN)"; \
	if [ -z "$$run" ]; then run=$$(ls -td reports/*/ 2>/dev/null | grep -v '^reports/lab/$$' | head -1); fi; \
	run=$${run%/}; \
	if [ -z "$$run" ] || [ ! -f "$$run/index.html" ]; then \
		echo "make screenshots: no report run with an index.html (run make report first, or RUN=folder)"; exit 1; fi; \
	mkdir -p "$$run/screenshots"; root=$$(realpath "$$run"); \
	for page in $$(cd "$$run" && find . -maxdepth 2 -name '*.html' -not -path './screenshots/*' | sort); do \
		name=$$(echo "$${page#./}" | sed 's#/#__#g; s#\.html$$##'); \
		"$$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --hide-scrollbars \
			--window-size=1280,1000 --screenshot="$$root/screenshots/$$name.png" "file://$$root/$${page#./}" \
			>/dev/null 2>&1 && echo "$$run/screenshots/$$name.png"; \
	done

sample-data: $(STAMP) ## Regenerate data/sample (ROWS=30000 SEED=0) and data/smoke
	$(PY) -m helpers.synth --rows $(ROWS) --seed $(SEED) --out data/sample
	$(PY) -m helpers.synth --rows 2000 --seed 1 --out data/smoke

bench: $(STAMP) ## Benchmarks: speed and peak memory, printed with ratios
	$(PY) -m bench $(ARGS)

lint: $(STAMP) ## Ruff lint and format check, the package layers (import-linter), clean notebooks
	$(VENV)/bin/ruff check helpers tests bench notebooks
	$(VENV)/bin/ruff format --check helpers tests bench
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q tests/test_notebooks_clean.py

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix helpers tests bench
	$(VENV)/bin/ruff format helpers tests bench

clean: ## Remove caches and generated reports (keeps .venv)
	rm -rf reports/*/ .pytest_cache .ruff_cache .hypothesis bench/results
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +

distclean: clean ## Also remove .venv
	rm -rf $(VENV)
