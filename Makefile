# Two commands do all the set-up on a fresh machine:
#   make demo   -> virtualenv + dependencies, then the offline RLVR demo (config/rl-demo.yaml: a tiny base model,
#                  GRPO on CPU, checkpoints, pass@k on the project's own arithmetic task)
#   make test   -> virtualenv + dependencies, then the test suite (real Snakemake, SLURM if running, math-verify)
VENV ?= .venv
PYTHON ?= python3
CORES ?= 2
BIN := $(VENV)/bin

.PHONY: install demo test paper-dry-run clean-demo

install: $(VENV)/.installed

# torch==2.13.0 first: on a CPU machine pip finds the local CPU build; elsewhere PyPI's default build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[hf,workflow,test]"
	touch $@

demo: install
	$(BIN)/snakemake --configfile config/rl-demo.yaml --cores $(CORES)
	$(BIN)/snakemake --configfile config/rl-demo.yaml --report results/report.html
	@echo "Tables: results/tables/  Figures: results/figures/  Report: results/report.html"

test: install
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -ra

paper-dry-run: install
	$(BIN)/snakemake --dry-run --quiet rules

clean-demo:
	rm -rf results logs
