"""The paper grid in miniature (config/paper-grid-tiny.yaml, rlvr_eval.planning.miniature): config.yaml's structure
with tiny models, checked against config.yaml itself, and run through the README's cluster command on the local
SLURM cluster with vLLM's CPU build (`make test-paper-grid`: far too long for every CI run on 2 cores)."""

from __future__ import annotations

import copy
import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from test_slurm import slurm_cluster  # noqa: F401 (a fixture)
from workflow_helpers import MIRROR, REPO, copy_workflow, snakemake

TINY = REPO / "config" / "paper-grid-tiny.yaml"


def test_the_committed_miniature_is_the_one_config_yaml_makes():
    from rlvr_eval.planning.miniature import miniature

    paper = yaml.safe_load((REPO / "config.yaml").read_text())
    assert yaml.safe_load(TINY.read_text()) == miniature(paper), (
        "config/paper-grid-tiny.yaml is out of date: rlvr-eval miniature config.yaml > config/paper-grid-tiny.yaml")


def mathvista_images(workdir: Path, config: dict) -> None:
    """Blank images at the sizes MathVista's annotation records (the mirror has no images), for the problems used."""
    from PIL import Image

    out = workdir / config["benchmarks"]["mathvista"]["images_dir"]
    out.mkdir(parents=True, exist_ok=True)
    rows = [r for r in json.loads((MIRROR / "mathvista" / "testmini.json").read_text()).values()
            if r["question_type"] == "free_form"][:config["benchmarks"]["mathvista"]["limit"]]
    for r in rows:
        Image.new("RGB", (r["metadata"]["img_width"], r["metadata"]["img_height"]), "white").save(
            out / r["image"].split("/")[-1])


def tiny_workflow(tmp_path: Path) -> tuple[Path, dict]:
    config = yaml.safe_load(TINY.read_text())
    config["benchmark_source"]["mirror_dir"] = str(MIRROR)
    workdir = copy_workflow(tmp_path / "wf", config)
    (workdir / "config" / "paper-grid-tiny.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    mathvista_images(workdir, config)
    return workdir, config


def planned_jobs(workdir: Path, configfile: str) -> dict[str, int]:
    proc = snakemake(workdir, "--dry-run", "--quiet", "rules", configfile=configfile)
    table = proc.stdout[proc.stdout.index("job "):]
    return {m[0]: int(m[1]) for m in re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.M) if m[0] != "total"}


def test_the_miniature_plans_every_rule_and_every_output_of_the_paper_grid(tmp_path):
    """Same models, pairs, benchmarks, templates and temperatures; every output of config.yaml's DAG has its
    counterpart (same path) in the miniature's, whose only extra outputs are the placeholder pairs' (the visual pair,
    the VeRL runs: their RL models are placeholders in config.yaml) and the tiny models' weights; every rule of the grid's DAG runs, tiny-model building
    in place of staging."""
    from rlvr_eval.planning.config import validate_config
    from rlvr_eval.planning.grid import Grid

    workdir, config = tiny_workflow(tmp_path)
    raw = yaml.safe_load((workdir / "config.yaml").read_text())
    paper = Grid(validate_config(copy.deepcopy(raw)))
    tiny = Grid(validate_config(config))
    # the RL checkpoints config.yaml holds as placeholders (the visual pair's, the VeRL runs'): tiny stand-ins here
    placeholders = {name for name, m in raw["models"].items() if "REPLACE-ME" in str(m.get("hf_id", ""))}
    placeholder_pairs = [p["name"] for p in raw["pairs"] if p["rl"] in placeholders]
    assert {"easyr1-vl-7b", "verl-grpo-step450", "verl-dapo"} <= set(placeholder_pairs)
    assert [p["name"] for p in tiny.pairs] == [p["name"] for p in raw["pairs"]]
    assert set(p["name"] for p in tiny.pairs) - set(p["name"] for p in paper.pairs) == set(placeholder_pairs)
    for model in paper.models:
        assert tiny.benchmarks_of(model) == paper.benchmarks_of(model)
        for benchmark in paper.benchmarks_of(model):
            assert tiny.template(model, benchmark) == paper.template(model, benchmark)
            assert (tiny.sampling_params(model, benchmark).temperature
                    == paper.sampling_params(model, benchmark).temperature)
    # ... and their base models' outputs that only those pairs need (perplexities)
    vl_models = placeholders | ({p["base"] for p in raw["pairs"] if p["name"] in placeholder_pairs}
                                - {p["base"] for p in paper.pairs})
    assert "qwen2.5-vl-7b-instruct" in vl_models
    def outputs(grid):  # shard counts differ (n / 16): one name for a model x benchmark's shards
        return {re.sub(r"shard-\d+", "shard-*", path) for path in grid.targets()}

    extra = outputs(tiny) - outputs(paper)
    assert outputs(paper) <= outputs(tiny), sorted(outputs(paper) - outputs(tiny))[:5]
    # and the tiny models' weight directories, which the models' builds write (staged weights live in resources/)
    assert [p for p in sorted(extra) if not (p.startswith("results/models/") or any(q in p for q in placeholder_pairs)
                                             or any(m in p for m in vl_models))] == []

    paper_jobs = planned_jobs(workdir, "config.yaml")
    tiny_jobs = planned_jobs(workdir, "config/paper-grid-tiny.yaml")
    assert set(tiny_jobs) == set(paper_jobs) - {"stage_model"} | {"build_tiny_model"}
    assert tiny_jobs["sample"] < paper_jobs["sample"] / 10  # one shard per model x benchmark


def run_on_slurm(workdir: Path, config: dict, configfile: str) -> Counter:
    """`snakemake --profile slurm --configfile <configfile>`, the README's command plus only the config file, run
    by the Python that has vLLM (its CPU build here), with the profile adapted to the local cluster: every output
    of the DAG is built and every submitted job is COMPLETED in sacct. Returns the submitted jobs per rule."""
    from rlvr_eval.planning.config import validate_config
    from rlvr_eval.planning.grid import Grid
    from test_slurm import sacct_states, write_test_profile

    write_test_profile(workdir)
    started = time.time()
    proc = snakemake(workdir, "--profile", "slurm", configfile=configfile, check=False, timeout=4 * 3600)
    elapsed = time.time() - started
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"snakemake --profile slurm failed after {elapsed:.0f} s:\n{log[-8000:]}"
    missing = [t for t in Grid(validate_config(config)).targets() if not (workdir / t).exists()]
    assert not missing, missing[:10]
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    submitted = dict(re.findall(r"has been submitted with SLURM jobid (\d+) \(log: .*?/rule_(\w+)/", log))
    states = sacct_states(run_id, set(submitted), timeout=300)
    not_completed = {j: (submitted[j], states.get(j, ("unknown",))[0]) for j in submitted
                     if states.get(j, ("unknown",))[0] != "COMPLETED"}
    assert submitted and not not_completed, f"jobs not COMPLETED in sacct: {not_completed}"
    per_rule = Counter(submitted.values())
    print(f"{configfile} on SLURM: {elapsed:.0f} s, {len(submitted)} SLURM jobs: "
          + ", ".join(f"{rule} {count}" for rule, count in sorted(per_rule.items())))
    return per_rule


@pytest.mark.slurm
@pytest.mark.vllm
@pytest.mark.slow
def test_one_pair_of_the_miniature_through_the_readmes_cluster_command(slurm_cluster, tmp_path):
    """CI's share of the miniature (the whole is `make test-paper-grid`, hours here): its Qwen2.5-7B / SimpleRL-Zoo
    pair on AIME24, every other model switched off (`enabled: false`). vLLM sampling, verification, perplexity and
    entropy jobs go through SLURM; the global outputs name what the run left out."""
    config = yaml.safe_load(TINY.read_text())
    config["benchmark_source"]["mirror_dir"] = str(MIRROR)
    pair = {"qwen2.5-7b", "simplerl-zoo-qwen2.5-7b"}
    for name, model in config["models"].items():
        if name in pair:
            model["benchmarks"] = ["aime24"]
        else:
            model["enabled"] = False
    workdir = copy_workflow(tmp_path / "wf", config)
    (workdir / "config" / "one-pair.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    mathvista_images(workdir, config)  # the benchmark is still prepared (and checked), though no model reads it

    per_rule = run_on_slurm(workdir, config, "config/one-pair.yaml")
    assert per_rule["sample"] == 2 and per_rule["perplexity"] == 2 and per_rule["entropy"] == 2
    assert per_rule["verify"] == 4  # two graders per sample shard
    summary = (workdir / "results" / "summary.md").read_text()
    assert "Left out of this run:" in summary and "dapo-qwen-32b" in summary


@pytest.mark.paper_grid
@pytest.mark.slurm
@pytest.mark.vllm
@pytest.mark.slow
def test_the_paper_grid_in_miniature_through_the_readmes_cluster_command(slurm_cluster, tmp_path):
    """`snakemake --profile slurm --configfile config/paper-grid-tiny.yaml`, the README's command plus only the
    config file, run by the Python that has vLLM (its CPU build here): every output of the DAG is built and every
    submitted job is COMPLETED in sacct."""
    workdir, config = tiny_workflow(tmp_path)
    run_on_slurm(workdir, config, "config/paper-grid-tiny.yaml")
