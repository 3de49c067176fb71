"""The tiny Qwen2.5-VL through the transformers vision backend: real images, expanded image tokens, 3-D positions."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from rlvr_eval.sampling.backends import SamplingParams, load_backend
from rlvr_eval.sampling.backends.base import token_budgets
from rlvr_eval.sampling.backends.transformers_vl import TransformersVLBackend
from rlvr_eval.sampling.backends.vision import image_tokens, load_images
from rlvr_eval.data.benchmarks import load_benchmark
from rlvr_eval.io import read_parquet_metadata
from rlvr_eval.sampling.prompts import VisualPrompt, render_problem_prompts
from rlvr_eval.sampling.shards import ShardSpec, sample_shard

PARAMS = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=8, stop=("<|im_end|>",))


@pytest.fixture(scope="module")
def problems(mirror):
    return load_benchmark("mathvision", mirror, limit=3)[0]


@pytest.fixture(scope="module")
def backend(tiny_vl_model_dir):
    return load_backend("transformers", str(tiny_vl_model_dir))


def test_the_tiny_model_is_a_qwen25_vl(backend, tiny_vl_model_dir):
    assert isinstance(backend, TransformersVLBackend)
    config = backend.model.config
    assert (config.text_config.hidden_size, config.text_config.num_hidden_layers, config.vision_config.depth,
            config.vision_config.out_hidden_size, config.vision_config.fullatt_block_indexes) == (64, 2, 2, 64, [1])
    assert sum(p.numel() for p in backend.model.parameters()) < 250_000
    assert backend.info()["min_pixels"] == 4 * 28 * 28 and backend.info()["max_pixels"] == 16 * 28 * 28


def test_prompt_length_counts_the_expanded_image_tokens(backend, problems):
    prompts = render_problem_prompts("qwen25-vl-think", problems, backend.tokenizer)
    text_only = [len(backend.tokenizer(str(p), add_special_tokens=False)["input_ids"]) for p in prompts]
    grids = [backend.image_processor(images=load_images(p.images), return_tensors="pt")["image_grid_thw"]
             for p in prompts]
    expected = [n - 1 + sum(image_tokens(g)) for n, g in zip(text_only, grids)]
    assert backend.prompt_lengths(prompts) == expected
    assert all(sum(image_tokens(g)) >= 4 for g in grids)  # at least min_pixels / 28^2 tokens per image


def test_pixel_limits_change_the_image_tokens(tiny_vl_model_dir, problems, backend):
    prompt = render_problem_prompts("qwen25-vl-think", problems)[0]
    small = load_backend("transformers", str(tiny_vl_model_dir), max_pixels=4 * 28 * 28)
    assert small.info()["max_pixels"] == 4 * 28 * 28
    assert small.prompt_lengths([prompt])[0] < backend.prompt_lengths([prompt])[0]


def test_3d_rotary_positions_need_mm_token_type_ids(backend, problems):
    """Without mm_token_type_ids the model silently falls back to 1-D positions: other logits."""
    inputs = backend._encode(render_problem_prompts("qwen25-vl-think", problems)[0])
    with torch.no_grad():
        with_types = backend.model(**inputs).logits
        backend.model.model.rope_deltas = None
        without = backend.model(**{k: v for k, v in inputs.items() if k != "mm_token_type_ids"}).logits
    assert with_types.shape == without.shape
    assert not torch.allclose(with_types, without)


def test_samples_are_seeded_and_the_image_reaches_the_model(backend, problems):
    prompt = render_problem_prompts("qwen25-vl-think", problems)[0]
    first = backend.generate([prompt], 3, [7], PARAMS)[0]
    assert backend.generate([prompt], 3, [7], PARAMS)[0] == first
    assert backend.generate([prompt], 3, [8], PARAMS)[0] != first
    assert all(1 <= c.num_tokens <= 8 for c in first)
    assert all(c.logprob_sum < 0 for c in first)  # the sampled tokens' log-probs, recorded as for text models
    other_image = VisualPrompt(str(prompt), (problems["image"][1],))
    with torch.no_grad():
        logits = [backend.model(**backend._encode(p)).logits[0, -1] for p in (prompt, other_image)]
    assert not torch.allclose(*logits)  # same text, another image: another next-token distribution


def test_a_text_template_never_drops_the_image(problems):
    with pytest.raises(ValueError, match="takes no images, and the benchmark has images"):
        render_problem_prompts("qwen-boxed", problems)
    with pytest.raises(ValueError, match="takes images, and the benchmark has no images"):
        render_problem_prompts("qwen25-vl-think", pd.DataFrame({"question": ["1+1?"]}))


def test_context_check_caps_and_refuses_by_image_tokens(tiny_vl_model_dir, problems, tmp_path):
    lengths = load_backend("transformers", str(tiny_vl_model_dir)).prompt_lengths(
        render_problem_prompts("qwen25-vl-think", problems))
    shortest = min(lengths)
    backend = load_backend("transformers", str(tiny_vl_model_dir), max_model_len=shortest + 4)
    assert token_budgets(lengths, 8, backend.context_limit) == [max(0, min(8, shortest + 4 - n)) for n in lengths]
    spec = ShardSpec("tiny-vl", "mathvision", 0, 2, 2, 0)
    df = sample_shard(problems, backend, spec, "qwen25-vl-think", PARAMS, tmp_path / "shard-0000.parquet",
                      progress=False)
    budgets = df.groupby("problem_id", sort=False)["max_tokens"].first().tolist()
    assert budgets == [max(0, min(8, shortest + 4 - n)) for n in lengths]
    assert 4 in budgets and 0 in budgets and (df["finish_reason"] == "prompt_too_long").sum() == 2 * budgets.count(0)
    meta = read_parquet_metadata(tmp_path / "shard-0000.parquet")
    assert meta["images"] == problems["image_sha256"].tolist()  # the images are part of what keys the shard
    assert (meta["backend"]["min_pixels"], meta["backend"]["max_pixels"]) == (4 * 28 * 28, 16 * 28 * 28)
