# falco-lab: every target bootstraps .venv by itself on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHECKED := falco_lab tests benchmarks tools
DOCS    := README.md ARCHITECTURE.md CONTRIBUTING.md Makefile pyproject.toml .pre-commit-config.yaml

.PHONY: run test lint format-check typecheck bench lab clean browser sysdig notebooks

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: execute every notebook in simulate mode into build/notebooks and write build/report.html
run: $(STAMP)
	$(BIN)/python -m falco_lab.lab.runner run --out build

## test: lint, format check and type check, then the whole test suite
test: $(STAMP) browser sysdig lint format-check typecheck
	$(BIN)/python -m pytest

## lint: ruff's lint rules and codespell
lint: $(STAMP)
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/codespell $(CHECKED) $(DOCS)

## format-check: fails when `ruff format` would change a file (run `$(BIN)/ruff format $(CHECKED)` to fix)
format-check: $(STAMP)
	$(BIN)/ruff format --check $(CHECKED)

## typecheck: mypy as configured in pyproject.toml (strict for falco_lab.rules)
typecheck: $(STAMP)
	$(BIN)/mypy falco_lab

## bench: benchmarks, results as JSON under build/bench/ (each stamped by bench_common: run times, load, seed, baseline and peers), then the total time
bench: $(STAMP)
	@mkdir -p build/bench
	@set -e; start=$$(date +%s); \
	for b in benchmarks/bench_*.py; do \
		[ "$$b" = benchmarks/bench_common.py ] && continue; \
		echo "== $$b"; $(BIN)/python $$b --out build/bench; \
	done; \
	echo "== make bench: total $$(( $$(date +%s) - start )) s (each JSON under build/bench/ has its own run times)"

## notebooks: rebuild notebooks/*.ipynb from their paired sources notebooks/*.py (jupytext)
notebooks: $(STAMP)
	$(BIN)/python tools/build_notebooks.py

## lab: JupyterLab on the project's environment (jupytext pairs each .ipynb with its .py source)
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

## browser: headless Chromium for the report's XSS test (installed in CI; elsewhere the test says it is missing)
browser:
	@if [ "$$CI" = "true" ] && ! command -v chromium >/dev/null 2>&1; then \
		echo "installing Debian chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed; the browser test will fail on CI"; \
	fi

## sysdig: Debian's sysdig (libsinsp) for the capture tests' reference (installed in CI; elsewhere those tests say it is missing)
sysdig:
	@if [ "$$CI" = "true" ] && ! command -v sysdig >/dev/null 2>&1; then \
		echo "installing Debian sysdig for the capture tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends sysdig >/dev/null) \
		|| echo "sysdig could not be installed; the capture tests against libsinsp will fail on CI"; \
	fi

clean:
	rm -rf build .pytest_cache
