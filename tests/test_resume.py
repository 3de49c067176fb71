"""Resumability with the real Snakemake: a sampling job killed mid-shard, and n raised after a run."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from rlvr_eval.io import read_parquet, read_parquet_metadata
from workflow_helpers import copy_workflow, demo_config, kill_after_first_checkpoint, planned_jobs, snakemake, write_config

TARGET = "results/samples/tiny-base/gsm8k/shard-0000.parquet"


def resume_config(n: int = 4) -> dict:
    """The demo, smaller and slower per chunk: untrained tiny models (random text runs to max_new_tokens),
    one benchmark, one problem (4 samples) per checkpoint chunk, one grader."""
    config = demo_config()
    config["models"]["tiny-base"]["tiny"] = {"seed": 0, "train_benchmarks": ["gsm8k"]}
    config["models"]["tiny-rl"]["tiny"] = {"seed": 1, "init_from": "tiny-base", "train_benchmarks": ["gsm8k"]}
    config["benchmarks"] = {"gsm8k": {"n": n, "limit": 12}}
    config["sampling"].update({"max_new_tokens": 48, "shard_size": 4, "checkpoint_samples": 4})
    config["verification"]["compare_graders"] = []
    return config


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, mirror):
    return copy_workflow(tmp_path_factory.mktemp("resume"), resume_config())


def _snakemake_cmd(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("snakemake")), "--configfile", "config/demo.yaml", "--cores", "2", *args]


class _Killed(Exception):
    pass


def test_sample_shard_resumes_from_the_checkpoints_of_an_interrupted_call(tiny_model_dir, mirror, tmp_path):
    """In-process, fast: the checkpoint fingerprint survives its JSON round trip (stop strings are a tuple)."""
    from rlvr_eval.sampling.backends import SamplingParams, load_backend
    from rlvr_eval.data.benchmarks import load_benchmark
    from rlvr_eval.sampling.shards import ShardSpec, sample_shard

    backend = load_backend("transformers", str(tiny_model_dir))
    problems = load_benchmark("gsm8k", mirror, limit=4)[0]
    spec, params = ShardSpec("tiny", "gsm8k", 0, 2, 2, 5), SamplingParams(0.6, 0.95, 8, ("<|im_end|>",))
    calls = []

    class DiesOnSecondChunk:
        tokenizer, info, context_limit, prompt_lengths = backend.tokenizer, backend.info, backend.context_limit, \
            backend.prompt_lengths

        def generate(self, *args):
            calls.append(1)
            if len(calls) == 2:
                raise _Killed
            return backend.generate(*args)

    out = tmp_path / "shard-0000.parquet"
    manifest = {"model_manifest": {"path": str(tiny_model_dir), "revision": None}}
    with pytest.raises(_Killed):
        sample_shard(problems, DiesOnSecondChunk(), spec, "qwen-boxed", params, out, checkpoint_samples=4, progress=False,
                     extra_metadata=manifest)
    assert not out.exists()
    resumed = sample_shard(problems, backend, spec, "qwen-boxed", params, out, checkpoint_samples=4, progress=False,
                           extra_metadata=manifest)
    assert read_parquet_metadata(out)["resumed_chunks"] == 1
    fresh = sample_shard(problems, backend, spec, "qwen-boxed", params, tmp_path / "fresh.parquet", checkpoint_samples=4,
                         progress=False, extra_metadata=manifest)
    pd.testing.assert_frame_equal(resumed, fresh)


@pytest.mark.slow
def test_a_sampling_job_killed_mid_shard_resumes_from_its_checkpoints(workdir):
    started = time.time()
    out = workdir / TARGET
    partial = out.with_name(out.name + ".partial")
    kill_after_first_checkpoint(_snakemake_cmd(TARGET), workdir, partial, workdir / "killed-run.log")
    done = sorted(partial.glob("chunk-*.parquet"))
    assert not out.exists(), "the shard finished before it could be killed"
    assert 1 <= len(done) < 12

    snakemake(workdir, "--unlock")  # the killed run's lock
    snakemake(workdir, TARGET)
    resumed = read_parquet(out)
    meta = read_parquet_metadata(out)
    assert meta["resumed_chunks"] >= len(done) > 0
    assert not partial.exists()

    shutil.rmtree(out.parent / ".archive")  # else the forced rerun restores the finished shard
    snakemake(workdir, TARGET, "--forcerun", TARGET)  # the same shard, uninterrupted
    meta = read_parquet_metadata(out)
    assert meta["resumed_chunks"] == 0
    pd.testing.assert_frame_equal(resumed, read_parquet(out))
    assert len(resumed) == 12 * 4
    print(f"resume test: {time.time() - started:.0f} s")


@pytest.mark.slow
def test_raising_n_plans_only_the_new_shards_and_their_dependents(workdir):
    started = time.time()
    snakemake(workdir)  # the whole (small) DAG at n=4: one shard per model
    assert not planned_jobs(workdir)

    write_config(workdir, resume_config(n=8))  # n 4 -> 8 with shard_size 4: a second shard per model
    jobs = planned_jobs(workdir)
    by_rule: dict[str, list[str]] = {}
    for rule, outputs in jobs:
        by_rule.setdefault(rule, []).extend(outputs)
    assert sorted(by_rule["sample"]) == [f"results/samples/{m}/gsm8k/shard-0001.parquet" for m in ("tiny-base", "tiny-rl")]
    assert sorted(by_rule["verify"]) == [f"results/verdicts/{m}/gsm8k/math_verify/shard-0001.parquet"
                                         for m in ("tiny-base", "tiny-rl")]
    # the shard-0000 samples and verdicts, the data and the models are kept; only what reads the new shards reruns
    assert not {"prepare_benchmark", "build_tiny_model", "stage_model"} & set(by_rule)
    assert set(by_rule) <= {"sample", "verify", "passk_metrics", "passk_table", "passk_figure", "grader_agreement",
                            "coverage", "accuracy_hist", "bootstrap_passk", "perplexity", "perplexity_set",
                            "analysis_figures", "delta_se", "token_nll", "summary"}  # the mean token NLL reads every sample shard
    assert len(by_rule["passk_metrics"]) == 2 * 2  # per_problem + mean, for each model
    print(f"n-raise test: {time.time() - started:.0f} s")


@pytest.mark.slow
def test_a_rerun_racing_an_orphaned_job_fails_at_once_and_loses_nothing(tmp_path):
    """Snakemake itself was killed, its job runs on (here: a process holding that shard's lock, as the orphaned job
    does); following Snakemake's `--unlock` advice must not race it on the checkpoints: the rerun's job stops at
    once, naming the holder, and once the holder is gone a rerun completes."""
    workdir = copy_workflow(tmp_path, resume_config())
    target = "results/samples/tiny-rl/gsm8k/shard-0000.parquet"
    out = workdir / target
    code = ("import sys, pathlib; from rlvr_eval.sampling.shards import shard_lock\n"
            f"with shard_lock(pathlib.Path({str(out)!r})):\n    print('locked', flush=True); sys.stdin.read()")
    orphan = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert orphan.stdout.readline().strip() == "locked"
        rerun = snakemake(workdir, target, check=False)
        assert rerun.returncode != 0 and not out.exists()
        log = (workdir / "logs/sample/tiny-rl/gsm8k/shard-0000.log").read_text()
        assert f"another process is sampling this shard (pid {orphan.pid} on" in log, log[-2000:]
    finally:
        orphan.kill()
        orphan.wait()
    snakemake(workdir, target)
    assert out.exists()
