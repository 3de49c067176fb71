"""A tiny Qwen2.5-VL built locally (no download), so that visual benchmarks run through the real model class, image
processor, 3-D rotary positions and `generate` on CPU in seconds.

Text model: hidden 64, 2 layers, 4 heads, `mrope_section` [2, 3, 3] (the rotary half-dimension 8 split over
time, height and width). Vision tower: depth 2, width 32, `out_hidden_size` 64 (the text width), `window_size` 56,
full attention in block 1. Tokenizer: a byte-level BPE trained here with Qwen's special tokens, the vision ones
included. Image processor: `Qwen2VLImageProcessor` (saved as such; transformers loads its PIL implementation where
torchvision is missing) with small pixel limits, so that an image becomes 4 to 16 tokens. About 200 k
parameters. Recipes as for the text demo: random weights, or trained for a few hundred steps to box an answer to
each demo problem (its image in the prompt), so that verdicts and pass@k are not all zero; they demonstrate the
pipeline, not visual reasoning.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd


VISION_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                         "<|image_pad|>", "<|video_pad|>"]
# The image processor's pixel limits: 4 to 16 merged 28x28 patches per image (Qwen2.5-VL-7B's own: 4 to 16,384).
TINY_MIN_PIXELS = 4 * 28 * 28
TINY_MAX_PIXELS = 16 * 28 * 28


def build_tiny_vl_model(out_dir: str | Path, spec, problems: pd.DataFrame, template: str,
                        init_from: str | Path | None = None) -> dict:
    """Write a tiny Qwen2.5-VL directory (config, weights, tokenizer, image processor); return its manifest.

    Recipes as for text models (rlvr_eval.models.tiny_text): "none" (random weights), "base" (the right answer and
    distractors for each problem, image in the prompt), "rl" (from `init_from`, sharpened onto one answer each).
    """
    import torch
    from transformers import AutoModelForImageTextToText, AutoTokenizer

    from rlvr_eval.models.revision import weights_revision

    if spec.recipe not in ("none", "base", "rl"):
        raise ValueError(f"tiny vision models know the recipes none, base and rl, got {spec.recipe!r}")
    if "image" not in problems:
        raise ValueError("a tiny vision model trains on a visual benchmark (a table with an `image` column)")
    torch.manual_seed(spec.seed)
    if init_from is not None:
        tokenizer = AutoTokenizer.from_pretrained(init_from)
        model = AutoModelForImageTextToText.from_pretrained(init_from, dtype=torch.float32)
    else:
        tokenizer, model = _new_model(spec, problems, template)
    processor = _image_processor()
    final_loss = _train(model, tokenizer, processor, spec, problems, template) if spec.recipe != "none" else None
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    manifest = {"spec": asdict(spec), "template": template, "init_from": str(init_from) if init_from else None,
                "revision": weights_revision(out_dir), "parameters": sum(p.numel() for p in model.parameters()),
                "final_loss": final_loss, "training_problems": len(problems),
                "architecture": "Qwen2_5_VLForConditionalGeneration",
                "min_pixels": TINY_MIN_PIXELS, "max_pixels": TINY_MAX_PIXELS}
    (out_dir / "tiny_model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _image_processor():
    # Saved as Qwen2VLImageProcessor; the PIL implementation needs no torchvision.
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    return Qwen2VLImageProcessorPil(min_pixels=TINY_MIN_PIXELS, max_pixels=TINY_MAX_PIXELS)


def _new_model(spec, problems: pd.DataFrame, template: str):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    from rlvr_eval.models.tiny_spec import CHAT_TEMPLATE, _target, tiny_prompt

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=spec.vocab_size, special_tokens=VISION_SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    corpus = [tiny_prompt(template, q) for q in problems["question"]] + [_target(r) for r in problems["reference"]]
    tok.train_from_iterator(corpus, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        additional_special_tokens=VISION_SPECIAL_TOKENS[1:])
    tokenizer.chat_template = CHAT_TEMPLATE
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in VISION_SPECIAL_TOKENS}
    config = Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=len(tokenizer), hidden_size=spec.hidden_size, intermediate_size=2 * spec.hidden_size,
            num_hidden_layers=spec.layers, num_attention_heads=spec.heads, num_key_value_heads=spec.heads,
            max_position_embeddings=spec.max_position_embeddings, tie_word_embeddings=True,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
            eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"], bos_token_id=None),
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=spec.hidden_size,
                           window_size=56, fullatt_block_indexes=[1]),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    )
    model = Qwen2_5_VLForConditionalGeneration(config)
    model.generation_config.eos_token_id = [ids["<|im_end|>"], ids["<|endoftext|>"]]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.generation_config.bos_token_id = None
    return tokenizer, model


def _train(model, tokenizer, processor, spec, problems: pd.DataFrame, template: str) -> float:
    """Next-token loss on the target tokens only, each prompt with its problem's image (as at sampling time)."""
    import random

    import torch

    from rlvr_eval.sampling.backends.vision import expand_image_pads, image_tokens, load_images
    from rlvr_eval.models.tiny_spec import training_examples

    features = [processor(images=load_images([path]), return_tensors="pt") for path in problems["image"]]
    encoded = []
    for i, prompt, target in training_examples(spec, problems, template):
        text = expand_image_pads(prompt, image_tokens(features[i]["image_grid_thw"]))
        p = tokenizer(text, add_special_tokens=False)["input_ids"]
        t = tokenizer(target, add_special_tokens=False)["input_ids"]
        encoded.append((i, p + t, [-100] * len(p) + t))
    rng = random.Random(spec.seed + 1)
    optimiser = torch.optim.AdamW(model.parameters(), lr=spec.learning_rate)
    image_id = model.config.image_token_id
    model.train()
    loss = torch.tensor(float("nan"))
    for _ in range(spec.train_steps):
        batch = rng.sample(encoded, k=min(spec.batch_size, len(encoded)))
        width = max(len(ids) for _, ids, _ in batch)
        ids = torch.full((len(batch), width), tokenizer.pad_token_id)
        labels = torch.full((len(batch), width), -100)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, (_, x, y) in enumerate(batch):
            ids[row, : len(x)], labels[row, : len(y)], mask[row, : len(x)] = torch.tensor(x), torch.tensor(y), 1
        loss = model(input_ids=ids, attention_mask=mask, labels=labels, mm_token_type_ids=(ids == image_id).int(),
                     pixel_values=torch.cat([features[i]["pixel_values"] for i, _, _ in batch]),
                     image_grid_thw=torch.cat([features[i]["image_grid_thw"] for i, _, _ in batch])).loss
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
        model.model.rope_deltas = None  # positions of the next batch are computed afresh
    model.eval()
    return float(loss.detach())
