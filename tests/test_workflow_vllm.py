"""The whole demo DAG through the vLLM backend (config/demo-vllm.yaml on top of the demo), with the real Snakemake
and the real engine: vLLM's CPU build in .venv-vllm (`make test-vllm`), or a GPU build."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from rlvr_eval.io import read_parquet, read_parquet_metadata
from workflow_helpers import copy_workflow, executed_rules, planned_jobs, snakemake

CONFIGS = ("config/demo.yaml", "config/demo-vllm.yaml")


@pytest.mark.vllm
@pytest.mark.slow
def test_the_demo_dag_runs_end_to_end_with_the_vllm_backend(tmp_path, mirror):
    started = time.time()
    workdir = copy_workflow(tmp_path / "demo-vllm")
    ran = executed_rules(snakemake(workdir, configfile=CONFIGS))
    assert not live_vllm_processes()  # every job stopped its engine (rlvr_eval.sampling.backends.vllm_backend.shutdown_engine)
    # one shard per model and benchmark (shard_size 8 = n; GSM8K, MATH500, HumanEval+); the base model scores both
    # models' responses, its six sets in one job (one engine start: analysis.perplexity.group_by)
    assert ran["sample"] == 6 and ran["perplexity"] == 1 and ran["perplexity_set"] == 6

    results = workdir / "results"
    for benchmark in ("gsm8k", "math500"):
        for model in ("tiny-base", "tiny-rl"):
            shard = results / f"samples/{model}/{benchmark}/shard-0000.parquet"
            backend = read_parquet_metadata(shard)["backend"]
            assert backend["backend"] == "vllm" and backend["vllm"] and backend["max_model_len"] == 4096
            samples = read_parquet(shard)
            assert len(samples) == 64 and samples["finish_reason"].isin(["stop", "length"]).all()
            ppl = read_parquet(results / f"analysis/perplexity/{benchmark}/tiny-base/{model}.parquet")
            assert len(ppl) == 16 and (ppl["scored_model"] == "tiny-base").all() and (ppl["perplexity"] >= 1).all()
        table = pd.read_csv(results / f"tables/passk/{benchmark}.csv")
        assert table["k"].tolist() == [1, 2, 4, 8]
        assert table[["tiny-base", "tiny-rl"]].apply(lambda col: col.is_monotonic_increasing).all()
    for name in ("passk_grid", "accuracy_hist", "coverage", "perplexity"):
        assert (results / f"figures/tiny-zero/{name}.png").stat().st_size > 10_000
    assert not planned_jobs(workdir, configfile=CONFIGS)  # everything the DAG asks for is there
    print(f"demo DAG with vLLM: {time.time() - started:.0f} s")


def live_vllm_processes() -> list[str]:
    """vLLM's engine and worker processes (named VLLM::…) still running on this machine."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, state = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2]
        if name.startswith("VLLM::") and state != "Z":
            found.append(f"{stat.parent.name} {name}")
    return found
