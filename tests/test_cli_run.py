"""`rlvr-eval run`: one model (or a pair) on a few benchmarks without writing YAML; the real command, the real
Snakemake."""

import subprocess
import sys

import pandas as pd
import pytest
import yaml

from rlvr_eval.io import read_parquet
from rlvr_eval.planning.config import ConfigError
from rlvr_eval.planning.one_model import run_config
from workflow_helpers import REPO, copy_workflow


def rlvr_eval_run(workdir, *args) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "rlvr_eval.cli", "run", *args], cwd=workdir, capture_output=True,
                          text=True, timeout=1800)
    assert proc.returncode == 0, f"--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-5000:]}"
    return proc


def test_the_config_takes_the_defaults_benchmark_and_sampling_settings():
    default = yaml.safe_load((REPO / "config.yaml").read_text())
    config, validated = run_config(default, "Qwen/Qwen2.5-Math-7B", ["math500", "livecodebench"], 16,
                                   pair_with="Qwen/Qwen2.5-7B", template="qwen25-math-cot")
    assert config["models"] == {
        "qwen2.5-7b": {"hf_id": "Qwen/Qwen2.5-7B", "revision": None, "role": "base", "prompt_template": "qwen25-math-cot"},
        "qwen2.5-math-7b": {"hf_id": "Qwen/Qwen2.5-Math-7B", "revision": None, "role": "rl",
                            "prompt_template": "qwen25-math-cot"}}
    assert config["pairs"] == [{"name": "qwen2.5-7b-vs-qwen2.5-math-7b", "base": "qwen2.5-7b", "rl": "qwen2.5-math-7b"}]
    assert list(config["benchmarks"]) == ["math500", "livecodebench"]
    assert config["benchmarks"]["livecodebench"] == {**default["benchmarks"]["livecodebench"], "n": 16}
    assert config["sampling"] == default["sampling"]
    assert config["benchmark_source"]["hub_benchmarks"] == ["livecodebench"]  # the default's, for these benchmarks
    assert validated["models"]["qwen2.5-math-7b"]["tensor_parallel_size"] == 1  # validated: defaults filled in
    with pytest.raises(ConfigError, match="--benchmarks: unknown benchmark 'gsm9k'"):
        run_config(default, "Qwen/Qwen2.5-Math-7B", ["gsm9k"], 16)


def test_a_pair_of_local_models_is_planned(tmp_path, tiny_model_dir):
    workdir = copy_workflow(tmp_path / "wf")
    proc = rlvr_eval_run(workdir, "--model", str(tiny_model_dir), "--pair-with", str(tiny_model_dir), "--benchmarks",
                         "gsm8k,math500", "--n", "4", "--limit", "2", "--backend", "transformers",
                         "--max-new-tokens", "8", "--dry-run")
    name = tiny_model_dir.name.lower()
    config = yaml.safe_load((workdir / f"config/run/{name}.yaml").read_text())
    assert config["models"][name]["path"] == str(tiny_model_dir)
    assert config["pairs"] == [{"name": f"{name}-base-vs-{name}", "base": f"{name}-base", "rl": name}]
    plan = proc.stdout + proc.stderr
    for job in (f"results/samples/{name}-base/math500/shard-0000.parquet",
                f"results/analysis/coverage/{name}-base-vs-{name}/gsm8k.csv"):
        assert job in plan
    assert not (workdir / "results/samples").exists()  # planned only


def test_one_local_model_on_two_problems_for_real(tmp_path, tiny_model_dir):
    workdir = copy_workflow(tmp_path / "wf")
    rlvr_eval_run(workdir, "--model", str(tiny_model_dir), "--benchmarks", "gsm8k", "--n", "2", "--limit", "2",
                  "--backend", "transformers", "--max-new-tokens", "8", "--cores", "2")
    name = tiny_model_dir.name.lower()
    samples = read_parquet(workdir / f"results/samples/{name}/gsm8k/shard-0000.parquet")
    assert len(samples) == 4 and samples["problem_id"].nunique() == 2
    table = pd.read_csv(workdir / "results/tables/passk/gsm8k.csv")
    assert table["k"].tolist() == [1, 2] and name in table.columns
    assert f"| {name} | 2 |" in (workdir / "results/summary.md").read_text()
