"""Incremental reruns: what the real Snakemake would run after a config or code change to a finished demo.

The demo runs once per session (conftest's `demo_run`); each case edits a copy of it (with its own copy of the
package on PYTHONPATH, so code can be edited) and asks Snakemake for a dry run; one case really reruns.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rlvr_eval.verify.graders import GRADERS
from workflow_helpers import executed_rules, planned_jobs, planned_outputs, read_config, snakemake, write_config

pytestmark = pytest.mark.slow

MODELS = ("tiny-base", "tiny-rl")
BENCHMARKS = ("gsm8k", "math500")
SAMPLED = (*BENCHMARKS, "humanevalplus")  # the demo's code benchmark: verified by rule verify_code
SHARDS = ("0000", "0001")
GRADER_NAMES = ("math_verify", "qwen_math")
# Jobs that combine samples or verdicts of several shards, models or benchmarks (perplexity scores a
# subsample of a model's responses, so new or changed samples re-score it).
AGGREGATES = {"passk_metrics", "passk_table", "passk_figure", "grader_agreement", "coverage", "accuracy_hist",
              "bootstrap_passk", "analysis_figures", "perplexity", "perplexity_set", "delta_se", "token_nll",
              "summary"}


@pytest.fixture()
def run(demo_copy):
    return demo_copy


def assert_nothing_planned(work, why=""):
    jobs = planned_jobs(work)
    assert jobs == [], f"{why}: Snakemake would run {jobs}"


def append(path, text):
    path.write_text(path.read_text() + text)


def test_a_copy_of_the_finished_demo_is_up_to_date(run):
    assert_nothing_planned(run, "nothing changed")


def test_touching_files_without_changing_them_reruns_nothing(run):
    touched = ["results/data/gsm8k.parquet", "results/models/tiny-base.json",
               "results/samples/tiny-base/gsm8k/shard-0000.parquet",
               "results/verdicts/tiny-rl/math500/math_verify/shard-0001.parquet",
               "results/metrics/tiny-rl/gsm8k/math_verify/per_problem.parquet", "results/tables/passk/gsm8k.csv",
               # code: Snakemake's own code trigger would rerun every job of a touched script (profiles/default)
               "workflow/scripts/sample.py", "workflow/scripts/passk_figure.py", "src/rlvr_eval/plots/passk_curves.py"]
    for f in touched:
        os.utime(run / f)
    assert_nothing_planned(run, "after touching files")


def test_adding_a_model_runs_only_its_jobs_and_the_aggregates(run):
    config = read_config(run)
    new = copy.deepcopy(config["models"]["tiny-rl"])
    new["tiny"]["seed"] = 2
    config["models"]["tiny-rl2"] = new
    write_config(run, config)
    planned = planned_outputs(run)
    assert set(planned) <= {"build_tiny_model", "sample", "verify", "verify_code"} | AGGREGATES, planned
    for rule in ("build_tiny_model", "sample", "verify", "passk_metrics", "grader_agreement"):
        assert planned[rule] and all("/tiny-rl2" in o for o in planned[rule]), (rule, planned[rule])
    jobs = planned_jobs(run)
    count = {r: sum(1 for rr, _ in jobs if rr == r) for r in planned}
    assert count == {"build_tiny_model": 1, "sample": 6, "verify": 8, "verify_code": 2, "passk_metrics": 3,
                     "grader_agreement": 2, "passk_table": 3, "passk_figure": 1, "token_nll": 1, "summary": 1}, count


def test_raising_n_adds_only_new_shards(run):
    config = read_config(run)
    config["benchmarks"]["gsm8k"]["n"] = 12  # shard_size 4: one more shard
    write_config(run, config)
    planned = planned_outputs(run)
    assert planned["sample"] == sorted(f"results/samples/{m}/gsm8k/shard-0002.parquet" for m in MODELS)
    assert planned["verify"] == sorted(f"results/verdicts/{m}/gsm8k/{g}/shard-0002.parquet"
                                       for m in MODELS for g in GRADER_NAMES)
    assert set(planned) <= {"sample", "verify"} | AGGREGATES, planned
    # MATH500's perplexity tables are only copied again from the archive by their scorer's job, which rescores
    # the GSM8K sets alone (tests/test_perplexity_groups.py); nothing else of MATH500 reruns
    assert not [o for rule, outs in planned.items() if rule != "perplexity_set" for o in outs if "math500" in o]


def test_changing_one_models_temperature_resamples_only_that_model(run):
    config = read_config(run)
    config["models"]["tiny-rl"]["sampling"] = {"temperature": 0.8}
    write_config(run, config)
    planned = planned_outputs(run)
    assert planned["sample"] == sorted(f"results/samples/tiny-rl/{b}/shard-{s}.parquet"
                                       for b in SAMPLED for s in SHARDS)
    assert len(planned["verify"]) == 8 and all("/tiny-rl/" in o for o in planned["verify"])
    assert len(planned["verify_code"]) == 2 and all("/tiny-rl/" in o for o in planned["verify_code"])
    assert set(planned) <= {"sample", "verify", "verify_code"} | AGGREGATES, planned
    assert not [o for r in ("sample", "verify", "passk_metrics", "grader_agreement")
                for o in planned.get(r, []) if "tiny-base" in o]


def test_changing_a_graders_code_reverifies_its_verdicts_without_resampling(run):
    module = GRADERS["math_verify"].split(":")[0]
    grader = run / "src" / (module.replace(".", "/") + ".py")
    append(grader, "\n# a comment, and a docstring change, are not code\n")
    assert_nothing_planned(run, "after a comment in the grader")
    append(grader, "\n_PROVENANCE_PROBE = 1\n")
    planned = planned_outputs(run)
    assert planned["verify"] == sorted(f"results/verdicts/{m}/{b}/math_verify/shard-{s}.parquet"
                                       for m in MODELS for b in BENCHMARKS for s in SHARDS)
    assert set(planned) <= {"verify"} | AGGREGATES, planned  # no sampling, no qwen_math verdicts
    assert planned["passk_table"] and planned["passk_figure"]


def test_changing_sampling_code_never_resamples_by_itself(run):
    """Sampling code is stamped by hand: an edit stops the plan until it is declared output-neutral (nothing is
    resampled) or the version is bumped (everything is)."""
    append(run / "src" / "rlvr_eval" / "sampling" / "shards.py", "\n_PROVENANCE_PROBE = 1\n")
    append(run / "workflow" / "scripts" / "sample.py", "\n_PROVENANCE_PROBE = 1\n")
    plan = snakemake(run, "--dry-run", check=False)
    assert plan.returncode != 0 and "rlvr-eval logic --accept sampling" in plan.stderr
    logic = [str(Path(sys.executable).with_name("rlvr-eval")), "logic", "--workflow-dir", str(run)]
    subprocess.run([*logic, "--accept", "sampling"], cwd=run, check=True, capture_output=True)
    assert_nothing_planned(run, "after declaring the sampling edit output-neutral")
    subprocess.run([*logic, "--bump", "sampling"], cwd=run, check=True, capture_output=True)
    planned = planned_outputs(run)
    assert len(planned["sample"]) == 12 and "build_tiny_model" not in planned and "prepare_benchmark" not in planned


def test_changing_figure_code_redraws_only_figures(run):
    """A real rerun: only the figure job runs, and its provenance record carries the new stamp."""
    append(run / "src" / "rlvr_eval" / "plots" / "passk_curves.py", "\n_PROVENANCE_PROBE = 1\n")
    planned = planned_outputs(run)
    assert set(planned) == {"passk_figure"}, planned
    assert all(o.startswith("results/figures/") for o in planned["passk_figure"])

    record = run / "results" / "figures" / "passk_curves.png.prov.json"
    before = json.loads(record.read_text())["logic"]["stamp"] if record.is_file() else None
    tables = {p: p.read_bytes() for p in (run / "results" / "tables").rglob("*") if p.is_file()}
    proc = snakemake(run)
    ran = {rule: n for rule, n in executed_rules(proc).items() if rule != "all"}
    assert ran == {"passk_figure": 1}, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert {p: p.read_bytes() for p in (run / "results" / "tables").rglob("*") if p.is_file()} == tables
    stamp = json.loads(record.read_text())["logic"]["stamp"]
    assert stamp.startswith("figures:auto-") and stamp != before
    assert_nothing_planned(run, "after the rerun")
