"""Image-conditioned perplexity with the tiny Qwen2.5-VL: each response scored given its prompt and image."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from rlvr_eval.analysis.perplexity_vl import score_responses_vl
from rlvr_eval.sampling.backends import load_backend
from rlvr_eval.data.benchmarks import load_benchmark
from rlvr_eval.sampling.prompts import render_problem_prompts

RESPONSES = ["The answer is \\boxed{6}.", "I count 61 petals, so \\boxed{61}."]


@pytest.fixture(scope="module")
def problems(mirror):
    return load_benchmark("mathvision", mirror, limit=2)[0]


def responses(problem_ids):
    return pd.DataFrame({"problem_id": problem_ids, "sample_index": [0, 1], "text": RESPONSES})


def test_mean_logprob_is_the_models_own_loss_on_the_response(tiny_vl_model_dir, problems):
    table = score_responses_vl(tiny_vl_model_dir, responses(["4", "5"]), problems, "qwen25-vl-think", "a", "b",
                               labels={"benchmark": "mathvision"})
    assert list(table.columns[:3]) == ["benchmark", "problem_id", "sample_index"]
    assert (table["status"] == "scored").all() and (table["num_tokens"] > 3).all()
    backend = load_backend("transformers", str(tiny_vl_model_dir))
    for prompt, text, mean in zip(render_problem_prompts("qwen25-vl-think", problems), RESPONSES, table["mean_logprob"]):
        inputs = backend._encode(prompt)
        response = backend.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        ids = torch.cat([inputs["input_ids"], response], dim=1)
        labels = torch.cat([torch.full_like(inputs["input_ids"], -100), response], dim=1)
        backend.model.model.rope_deltas = None
        with torch.no_grad():
            loss = backend.model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels,
                                 mm_token_type_ids=(ids == backend.image_token_id).int(),
                                 pixel_values=inputs["pixel_values"], image_grid_thw=inputs["image_grid_thw"]).loss
        assert mean == pytest.approx(-float(loss), rel=1e-4)
    assert np.allclose(table["perplexity"], np.exp(-table["mean_logprob"]))


def test_the_image_conditions_the_score(tiny_vl_model_dir, problems):
    own = score_responses_vl(tiny_vl_model_dir, responses(["4", "5"]), problems, "qwen25-vl-think", "a", "b")
    swapped = problems.assign(image=problems["image"][::-1].to_numpy())
    other = score_responses_vl(tiny_vl_model_dir, responses(["4", "5"]), swapped, "qwen25-vl-think", "a", "b")
    assert not np.allclose(own["mean_logprob"], other["mean_logprob"])


def test_beyond_the_context_is_skipped_not_truncated(tiny_vl_model_dir, problems):
    backend = load_backend("transformers", str(tiny_vl_model_dir))
    first = backend.prompt_lengths(render_problem_prompts("qwen25-vl-think", problems))[0]
    table = score_responses_vl(tiny_vl_model_dir, responses(["4", "5"]), problems, "qwen25-vl-think", "a", "b",
                               engine_kwargs={"max_model_len": first + 3})
    assert table["status"].tolist() == ["too_long", "too_long"] and table["perplexity"].isna().all()


def test_a_response_holding_an_image_placeholder_is_skipped_not_taken_for_an_image(tiny_vl_model_dir, problems):
    """Samples keep special tokens, and a (tiny, random) model does emit `<|image_pad|>`: the scorer would count it
    as one more image token than it has features for ("Image features and image tokens do not match") and stop."""
    emitted = responses(["4", "5"]).assign(text=["It is <|image_pad|> six.", RESPONSES[1]])
    table = score_responses_vl(tiny_vl_model_dir, emitted, problems, "qwen25-vl-think", "a", "b")
    assert table["status"].tolist() == ["vision_token", "scored"]
    assert table["perplexity"].isna().tolist() == [True, False]


def test_one_loaded_model_scores_several_sets_as_separate_loads_do(tiny_vl_model_dir, problems):
    """A perplexity job of several visual response sets loads the model once (rlvr_eval.analysis.perplexity_groups):
    the same rows as a model loaded for each set."""
    from rlvr_eval.analysis.perplexity_groups import ScoringModel

    model = ScoringModel({"path": str(tiny_vl_model_dir)}, "transformers", 4, {})
    try:
        for order in (["4", "5"], ["5", "4"]):
            shared = model.score(responses(order), problems, "qwen25-vl-think", "a", "b", {"benchmark": "mathvision"})
            own = score_responses_vl(tiny_vl_model_dir, responses(order), problems, "qwen25-vl-think", "a", "b",
                                     labels={"benchmark": "mathvision"})
            pd.testing.assert_frame_equal(shared, own)
        assert model.loads == 1
    finally:
        model.close()
