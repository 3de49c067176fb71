"""A tiny Qwen2.5-VL built locally (no download), so that visual benchmarks run through the real model class, image
processor, 3-D rotary positions and `generate` on CPU in seconds.

Text model: hidden 64, 2 layers, 4 heads, `mrope_section` [2, 3, 3] (the rotary half-dimension 8 split over
time, height and width). Vision tower: depth 2, width 32, `out_hidden_size` 64 (the text width), `window_size` 56,
full attention in block 1. Tokenizer: a byte-level BPE trained here with Qwen's special tokens, the vision ones
included. Image processor: `Qwen2VLImageProcessor` (saved as such; transformers loads its PIL implementation where
torchvision is missing) with small pixel limits, so that an image becomes a few dozen tokens. About 180 k
parameters; the weights are random (recipe "none"): the model exercises every code path, not visual reasoning.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from .prompts import render_prompt

VISION_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                         "<|image_pad|>", "<|video_pad|>"]
# The image processor's pixel limits: 4 to 16 merged 28x28 patches per image (Qwen2.5-VL-7B's own: 4 to 16,384).
TINY_MIN_PIXELS = 4 * 28 * 28
TINY_MAX_PIXELS = 16 * 28 * 28


def build_tiny_vl_model(out_dir: str | Path, spec, problems: pd.DataFrame, template: str) -> dict:
    """Write a tiny Qwen2.5-VL directory (config, weights, tokenizer, image processor); return its manifest."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from .tiny_models import CHAT_TEMPLATE, weights_revision

    if spec.recipe != "none":
        raise ValueError(f"tiny vision models are built untrained (recipe 'none'), got recipe {spec.recipe!r}")
    torch.manual_seed(spec.seed)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=spec.vocab_size, special_tokens=VISION_SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([render_prompt(template, q) for q in problems["question"]], trainer=trainer)
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
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    Qwen2VLImageProcessorPil(min_pixels=TINY_MIN_PIXELS, max_pixels=TINY_MAX_PIXELS).save_pretrained(out_dir)
    manifest = {"spec": asdict(spec), "template": template, "init_from": None, "revision": weights_revision(out_dir),
                "parameters": sum(p.numel() for p in model.parameters()), "final_loss": None,
                "training_problems": len(problems), "architecture": "Qwen2_5_VLForConditionalGeneration",
                "min_pixels": TINY_MIN_PIXELS, "max_pixels": TINY_MAX_PIXELS}
    (out_dir / "tiny_model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
