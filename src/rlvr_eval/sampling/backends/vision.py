"""What both vision backends share: which model directories are vision-language models, the image processor with
explicit pixel limits, and how many tokens an image becomes.

Qwen2.5-VL reads an image as a grid of 14x14 patches (grid_t x grid_h x grid_w, after resizing the image into the
pixel limits) and merges 2x2 patches into one token: a prompt's `<|image_pad|>` stands for
grid_t·grid_h·grid_w / 4 tokens. The context check (rlvr_eval.sampling.backends.base.token_budgets) counts those, so a
large image caps or refuses a sample rather than overflowing the context.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

IMAGE_PAD = "<|image_pad|>"
VISION_MODEL_TYPES = ("qwen2_5_vl", "qwen2_vl")


def is_vision_model(model_dir: str | Path) -> bool:
    config = Path(model_dir) / "config.json"
    return config.is_file() and json.loads(config.read_text()).get("model_type") in VISION_MODEL_TYPES


def load_image_processor(model_dir: str | Path, min_pixels: int | None = None, max_pixels: int | None = None):
    """The model's image processor with the pixel limits made explicit (None: the processor's own).

    Built on its own: the combined Qwen2.5-VL processor cannot be built without torchvision (transformers 5.24), and
    the image processor falls back to its PIL implementation there.
    """
    from transformers import AutoImageProcessor

    kwargs = {k: v for k, v in (("min_pixels", min_pixels), ("max_pixels", max_pixels)) if v is not None}
    processor = AutoImageProcessor.from_pretrained(str(model_dir), **kwargs)
    return processor


def pixel_limits(processor) -> dict:
    """The limits the processor applies (recorded with the samples: they change the number of image tokens)."""
    size = getattr(processor, "size", None) or {}
    return {"min_pixels": size.get("shortest_edge", getattr(processor, "min_pixels", None)),
            "max_pixels": size.get("longest_edge", getattr(processor, "max_pixels", None))}


def load_images(paths: Sequence[str]):
    from PIL import Image

    images = []
    for path in paths:
        with Image.open(path) as im:
            images.append(im.convert("RGB"))
    return images


def image_tokens(grid_thw) -> list[int]:
    """Tokens each image becomes, from the processor's `image_grid_thw` rows (2x2 patches merge into one)."""
    return [int(t) * int(h) * int(w) // 4 for t, h, w in grid_thw.tolist()]


def expand_image_pads(text: str, counts: Sequence[int]) -> str:
    """The prompt text with its i-th `<|image_pad|>` repeated counts[i] times (what the model's embedding reads)."""
    parts = text.split(IMAGE_PAD)
    if len(parts) - 1 != len(counts):
        raise ValueError(f"the prompt has {len(parts) - 1} {IMAGE_PAD} placeholder(s) for {len(counts)} image(s)")
    out = parts[0]
    for count, rest in zip(counts, parts[1:]):
        out += IMAGE_PAD * count + rest
    return out


def prompt_token_count(tokenizer, image_processor, prompt) -> int:
    """Tokens of a prompt as the model reads it: each image's placeholder expanded to its image tokens."""
    images = load_images(getattr(prompt, "images", ()))
    counts = image_tokens(image_processor(images=images, return_tensors="pt")["image_grid_thw"]) if images else []
    return len(tokenizer(expand_image_pads(str(prompt), counts), add_special_tokens=False)["input_ids"])
