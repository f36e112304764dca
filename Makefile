# NeuroLIP: two commands on a fresh machine.
#   make demo   creates .venv, installs, runs the whole workflow on the simulated cohort, writes results/report.html
#   make test   same environment, runs the test suite
PYTHON ?= python3
VENV ?= .venv
CORES ?= $(shell nproc 2>/dev/null || echo 2)
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast install lint clean

install: $(STAMP)

# torch is pinned first: the 2.13.0 CPU wheel (a plain "torch" would pull a multi-GB CUDA build on a CPU box)
# constraints.txt pins every package to the versions tested (and pinned in envs/*.yaml)
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[workflow,test,lint,fmriprep]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report results/report.html
	@echo "Report: results/report.html"

test: $(STAMP)
	$(BIN)/python -m pytest -ra --durations=15

# the fast inner loop: everything but the end-to-end workflow runs
test-fast: $(STAMP)
	$(BIN)/python -m pytest -ra -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

clean:
	rm -rf results .snakemake
