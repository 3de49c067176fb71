"""The paper grid's evaluation features on tiny models, with the real Snakemake: a variant of a model at another
temperature (its weights staged once) with its own n, temperatures per benchmark and per model x benchmark,
responses generated elsewhere, perplexity scored by both models of a pair, the ΔSE table, a checkpoint series
of local model directories, the log-prob sums and token NLL table, and the guessing check (a direct-answer prompt,
a subset of problems by id, the review sheet)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from rlvr_eval.io import read_json, read_parquet, read_parquet_metadata
from workflow_helpers import copy_workflow, demo_config, snakemake

pytestmark = pytest.mark.slow


def features_config(responses_file: str, checkpoint_dirs: list[str]) -> dict:
    config = demo_config()
    config["models"] = {
        "tiny-base": {"tiny": {"seed": 0, "train_benchmarks": ["gsm8k"]}, "role": "base", "prompt_template": "qwen-boxed",
                      "backend": "transformers"},
        "tiny-rl": {"tiny": {"seed": 1, "init_from": "tiny-base", "train_benchmarks": ["gsm8k"]}, "role": "rl",
                    "prompt_template": "qwen-boxed", "backend": "transformers",
                    "sampling_by_benchmark": {"gsm8k": {"temperature": 0.7}}},
        # a series of three steps: the base model (step 0), a local checkpoint directory, the final local model
        "tiny-series": {"path": checkpoint_dirs[1], "role": "rl", "prompt_template": "qwen-boxed", "backend": "transformers",
                        "checkpoints": [{"step": 0, "model": "tiny-base"}, {"step": 10, "path": checkpoint_dirs[0]},
                                        {"step": 20, "model": "tiny-series"}]},
        "tiny-base-hot": {"variant_of": "tiny-base", "role": "base", "prompt_template": "qwen-boxed",
                          "backend": "transformers", "sampling": {"temperature": 1.5}, "n": {"gsm8k": 8}},
        "elsewhere": {"responses": {"gsm8k": responses_file}, "role": "rl", "prompt_template": "qwen-boxed"},
        # the guessing check's direct-answer prompt on the same weights, with room for an answer only
        "tiny-base-direct": {"variant_of": "tiny-base", "role": "base", "prompt_template": "qwen-direct",
                             "backend": "transformers", "sampling": {"max_new_tokens": 6}},
    }
    config["pairs"] = [{"name": "tiny-zero", "base": "tiny-base", "rl": "tiny-rl"},
                       {"name": "imported", "base": "tiny-base-hot", "rl": "elsewhere"}]
    # the first four problems, listed by id (in another order: the benchmark's order is kept)
    config["benchmarks"] = {"gsm8k": {"n": 4, "problem_ids": [3, 1, 0, 2], "sampling": {"temperature": 0.8}}}
    config["sampling"].update(max_new_tokens=12, shard_size=4)
    config["verification"]["compare_graders"] = []
    config["analysis"]["perplexity"].update(problems=2, responses_per_problem=2, scored_by=["base", "rl"])
    config["analysis"]["review"] = {"enabled": True, "max_solve_rate": 1.0, "responses_per_problem": 2,
                                    "models": ["elsewhere"]}
    config["analysis"]["guessable_filter"] = {"direct_model": "tiny-base-direct", "max_rate": 0.5,
                                              "pairs": ["tiny-zero"], "benchmarks": ["gsm8k"]}
    return config


@pytest.fixture(scope="module")
def run(tmp_path_factory, mirror, tiny_model_dir):
    from rlvr_eval.data.benchmarks import load_benchmark
    from rlvr_eval.models.tiny_spec import TinyModelSpec
    from rlvr_eval.models.tiny_text import build_tiny_model

    work = tmp_path_factory.mktemp("features")
    problems = load_benchmark("gsm8k", mirror, limit=4)[0]
    checkpoint = work / "checkpoint-step10"  # another untrained tiny model stands for a checkpoint saved mid-training
    build_tiny_model(checkpoint, TinyModelSpec(seed=7), problems, "qwen-boxed")
    # the paper code's output format: one row per problem, its responses listed; right on the first two problems
    rows = [{"idx": i, "question": q, "code": [f"The answer is \\boxed{{{ref if i < 2 else 0}}}."] * 4}
            for i, (q, ref) in enumerate(zip(problems["question"], problems["reference"]))]
    responses = work / "elsewhere.jsonl"
    responses.write_text("".join(json.dumps(r) + "\n" for r in rows))
    copy_workflow(work / "wf", features_config(str(responses), [str(checkpoint), str(tiny_model_dir)]))
    snakemake(work / "wf")
    return work / "wf"


def test_a_variant_uses_the_same_weights_with_its_own_sampling_and_n(run):
    base, hot = read_json(run / "results/models/tiny-base.json"), read_json(run / "results/models/tiny-base-hot.json")
    assert hot["path"] == base["path"] and hot["revision"] == base["revision"] and hot["variant_of"] == "tiny-base"
    assert not (run / "results/models/tiny-base-hot").exists()  # nothing built or staged twice
    samples = read_parquet(run / "results/samples/tiny-base-hot/gsm8k/shard-0001.parquet")
    assert sorted(set(samples["sample_index"])) == [4, 5, 6, 7]  # n = 8 for this variant only
    assert read_parquet_metadata(run / "results/samples/tiny-base-hot/gsm8k/shard-0000.parquet")["params"]["temperature"] == 1.5
    table = pd.read_csv(run / "results/tables/passk/gsm8k.csv")
    assert table.loc[table["k"] == 8, "tiny-base-hot"].notna().all() and table.loc[table["k"] == 8, "tiny-base"].isna().all()


def test_imported_responses_are_verified_like_sampled_ones(run):
    per_problem = read_parquet(run / "results/metrics/elsewhere/gsm8k/math_verify/per_problem.parquet")
    assert per_problem.sort_values("problem_id")["c"].tolist() == [4, 4, 0, 0]
    record = json.loads((run / "results/samples/elsewhere/gsm8k/shard-0000.parquet.prov.json").read_text())
    assert any(path.endswith("elsewhere.jsonl") for path in record["inputs"])  # hashed into provenance


def test_perplexity_is_scored_by_both_models_of_each_pair(run):
    for scorer in ("tiny-base", "tiny-rl"):
        for responses in ("tiny-base", "tiny-rl"):
            table = read_parquet(run / f"results/analysis/perplexity/gsm8k/{scorer}/{responses}.parquet")
            assert (table["scored_model"] == scorer).all() and (table["status"] == "scored").all()
    imported = read_parquet(run / "results/analysis/perplexity/gsm8k/tiny-base-hot/elsewhere.parquet")
    assert len(imported) == 4 and (imported["perplexity"] > 1).all()  # a model's perplexity on imported responses
    assert not (run / "results/analysis/perplexity/gsm8k/elsewhere").exists()  # no weights: it scores nothing


def test_the_sampling_efficiency_gap_of_every_rl_pair(run):
    table = pd.read_csv(run / "results/tables/delta_se.csv")
    assert table[["pair", "benchmark", "k"]].values.tolist() == [["tiny-zero", "gsm8k", 4], ["imported", "gsm8k", 4]]
    imported = table[table["pair"] == "imported"].iloc[0]
    assert imported["rl_pass@1"] == 0.5 and imported["delta_se"] == pytest.approx(imported["base_pass@k"] - 0.5)
    assert (table["ci_low"] <= table["delta_se"]).all() and (table["delta_se"] <= table["ci_high"]).all()


def test_temperature_per_benchmark_and_per_model_and_benchmark(run):
    def temperature(model):
        return read_parquet_metadata(run / f"results/samples/{model}/gsm8k/shard-0000.parquet")["params"]["temperature"]

    # the most specific setting wins: benchmark < model < model x benchmark
    assert [temperature(m) for m in ("tiny-base", "tiny-base-hot", "tiny-rl", "tiny-series-step10")] == [0.8, 1.5, 0.7, 0.8]
    record = json.loads((run / "results/samples/tiny-rl/gsm8k/shard-0000.parquet.prov.json").read_text())
    assert record["params"]["sampling"]["temperature"] == 0.7


def test_a_checkpoint_series_of_local_model_directories(run):
    step10 = read_json(run / "results/models/tiny-series-step10.json")
    assert step10["source"] == "path" and step10["path"].endswith("checkpoint-step10")
    passk = pd.read_csv(run / "results/tables/passk/gsm8k.csv").set_index("k")
    series = pd.read_csv(run / "results/tables/checkpoints/tiny-series/gsm8k.csv")
    assert series[["step", "model"]].values.tolist() == [[0, "tiny-base"], [10, "tiny-series-step10"], [20, "tiny-series"]]
    summary = pd.read_csv(run / "results/tables/checkpoints/tiny-series/gsm8k.summary.csv")
    assert summary["k_max"].tolist() == [4, 4, 4]
    assert summary["pass@1"].tolist() == [passk.loc[1, m] for m in series["model"]]
    assert summary["pass@k_max"].tolist() == [passk.loc[4, m] for m in series["model"]]
    assert "| 10 | tiny-series-step10 |" in (run / "results/tables/checkpoints/tiny-series/gsm8k.summary.md").read_text()
    for figure in ("gsm8k.png", "gsm8k.passk.png", "gsm8k.passk.pdf"):
        assert (run / "results/figures/checkpoints/tiny-series" / figure).stat().st_size > 1000


def test_every_sample_keeps_its_log_prob_sum_and_the_token_nll_table(run):
    table = pd.read_csv(run / "results/tables/token_nll.csv").set_index("model")
    assert "elsewhere" not in table.index  # imported responses carry no log-probs
    samples = pd.concat(read_parquet(f) for f in sorted((run / "results/samples/tiny-rl/gsm8k").glob("shard-*.parquet")))
    assert (samples["logprob_sum"] < 0).all() and (samples["num_tokens"] > 0).all()
    row = table.loc["tiny-rl"]
    assert row["samples"] == len(samples) == 16 and row["tokens"] == samples["num_tokens"].sum()
    assert row["token_nll"] == pytest.approx(-samples["logprob_sum"].sum() / samples["num_tokens"].sum())
    assert table.loc["tiny-base-hot", "samples"] == 32  # its own n = 8


def test_the_guessing_check_direct_answers_a_subset_by_id_and_the_review_sheet(run):
    assert read_parquet(run / "results/data/gsm8k.parquet")["problem_id"].tolist() == ["0", "1", "2", "3"]
    assert read_parquet_metadata(run / "results/data/gsm8k.parquet")["problem_ids"] == ["3", "1", "0", "2"]
    meta = read_parquet_metadata(run / "results/samples/tiny-base-direct/gsm8k/shard-0000.parquet")
    assert meta["params"]["max_new_tokens"] == 6 and meta["template"] == "qwen-direct"
    page = (run / "results/review/elsewhere/gsm8k.html").read_text()
    # the imported model is right on problems 0 and 1 (4 of 4): with max_solve_rate 1 both are shown, 2 responses each
    assert page.count("solved in 4 of 4 samples") == 2 and page.count("class='response'") == 4
    assert sorted(p.name for p in (run / "results/review").iterdir()) == ["elsewhere"]  # analysis.review.models


def test_the_guessable_filter_drops_the_problems_answered_directly_now_and_then(run):
    direct = read_parquet(run / "results/metrics/tiny-base-direct/gsm8k/math_verify/per_problem.parquet")
    rate = dict(zip(direct["problem_id"], direct["c"] / direct["n"]))
    detail = json.loads((run / "results/analysis/guessable/tiny-zero/gsm8k.json").read_text())
    assert detail["direct_model"] == "tiny-base-direct" and detail["direct_solve_rate"] == rate
    assert detail["removed"] == sorted(pid for pid, r in rate.items() if 0 < r < 0.5)
    table = pd.read_csv(run / "results/analysis/guessable/tiny-zero/gsm8k.csv")
    base = read_parquet(run / "results/metrics/tiny-base/gsm8k/math_verify/per_problem.parquet")
    kept = base[base["problem_id"].isin(detail["kept"])]
    assert table["k"].tolist() == [1, 2, 4] and (table["kept"] == len(detail["kept"])).all()
    assert table["base_pass@k"].tolist() == pytest.approx([kept[f"pass@{k}"].mean() for k in (1, 2, 4)])
