"""Perplexity jobs per group of response sets (analysis.perplexity.group_by): one engine start per scoring model,
the same per-set tables as one job per set, and a killed job keeps the sets it finished."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from rlvr_eval.analysis.perplexity_groups import ScoringModel, archive_path, score_group
from rlvr_eval.data.benchmarks import load_benchmark
from rlvr_eval.io import read_parquet, read_parquet_metadata, write_parquet
from rlvr_eval.planning.config import ConfigError, validate_config
from rlvr_eval.planning.grid import Grid
from rlvr_eval.planning.resources import JobResources
from workflow_helpers import demo_config, executed_rules, kill_when, planned_rules, read_config, snakemake, write_config


@pytest.mark.parametrize("group_by, jobs", [("scorer", 2), ("scorer_benchmark", 6), ("response_set", 12)])
def test_groups_cover_every_response_set_once(group_by, jobs):
    config = demo_config()
    config["analysis"]["perplexity"]["group_by"] = group_by
    grid = Grid(validate_config(config))
    groups = grid.perplexity_groups
    assert len(groups) == jobs
    outputs = [s["output"] for sets in groups.values() for s in sets]
    assert sorted(outputs) == sorted({f for p in grid.pairs for f in grid.perplexity_files(p["name"])})
    for name, sets in groups.items():
        assert len({s["scored_model"] for s in sets}) == 1  # one scoring model, one engine per job
        assert all(grid.perplexity_group_of(s["benchmark"], s["scored_model"], s["response_model"]) == name for s in sets)
    # the runtime asked for grows with the sets a job scores (resources.perplexity.runtime per set, up to the cap)
    resources = JobResources(validate_config(config))
    assert resources.perplexity("tiny-base", 6)["runtime"] == 6 * resources.perplexity("tiny-base")["runtime"]
    assert resources.perplexity("tiny-base", 100)["runtime"] == resources.settings["sampling"]["max_runtime"]


def test_group_by_is_checked():
    config = demo_config()
    config["analysis"]["perplexity"]["group_by"] = "model"
    with pytest.raises(ConfigError, match="analysis.perplexity.group_by: 'model' is not one of"):
        validate_config(config)


class Interrupted(Exception):
    pass


def test_a_group_keeps_its_finished_sets_and_rescores_only_what_changed(tmp_path, tiny_model_dir, mirror):
    problems = load_benchmark("gsm8k", mirror, limit=4)[0]
    write_parquet(tmp_path / "problems.parquet", problems)
    (tmp_path / "model.json").write_text(f'{{"path": "{tiny_model_dir}"}}')
    sets = []
    for responder in ("base", "rl"):
        samples = pd.DataFrame([{"problem_id": p, "sample_index": i, "text": f"{responder} says \\boxed{{{i}}}",
                                 "finish_reason": "stop"} for p in problems["problem_id"] for i in range(2)])
        write_parquet(tmp_path / f"{responder}.parquet", samples)
        sets.append({"benchmark": "gsm8k", "scored_model": "base", "response_model": responder, "template": "qwen-boxed",
                     "strip_questions": True,
                     "output": str(tmp_path / f"out/{responder}.parquet"), "problems": str(tmp_path / "problems.parquet"),
                     "samples": [str(tmp_path / f"{responder}.parquet")]})
    job = {"num_problems": 4, "responses_per_problem": 2, "seed": 0, "backend": "transformers", "batch_size": 4}
    manifest = str(tmp_path / "model.json")

    def run(stop_after=None):
        model = ScoringModel({"path": str(tiny_model_dir)}, "transformers", 4, {})
        writes = []

        def before_write():  # the job's hold check, here also the point where a job is killed
            if len(writes) == stop_after:
                raise Interrupted
            writes.append(1)
        try:
            return score_group(sets, job, manifest, model, before_write), model.loads
        finally:
            model.close()

    with pytest.raises(Interrupted):
        run(stop_after=1)  # killed after its first set
    entries, loads = run()
    assert [e["restored"] for e in entries] == [True, False] and loads == 1
    tables = [read_parquet(e["archive"]) for e in entries]
    assert [len(t) for t in tables] == [8, 8] and (tables[0]["response_model"] == "base").all()
    assert read_parquet_metadata(entries[1]["archive"])["seed"] == 0

    entries, loads = run()  # all archived: the model is never loaded
    assert all(e["restored"] for e in entries) and loads == 0
    # one set's responses change: only that set is scored again, under another key
    samples = read_parquet(tmp_path / "rl.parquet").assign(text="rl now says \\boxed{3}")
    write_parquet(tmp_path / "rl.parquet", samples)
    changed, loads = run()
    assert [e["restored"] for e in changed] == [True, False] and loads == 1
    assert changed[1]["key"] != entries[1]["key"]
    assert changed[1]["archive"] == str(archive_path(sets[1]["output"], changed[1]["key"]))
    assert not read_parquet(changed[1]["archive"])["perplexity"].equals(tables[1]["perplexity"])


def test_one_job_per_scorer_resumes_and_matches_one_job_per_set(demo_copy, tmp_path):
    """The demo: one perplexity job per scoring model (2 instead of 12). Killed after its first set, the job's rerun
    restores that set; the tables equal those of one job per response set (group_by: response_set)."""
    results = demo_copy / "results/analysis/perplexity"
    files = ("gsm8k/tiny-base/tiny-base.parquet", "gsm8k/tiny-base/tiny-rl.parquet")
    grouped = {f: (read_parquet(results / f), read_parquet_metadata(results / f)) for f in files}
    planned = planned_rules(demo_copy, "--forceall")
    assert planned["perplexity"] == 2 and planned["perplexity_set"] == 12

    # kill tiny-base's job once its first set is archived; the rerun restores it and scores the others
    for archive in results.glob("*/tiny-base/.archive"):
        subprocess.run(["rm", "-r", str(archive)], check=True)
    target = "results/analysis/perplexity/_groups/tiny-base.json"
    (demo_copy / target).unlink()
    cmd = [str(Path(sys.executable).with_name("snakemake")), "--configfile", "config/demo.yaml", "--cores", "2", target]
    kill_when(cmd, demo_copy, lambda: any(results.glob("*/tiny-base/.archive/*/*.parquet")), tmp_path / "killed.log")
    first = list(results.glob("*/tiny-base/.archive/*/*.parquet"))
    assert len(first) == 1
    inode = first[0].stat().st_ino
    snakemake(demo_copy, "--unlock")
    snakemake(demo_copy, "--rerun-incomplete", target)
    log = (demo_copy / "logs/analysis/perplexity/_groups/tiny-base.log").read_text()
    assert "6 response sets, 1 restored from the archive; scoring model loaded 1 time(s)" in log
    assert first[0].stat().st_ino == inode  # kept as it was, not scored again

    # one job per response set, from scratch: the same tables
    config = read_config(demo_copy)
    config["analysis"]["perplexity"]["group_by"] = "response_set"
    write_config(demo_copy, config)
    for archive in results.glob("gsm8k/tiny-base/.archive"):
        subprocess.run(["rm", "-r", str(archive)], check=True)
    ran = executed_rules(snakemake(demo_copy, *(f"results/analysis/perplexity/{f}" for f in grouped)))
    assert ran == {"perplexity": 2, "perplexity_set": 2}
    for f, (table, metadata) in grouped.items():
        pd.testing.assert_frame_equal(read_parquet(results / f), table)
        assert read_parquet_metadata(results / f) == metadata
