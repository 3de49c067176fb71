"""Output entropy of a model on its own responses (rlvr_eval.analysis.entropy): exact against direct computations."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from rlvr_eval.analysis.entropy import (ENTROPY_COLUMNS, TABLE_COLUMNS, entropy_table, load_entropy_scorer,
                                        response_entropies_transformers, score_entropy, scorer_name, to_markdown,
                                        token_entropies)
from rlvr_eval.data.benchmarks import load_benchmark
from rlvr_eval.models.tiny_spec import TinyModelSpec
from rlvr_eval.models.tiny_text import build_tiny_model
from rlvr_eval.sampling.prompts import render_prompt

TEMPLATE = "qwen-boxed"
RESPONSES = [
    "The answer is \\boxed{18}.",
    "Janet sells 16 - 3 - 4 = 9 duck eggs a day at $2 each, so she makes 9 * 2 = 18 dollars. The answer is \\boxed{18}.",
    "7",
    "The answer is \\boxed{3}.",
]


@pytest.fixture(scope="module")
def problems(mirror):
    return load_benchmark("gsm8k", mirror, limit=4)[0]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, problems):
    """A tiny Qwen2 trained a few steps: its next-token distributions differ from position to position."""
    out = tmp_path_factory.mktemp("entropy-model")
    build_tiny_model(out, TinyModelSpec(seed=0, recipe="base", train_steps=10), problems, TEMPLATE)
    return out


@pytest.fixture(scope="module")
def scorer(model_dir):
    return load_entropy_scorer(model_dir, device="cpu")


@pytest.fixture(scope="module")
def uniform_scorer(model_dir):
    """The same model with its output layer zeroed: every logit is 0, every next token uniform over the vocabulary."""
    model, tokenizer = load_entropy_scorer(model_dir, device="cpu")
    with torch.no_grad():
        model.get_output_embeddings().weight.zero_()
        if getattr(model.get_output_embeddings(), "bias", None) is not None:
            model.get_output_embeddings().bias.zero_()
    return model, tokenizer


def prompts_for(problems):
    return [render_prompt(TEMPLATE, q) for q in problems["question"]]


def direct_token_distributions(model, tokenizer, prompt: str, response: str) -> list[torch.Tensor]:
    """Reference: one unbatched forward pass per response token, the last position's logits (float64)."""
    context = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    out = []
    for token in tokenizer(response, add_special_tokens=False)["input_ids"]:
        with torch.no_grad():
            out.append(model(input_ids=torch.tensor([context])).logits[0, -1].double())
        context = context + [token]
    return out


def top_p_entropy_reference(logits: torch.Tensor, temperature: float, top_p: float) -> float:
    """Independent: the smallest set of most likely tokens whose probability reaches top_p, renormalised."""
    p = np.sort(torch.softmax(logits / temperature, dim=-1).numpy())[::-1]
    k = int(np.searchsorted(np.cumsum(p), top_p) + 1)  # first k with cumsum >= top_p
    q = p[:k] / p[:k].sum()
    q = q[q > 0]
    return float(-(q * np.log(q)).sum())


def test_uniform_next_tokens_have_entropy_log_vocabulary(uniform_scorer, problems):
    model, tokenizer = uniform_scorer
    vocab = model.get_output_embeddings().weight.shape[0]
    out = response_entropies_transformers(model, tokenizer, prompts_for(problems), RESPONSES, temperature=0.6,
                                          top_p=1.0, batch_size=2)
    for r, response in zip(out, RESPONSES):
        n = len(tokenizer(response, add_special_tokens=False)["input_ids"])
        assert len(r["entropy"]) == n > 0
        for key in ("entropy", "entropy_t1", "entropy_top_p"):
            np.testing.assert_allclose(r[key], math.log(vocab), rtol=1e-6)  # every temperature: still uniform
        np.testing.assert_allclose(r["logprob"], -math.log(vocab), rtol=1e-6)


@pytest.mark.parametrize("temperature,top_p", [(1.0, 1.0), (0.6, 0.95), (1.5, 0.7)])
def test_entropies_match_a_direct_categorical_computation(scorer, problems, temperature, top_p):
    model, tokenizer = scorer
    prompts = prompts_for(problems)
    out = response_entropies_transformers(model, tokenizer, prompts, RESPONSES, temperature, top_p, batch_size=3,
                                          chunk_tokens=5)  # chunks smaller than a response: the chunking shows
    for prompt, response, r in zip(prompts, RESPONSES, out):
        rows = direct_token_distributions(model, tokenizer, prompt, response)
        assert len(rows) == len(r["entropy"])
        targets = tokenizer(response, add_special_tokens=False)["input_ids"]
        expected = [float(torch.distributions.Categorical(logits=z / temperature).entropy()) for z in rows]
        expected_t1 = [float(torch.distributions.Categorical(logits=z).entropy()) for z in rows]
        expected_lp = [float(torch.log_softmax(z, -1)[t]) for z, t in zip(rows, targets)]
        np.testing.assert_allclose(r["entropy"], expected, rtol=2e-4, atol=2e-5)
        np.testing.assert_allclose(r["entropy_t1"], expected_t1, rtol=2e-4, atol=2e-5)
        np.testing.assert_allclose(r["logprob"], expected_lp, rtol=2e-4, atol=2e-5)
        np.testing.assert_allclose(r["entropy_top_p"], [top_p_entropy_reference(z, temperature, top_p) for z in rows],
                                   rtol=2e-4, atol=2e-5)
    # the positions differ: a test of the wrong position would not pass by a constant
    assert np.ptp(np.concatenate([r["entropy_t1"] for r in out])) > 0.01


def test_higher_temperature_higher_entropy_and_top_p_lower(scorer, problems):
    model, tokenizer = scorer
    prompts = prompts_for(problems)
    means = {}
    for t in (0.3, 0.6, 1.0, 1.5):
        out = response_entropies_transformers(model, tokenizer, prompts, RESPONSES, t, 0.9)
        means[t] = np.concatenate([r["entropy"] for r in out])
        truncated = np.concatenate([r["entropy_top_p"] for r in out])
        assert np.all(truncated <= means[t] + 1e-5)
        np.testing.assert_allclose(np.concatenate([r["entropy_t1"] for r in out]),
                                   means[1.0] if t == 1.0 else np.concatenate([r["entropy_t1"] for r in out]))
    for lo, hi in ((0.3, 0.6), (0.6, 1.0), (1.0, 1.5)):
        assert np.all(means[hi] >= means[lo] - 1e-6) and means[hi].mean() > means[lo].mean()


def test_token_entropies_edge_cases():
    logits = torch.tensor([[0.0, 0.0, 0.0, 0.0], [10.0, 0.0, float("-inf"), 0.0]])
    np.testing.assert_allclose(token_entropies(logits)[0], math.log(4), rtol=1e-6)
    assert torch.isfinite(token_entropies(logits)).all()  # a -inf logit: 0 log 0 = 0
    assert torch.equal(token_entropies(logits, temperature=0), torch.zeros(2))  # greedy: a point mass
    np.testing.assert_allclose(token_entropies(logits[:1], 1.0, top_p=0.5)[0], math.log(2), rtol=1e-6)
    for bad in ({"temperature": -1}, {"top_p": 0}, {"top_p": 1.5}):
        with pytest.raises(ValueError):
            token_entropies(logits, **bad)


def test_score_entropy_rows_and_too_long(model_dir, scorer, problems):
    responses = pd.DataFrame({"problem_id": problems["problem_id"].astype(str), "sample_index": [0, 1, 2, 3],
                              "text": RESPONSES[:3] + ["x " * 5000]})
    table = score_entropy(responses, problems, TEMPLATE, "tiny", 0.6, 0.95, scorer, batch_size=2,
                          labels={"benchmark": "gsm8k"})
    assert list(table.columns) == ["benchmark", *ENTROPY_COLUMNS]
    assert list(table["status"]) == ["scored"] * 3 + ["too_long"]
    assert np.isnan(table["entropy"].iloc[3]) and table["num_tokens"].iloc[3] > 0
    model, tokenizer = scorer
    direct = response_entropies_transformers(model, tokenizer, prompts_for(problems)[:3], RESPONSES[:3], 0.6, 0.95)
    np.testing.assert_allclose(table["entropy"].iloc[:3], [r["entropy"].mean() for r in direct], rtol=1e-6)
    np.testing.assert_allclose(table["entropy_top_p"].iloc[:3], [r["entropy_top_p"].mean() for r in direct], rtol=1e-6)
    assert (table["temperature"] == 0.6).all() and (table["top_p"] == 0.95).all()
    assert scorer_name(model) == "transformers (float32)"
    with pytest.raises(ValueError, match="not in the problem table"):
        score_entropy(responses.assign(problem_id="nope"), problems, TEMPLATE, "tiny", 0.6, 0.95, scorer)


def test_table_is_token_weighted_per_model_and_benchmark():
    rows = pd.DataFrame({
        "benchmark": ["a", "a", "a", "b"], "problem_id": ["1", "2", "3", "1"], "sample_index": 0, "model": "m",
        "status": ["scored", "scored", "too_long", "scored"], "num_tokens": [1, 3, 9, 2], "temperature": 0.6,
        "top_p": 0.95, "mean_logprob": -1.0, "entropy": [1.0, 2.0, np.nan, 0.5], "entropy_t1": [2.0, 2.0, np.nan, 1.0],
        "entropy_top_p": [0.5, 1.0, np.nan, 0.25]})
    table = entropy_table([rows], ["transformers (bfloat16)"])
    assert list(table.columns) == TABLE_COLUMNS
    a = table.set_index("benchmark").loc["a"]
    assert (a["responses"], a["too_long"], a["tokens"]) == (2, 1, 4)
    assert a["entropy"] == pytest.approx((1 * 1.0 + 3 * 2.0) / 4) and a["entropy_top_p"] == pytest.approx(3.5 / 4)
    md = to_markdown(table, "Left out of this run: x.")
    assert "nats per token" in md and "| m | a | 0.6 | 0.95 | 2 | 4 | 1.750 | 2.000 | 0.875 | transformers (bfloat16) |" in md
    assert "Left out of this run: x." in md


# --- planning: analysis.entropy -------------------------------------------------------------------------------------
def test_config_yaml_measures_every_model_of_the_temperature_and_entropy_matched_pairs():
    from rlvr_eval.planning.config import load_config
    from rlvr_eval.planning.grid import Grid
    from workflow_helpers import REPO

    grid = Grid(load_config(REPO / "config.yaml"))
    assert grid.entropy_models() == ["qwen2.5-7b", "simplerl-zoo-qwen2.5-7b", "qwen2.5-7b-t1.0",
                                     "simplerl-zoo-qwen2.5-7b-t1.0", "qwen2.5-7b-t1.2", "simplerl-zoo-qwen2.5-7b-t1.2",
                                     "simplerl-zoo-qwen2.5-7b-entropy-matched"]
    matched = {s["benchmark"]: (s["temperature"], s["top_p"]) for s in grid.entropy_sets("simplerl-zoo-qwen2.5-7b-entropy-matched")}
    assert matched == {"gsm8k": (1.0, 0.95), "math500": (0.85, 0.95), "minerva_math": (0.85, 0.95),
                       "olympiadbench": (1.0, 0.95), "aime24": (1.5, 0.95), "amc23": (0.9, 0.95)}  # the paper's Fig. 17
    assert {s["benchmark"]: s["temperature"] for s in grid.entropy_sets("qwen2.5-7b-t1.2")} == {"math500": 1.2, "aime24": 1.2}
    targets = grid.targets()
    assert "results/tables/entropy.csv" in targets and "results/analysis/entropy/qwen2.5-7b.parquet" in targets


def test_entropy_settings_are_checked_and_follow_left_out_pairs():
    from rlvr_eval.planning.config import ConfigError, validate_config
    from rlvr_eval.planning.grid import Grid
    from workflow_helpers import demo_config

    config = demo_config()
    for bad, match in (({"pairs": ["nope"]}, "analysis.entropy.pairs: unknown pair 'nope'"),
                       ({"models": ["nope"]}, "analysis.entropy.models: unknown model 'nope'"),
                       ({"problems": 0}, "problems")):
        with pytest.raises(ConfigError, match=match):
            validate_config({**config, "analysis": {**config["analysis"], "entropy": bad}})
    assert Grid(validate_config(config)).entropy_targets() == []  # not asked for: nothing planned
    config["analysis"]["entropy"] = {"pairs": ["tiny-zero"]}
    grid = Grid(validate_config(config))
    assert grid.entropy_models() == ["tiny-base", "tiny-rl"]
    assert [s["benchmark"] for s in grid.entropy_sets("tiny-rl")] == ["gsm8k", "math500", "humanevalplus"]  # text: code too
    config["models"]["tiny-rl"]["enabled"] = False
    assert Grid(validate_config(config)).entropy_models() == []  # its pair left out, and so the pair's entropy
