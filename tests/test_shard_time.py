"""Sampling jobs sized to the cluster's time limit (rlvr_eval.planning.shard_time): each job asks for its shard's
estimated runtime, at most 24 h, and with sampling.fit_shard_size the shards shrink until they fit."""

from __future__ import annotations

import copy
from collections import Counter

import pytest
import yaml

from rlvr_eval.planning.config import load_config, validate_config
from rlvr_eval.planning.grid import Grid
from rlvr_eval.planning.shard_time import sample_job
from workflow_helpers import REPO, demo_config

DAY = 24 * 60


def one_model(**sampling) -> dict:
    """A 7B hub model on GSM8K (1,319 problems) with 16k-token responses."""
    return validate_config({
        "models": {"m": {"hf_id": "Qwen/Qwen2.5-7B", "role": "base", "prompt_template": "qwen-boxed"}},
        "pairs": [{"name": "p", "base": "m", "rl": "m"}],
        "benchmarks": {"gsm8k": {"n": 128}},
        "sampling": {"temperature": 0.6, "top_p": 0.95, "max_new_tokens": 16384, "seed": 0, **sampling},
        "resources": {"sampling": {"runtime": "estimate"}},
    })


def test_the_paper_grid_asks_for_at_most_a_day_and_every_shard_fits_its_runtime():
    grid = Grid(load_config(REPO / "config.yaml"))
    jobs = {(m, b): sample_job(grid, m, b) for m in grid.sampled_models for b in grid.benchmarks_of(m)}
    unknown = [key for key, job in jobs.items() if job.minutes is None]
    assert not unknown, f"no estimate for {unknown}"
    too_long = {key: job.how for key, job in jobs.items() if job.minutes > job.runtime or job.runtime > DAY}
    assert not too_long, too_long
    resources = grid.shard_times.resources
    assert all(resources.perplexity(m)["runtime"] <= 120 for m in grid.models)
    assert all(resources.cpu(stage)["runtime"] <= DAY for stage in ("build_tiny_model", "verify", "metrics"))
    # the 32B models (two GPUs) too, on the largest benchmark: 1,319 problems x 2 samples, about 12 h
    assert jobs["dapo-qwen-32b", "gsm8k"].shard_size == 2 and jobs["dapo-qwen-32b", "gsm8k"].runtime == 750
    assert jobs["dapo-qwen-32b", "aime24"].shard_size == 64  # 30 problems: the whole shard_size fits
    # LiveCodeBench's two windows (Fig. 11): 279 problems in shards of 32 samples, 879 (2023-05 .. 2025-01) in 16s
    assert [(jobs["coder1-zero-7b", b].shard_size, jobs["coder1-zero-7b", b].runtime)
            for b in ("livecodebench", "livecodebench_2023_05")] == [(32, 840), (16, 1320)]
    assert jobs["coder1-zero-7b", "livecodebench_2023_05"].how.startswith("879 problems x 16 samples")


def test_a_shard_halves_until_its_estimate_fits_and_n_only_adds_shards():
    grid = Grid(one_model(shard_size=64, fit_shard_size=True))
    job = sample_job(grid, "m", "gsm8k")
    # 1319 x 8 x 16384 x 0.5 tokens at 1500 tokens/s = 16.0 h, + 15 min; 16 samples would take 32 h
    assert job.shard_size == 8 and job.runtime == 990
    assert job.how == "1319 problems x 8 samples x 16384 tokens x 0.5 / 1500 tokens/s + 15 min = 16.3 h"
    assert grid.shards("m", "gsm8k") == [f"{i:04d}" for i in range(16)]
    more = one_model(shard_size=64, fit_shard_size=True)
    more["benchmarks"]["gsm8k"]["n"] = 256
    assert Grid(more).shard_size_of("m", "gsm8k") == 8 and len(Grid(more).shards("m", "gsm8k")) == 32


def test_a_livecodebench_benchmark_is_estimated_on_its_windows_problems(mirror):
    """The estimate counts the problems of the benchmark's contest window (its own, or benchmarks.<b>.window), by
    month as the mirror's file has them, before any data is prepared."""
    from rlvr_eval.data.benchmarks import read_jsonl
    from rlvr_eval.planning.shard_time import LIVECODEBENCH_MONTHS, ShardTimes

    months = Counter(r["contest_date"][:7] for r in read_jsonl(mirror / "livecodebench" / "test_public.jsonl"))
    assert LIVECODEBENCH_MONTHS == dict(sorted(months.items()))
    config = load_config(REPO / "config.yaml")
    assert [ShardTimes(config).problems(b) for b in ("livecodebench", "livecodebench_2023_05")] == [279, 879]
    config["benchmarks"]["livecodebench"]["window"] = ["2024-01", "2024-12"]
    del config["benchmarks"]["livecodebench_2023_05"]["window"]  # its own: 2023-05 .. 2025-01
    assert [ShardTimes(config).problems(b) for b in ("livecodebench", "livecodebench_2023_05")] == [546, 879]


def test_a_set_shard_size_wins_over_the_fit_and_keeps_its_layout():
    config = one_model(fit_shard_size=True)
    config["benchmarks"]["gsm8k"]["shard_size"] = 32
    assert Grid(config).shard_size_of("m", "gsm8k") == 32
    config["models"]["m"]["shard_size"] = {"gsm8k": 4}
    job = sample_job(Grid(config), "m", "gsm8k")
    assert job.shard_size == 4 and job.runtime == 510  # 8.0 h + 15 min, in half hours
    # a set size that cannot fit asks for the cap; `rlvr-eval doctor` names it (tests/test_doctor.py)
    config["models"]["m"]["shard_size"] = {"gsm8k": 64}
    job = sample_job(Grid(config), "m", "gsm8k")
    assert job.runtime == DAY and job.minutes > DAY


def test_configs_that_do_not_opt_in_keep_their_shards_and_fixed_runtimes():
    for name in ("demo.yaml", "rl-demo.yaml", "vision-demo.yaml"):
        config = load_config(REPO / "config" / name)
        grid = Grid(config)
        assert all(grid.shard_size_of(m, b) == config["sampling"]["shard_size"]
                   for m in grid.models for b in grid.benchmarks_of(m)), name
    grid = Grid(validate_config(demo_config()))
    assert {sample_job(grid, m, b).runtime for m in grid.sampled_models for b in grid.benchmarks_of(m)} == {30}
    fixed = one_model()
    fixed["resources"]["sampling"]["runtime"] = 600
    assert sample_job(Grid(fixed), "m", "gsm8k").runtime == 600 and Grid(fixed).shard_size_of("m", "gsm8k") == 64


def test_the_paper_models_context_is_what_their_samples_need():
    """No engine reserves a 131k or 1M-token context (its KV cache alone fills a GPU) for 16k-token responses."""
    config = load_config(REPO / "config.yaml")
    grid = Grid(config)
    for m in grid.sampled_models:
        longest = max(grid.sampling_params(m, b).max_new_tokens for b in grid.benchmarks_of(m))
        own = grid.model(m).get("max_model_len")
        if own is None:  # Qwen2.5-Math-7B and its RL versions: a 4,096-token model, below any such setting
            assert "Math-7B" in grid.model(m)["hf_id"], m
            continue
        assert longest < own <= longest + 8192, (m, own)


@pytest.mark.parametrize("bad, message", [
    ({"runtime": "auto"}, "resources.sampling.runtime: expected a non-negative integer or null or estimate"),
    ({"expected_length": 1.5}, "resources.sampling.expected_length: expected a share of max_new_tokens in (0, 1]"),
    ({"models": {"m": {"throughput_tokens_per_s": 0}}}, "throughput_tokens_per_s: expected a positive number"),
])
def test_estimate_settings_are_checked(bad, message):
    from rlvr_eval.planning.resources import JobResources, ResourceConfigError

    config = copy.deepcopy(one_model())
    config["resources"]["sampling"].update(bad)
    with pytest.raises(ResourceConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("]", r"\]")):
        JobResources(config)


def test_config_yaml_documents_every_resources_key():
    from rlvr_eval.planning.resources import DEFAULTS, MODEL_KEYS

    documented = yaml.safe_load((REPO / "config.yaml").read_text())["resources"]
    assert set(documented) == set(DEFAULTS)
    assert set(documented["sampling"]) == set(DEFAULTS["sampling"]) - {"mem_mb"}  # mem_mb: in the comments
    assert "throughput_tokens_per_s" in MODEL_KEYS


def test_doctor_lists_the_shards_it_chose():
    """`rlvr-eval doctor --shards`: the sizes to pin (benchmarks.<b>.shard_size, models.<m>.shard_size) once
    sampling has started."""
    from rlvr_eval.planning.doctor import shard_table

    grid = Grid(load_config(REPO / "config.yaml"))
    lines = shard_table(grid)
    assert lines[0].split() == ["model", "benchmark", "n", "shard", "jobs", "runtime", "estimate"]
    row = next(line for line in lines if line.startswith("qwen2.5-7b ") and " gsm8k " in line)
    assert row.split()[:6] == ["qwen2.5-7b", "gsm8k", "128", "8", "16", "990"]
    # every sampled model x benchmark: math (with the Figs. 12, 16, 17 variants: 4 x 2 + 6 + 1), code, visual (the VL
    # RL placeholder and o1's imported responses are left out), and Qwen2.5-7B with the Fig. 27 prompt on MATH500 and
    # both Omni-MATH-Rule splits (left out where the mirror has no Omni-MATH-Rule; the VeRL RL placeholders too)
    omni = 0 if grid.left_out["benchmarks"] else 2
    assert len(lines) == 1 + 14 * 6 + (4 * 2 + 6 + 1) + 2 * 4 + 2 * 1 + 1 * 2 + 1 + omni
