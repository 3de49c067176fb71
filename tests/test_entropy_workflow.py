"""The entropy stage in the real workflow (rules entropy and entropy_table): tiny models sample, the table holds one
row per model x benchmark at each model's own temperature, and its numbers are the module's on the same responses."""

import numpy as np
import pandas as pd
import pytest

from rlvr_eval.analysis.entropy import load_entropy_scorer, score_entropy
from rlvr_eval.analysis.perplexity import select_responses
from rlvr_eval.io import read_json, read_parquet, read_parquet_metadata
from workflow_helpers import copy_workflow, demo_config, snakemake

TABLE = "results/tables/entropy.csv"


@pytest.fixture(scope="module")
def run(tmp_path_factory, mirror):
    config = demo_config()
    config["models"]["tiny-base"]["tiny"]["train_steps"] = 30
    config["models"]["tiny-rl"]["tiny"]["train_steps"] = 10
    config["models"]["tiny-rl"]["sampling"] = {"temperature": 1.2}  # each model measured at its own temperature
    config["benchmarks"] = {"gsm8k": {"n": 4, "limit": 4}, "math500": {"n": 4, "limit": 3}}
    config["analysis"]["entropy"] = {"pairs": ["tiny-zero"], "problems": 3, "responses_per_problem": 2, "seed": 1,
                                     "batch_size": 3}
    work = copy_workflow(tmp_path_factory.mktemp("entropy") / "wf", config)
    snakemake(work, TABLE)
    return work


def test_the_table_has_each_model_and_benchmark_at_its_own_temperature(run):
    table = pd.read_csv(run / TABLE)
    assert [(r.model, r.benchmark, r.temperature, r.top_p) for r in table.itertuples()] == [
        ("tiny-base", "gsm8k", 0.6, 0.95), ("tiny-base", "math500", 0.6, 0.95),
        ("tiny-rl", "gsm8k", 1.2, 0.95), ("tiny-rl", "math500", 1.2, 0.95)]
    assert (table["responses"] == [6, 6, 6, 6]).all() and (table["tokens"] > 0).all()
    assert (table["entropy_top_p"] <= table["entropy"] + 1e-9).all()
    assert (table["scorer"] == "transformers (float32)").all()
    md = (run / "results/tables/entropy.md").read_text()
    assert "nats per token" in md and "temperature 0.6, top-p 0.95" in md and "temperature 1.2" in md
    assert (run / "logs/analysis/entropy/tiny-base.log").is_file() and (run / "logs/tables/entropy.log").is_file()


def test_the_numbers_are_the_modules_on_the_same_responses(run):
    """Recomputed outside the workflow: the same subsample of the model's own samples, scored at its temperature."""
    table = pd.read_csv(run / TABLE).set_index(["model", "benchmark"])
    for model, temperature in (("tiny-base", 0.6), ("tiny-rl", 1.2)):
        rows = read_parquet(run / f"results/analysis/entropy/{model}.parquet")
        assert read_parquet_metadata(run / f"results/analysis/entropy/{model}.parquet")["scorer"] == "transformers (float32)"
        path = read_json(run / f"results/models/{model}.json")["path"]
        scorer = load_entropy_scorer(run / path if not path.startswith("/") else path, device="cpu")
        benchmark = "gsm8k"
        samples = pd.concat([read_parquet(f) for f in sorted((run / f"results/samples/{model}/{benchmark}").glob("shard-*.parquet"))])
        chosen = select_responses(samples, 3, 2, 1)
        direct = score_entropy(chosen, read_parquet(run / f"results/data/{benchmark}.parquet"), "qwen-boxed", model,
                               temperature, 0.95, scorer)
        mine = rows[rows["benchmark"] == benchmark].reset_index(drop=True)
        np.testing.assert_allclose(mine["entropy"], direct["entropy"], rtol=1e-5)
        n = direct["num_tokens"]
        assert table.loc[(model, benchmark), "entropy"] == pytest.approx((direct["entropy"] * n).sum() / n.sum(), rel=1e-6)
        assert table.loc[(model, benchmark), "tokens"] == n.sum()
