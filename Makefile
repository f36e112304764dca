# NeuroLIP: two commands on a fresh machine.
#   make demo   creates .venv, installs, runs the whole workflow on the simulated cohort, writes results/report.html
#   make test   same environment, runs the test suite
PYTHON ?= python3
VENV ?= .venv
CORES ?= $(shell nproc 2>/dev/null || echo 2)
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast install lint clean clean-venv

install: $(STAMP)

# torch is pinned first, from where TORCH says (README, "Which PyTorch build"):
#   TORCH=pypi   (default) whatever pip finds for torch==2.13.0 on PyPI or your pip configuration: on Linux
#                x86_64 that is PyPI's CUDA build (several GB, runs on a CPU too); macOS and aarch64 get a CPU build
#   TORCH=cpu    PyTorch's CPU-only build (https://download.pytorch.org/whl/cpu, ~200 MB)
#   TORCH=cu126  (or cu128, ...) PyTorch's build for that CUDA version (https://download.pytorch.org/whl/<TORCH>)
# constraints.txt pins every package to the versions tested (and pinned in envs/*.yaml)
TORCH ?= pypi
TORCH_INDEX := $(if $(filter pypi,$(TORCH)),,--index-url https://download.pytorch.org/whl/$(TORCH))
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_INDEX) torch==2.13.0
	@$(BIN)/python -c "import torch; print('torch', torch.__version__, '| CUDA build:', torch.version.cuda or 'none (CPU only)', '| GPU visible:', torch.cuda.is_available())"
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

# a different PyTorch build (TORCH=...) needs a fresh environment
clean-venv:
	rm -rf $(VENV)
