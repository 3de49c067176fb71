import numpy as np
import pandas as pd
import pytest
import torch

from rlvr_eval.plots.analysis_figures import plot_perplexity_boxes
from rlvr_eval.analysis.perplexity import (PERPLEXITY_COLUMNS, load_transformers_scorer, response_logprobs_transformers,
                                           score_responses, select_responses, summarise_logprobs)
from rlvr_eval.data.benchmarks import load_benchmark
from rlvr_eval.sampling.prompts import render_prompt
from rlvr_eval.models.tiny_spec import TinyModelSpec
from rlvr_eval.models.tiny_text import build_tiny_model
from figure_helpers import assert_figure_written

TEMPLATE = "qwen-boxed"


@pytest.fixture(scope="module")
def problems(mirror):
    return load_benchmark("gsm8k", mirror, limit=4)[0]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, problems):
    """A tiny Qwen2 trained for a few steps on "The answer is \\boxed{…}": its next-token distributions differ
    sharply between positions, so an off-by-one position or a wrong target token shows."""
    out = tmp_path_factory.mktemp("ppl-model")
    build_tiny_model(out, TinyModelSpec(seed=0, recipe="base", train_steps=10), problems, TEMPLATE)
    return out


@pytest.fixture(scope="module")
def scorer(model_dir):
    return load_transformers_scorer(model_dir, device="cpu")


def token_by_token_logprobs(model, tokenizer, prompt: str, response: str) -> list[float]:
    """Reference: one unbatched forward pass per response token, reading the last position's distribution."""
    context = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    targets = tokenizer(response, add_special_tokens=False)["input_ids"]
    out = []
    for token in targets:
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([context])).logits[0, -1]
        out.append(float(torch.log_softmax(logits.double(), dim=-1)[token]))
        context = context + [token]
    return out


RESPONSES = [
    "The answer is \\boxed{18}.",
    "Janet sells 16 - 3 - 4 = 9 duck eggs a day at $2 each, so she makes 9 * 2 = 18 dollars. The answer is \\boxed{18}.",
    "7",
    "The answer is \\boxed{3}.",
]


@pytest.fixture(scope="module")
def reference_logprobs(scorer, problems):
    model, tokenizer = scorer
    return [token_by_token_logprobs(model, tokenizer, render_prompt(TEMPLATE, q), r)
            for q, r in zip(problems["question"], RESPONSES)]


@pytest.mark.parametrize("batch_size", [4, 2, 1])
def test_batched_logprobs_match_a_token_by_token_loop(scorer, problems, reference_logprobs, batch_size):
    model, tokenizer = scorer
    prompts = [render_prompt(TEMPLATE, q) for q in problems["question"]]
    batched = response_logprobs_transformers(model, tokenizer, prompts, RESPONSES, batch_size=batch_size)
    lengths = [len(tokenizer(r, add_special_tokens=False)["input_ids"]) for r in RESPONSES]
    assert len(set(lengths)) >= 3  # different lengths: rows of a batch are padded
    for got, reference, length in zip(batched, reference_logprobs, lengths):
        assert len(got) == length  # response tokens only: the prompt does not count
        np.testing.assert_allclose(got, reference, atol=1e-4, rtol=0)
    # token log-probs vary by nats from one position to the next: a shifted position cannot pass at 1e-4
    assert np.ptp(batched[0]) > 2 and np.ptp(batched[1]) > 2


def test_prompt_conditions_the_response(scorer, problems):
    model, tokenizer = scorer
    same_response = [RESPONSES[0]] * 2
    prompts = [render_prompt(TEMPLATE, problems["question"][0]), render_prompt(TEMPLATE, problems["question"][1])]
    first, second = response_logprobs_transformers(model, tokenizer, prompts, same_response)
    assert not np.allclose(first, second, atol=1e-3)


def test_perplexity_summary_and_empty_response():
    assert summarise_logprobs(np.array([-0.5, -1.5])) == (2, -1.0, pytest.approx(np.e))
    n, mean, ppl = summarise_logprobs(np.array([]))
    assert n == 0 and np.isnan(mean) and np.isnan(ppl)


def samples_of(problem_ids: list[str], per_problem: int, text) -> pd.DataFrame:
    return pd.DataFrame([{"problem_id": p, "sample_index": i, "text": text(p, i), "num_tokens": 1, "finish_reason": "stop"}
                         for p in problem_ids for i in range(per_problem)])


def test_subsample_is_seeded_and_the_same_for_every_response_model():
    ids = [str(i) for i in range(20)]
    rl = samples_of(ids, 8, lambda p, i: f"rl {p} {i}")
    base = samples_of(ids, 8, lambda p, i: f"base {p} {i}").sample(frac=1.0, random_state=0)  # row order irrelevant
    keys = ["problem_id", "sample_index"]
    chosen_rl = select_responses(rl, num_problems=5, responses_per_problem=3, seed=1)
    chosen_base = select_responses(base, num_problems=5, responses_per_problem=3, seed=1)
    assert len(chosen_rl) == 15 and chosen_rl.groupby("problem_id").size().tolist() == [3] * 5
    assert chosen_rl[keys].equals(chosen_base[keys])
    assert not chosen_rl[keys].equals(select_responses(rl, 5, 3, seed=2)[keys])
    assert len(select_responses(rl, num_problems=50, responses_per_problem=None)) == 160  # "at most": all there is


def test_score_responses_rows(model_dir, problems, reference_logprobs):
    texts = {0: RESPONSES[2], 1: RESPONSES[0], 2: ""}
    samples = samples_of(problems["problem_id"].tolist(), 3, lambda p, i: texts[i])
    chosen = select_responses(samples, num_problems=None, responses_per_problem=2, seed=0)
    table = score_responses(model_dir, chosen, problems, TEMPLATE, scored_model="tiny-base", response_model="tiny-rl",
                            device="cpu", batch_size=4, labels={"benchmark": "gsm8k"})
    assert list(table.columns) == ["benchmark", *PERPLEXITY_COLUMNS] and len(table) == 8
    assert table[["problem_id", "sample_index"]].equals(chosen[["problem_id", "sample_index"]])
    assert set(table["scored_model"]) == {"tiny-base"} and set(table["response_model"]) == {"tiny-rl"}
    scored = table.dropna(subset=["perplexity"])
    assert len(scored) == 4 and (table.loc[table["perplexity"].isna(), "num_tokens"] == 0).all()  # the empty responses
    np.testing.assert_allclose(scored["perplexity"], np.exp(-scored["mean_logprob"]))
    # seed 0 picks samples 1 and 2 of problem 0; sample 1 is RESPONSES[0], to problem 0: the first reference
    row = table[(table["sample_index"] == 1) & (table["problem_id"] == problems["problem_id"][0])].iloc[0]
    reference = reference_logprobs[0]
    assert row["num_tokens"] == len(reference)
    assert row["mean_logprob"] == pytest.approx(np.mean(reference), abs=1e-4)


def test_too_long_and_unknown_problems_are_errors(model_dir, scorer, problems):
    model, tokenizer = scorer
    prompt = render_prompt(TEMPLATE, problems["question"][0])
    with pytest.raises(ValueError, match="beyond the scoring model's context of 4096 tokens"):
        response_logprobs_transformers(model, tokenizer, [prompt], ["18 " * 5000])
    stray = samples_of(["no-such-problem"], 1, lambda p, i: "x")
    with pytest.raises(ValueError, match="not in the problem table"):
        score_responses(model_dir, stray, problems, TEMPLATE, "a", "b", device="cpu")
    with pytest.raises(ValueError, match="unknown perplexity backend"):
        score_responses(model_dir, samples_of(problems["problem_id"].tolist()[:1], 1, lambda p, i: "x"), problems,
                        TEMPLATE, "a", "b", backend="onnx")


def test_responses_beyond_the_scorers_context_are_skipped_never_truncated(model_dir, problems):
    """E.g. a 16k-token R1-Distill response under the 4k-context Qwen2.5-Math-7B: counted, not scored, no abort."""
    long_response = "18 " * 5000  # beyond the tiny model's 4,096 tokens
    samples = samples_of(problems["problem_id"].tolist()[:2], 2, lambda p, i: long_response if i == 0 else RESPONSES[0])
    table = score_responses(model_dir, samples, problems, TEMPLATE, "tiny-base", "r1-distill", device="cpu")
    assert table["status"].tolist() == ["too_long", "scored"] * 2
    skipped = table[table["status"] == "too_long"]
    assert skipped["perplexity"].isna().all() and (skipped["num_tokens"] > 4096).all()
    assert (table.loc[table["status"] == "scored", "perplexity"] > 1).all()


def test_perplexity_box_figure(tmp_path):
    rng = np.random.default_rng(0)
    rows = [{"problem_id": f"p{p}", "sample_index": i, "scored_model": "base", "response_model": model,
             "num_tokens": 10, "mean_logprob": -np.log(ppl), "perplexity": ppl}
            for p in range(5) for model, centre in (("rl", 1.2), ("base", 1.4)) for i in range(8)
            for ppl in [centre + rng.gamma(2, 0.05)]]
    rows.append({**rows[0], "sample_index": 99, "num_tokens": 0, "mean_logprob": np.nan, "perplexity": np.nan})
    paths = plot_perplexity_boxes(pd.DataFrame(rows), tmp_path / "ppl", [{"name": "p", "base": "base", "rl": "rl"}])
    assert_figure_written(paths, tmp_path / "ppl")
