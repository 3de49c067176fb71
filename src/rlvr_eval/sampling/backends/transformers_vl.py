"""Sampling a vision-language model (Qwen2.5-VL) with Hugging Face transformers: CPU tests, the tiny demo model,
small GPU runs. Prompts are rlvr_eval.sampling.prompts.VisualPrompt (text + image files).

Measured traps of transformers 5.24 without torchvision, which this follows:
- the combined `Qwen2_5_VLProcessor` cannot be built: the tokenizer and the image processor are used apart;
- the token ids are built by expanding each `<|image_pad|>` to grid_t·grid_h·grid_w/4 copies;
- `mm_token_type_ids` (1 on image tokens) must be passed, or `generate` silently skips the 3-D rotary positions.
"""

from __future__ import annotations


from rlvr_eval.sampling.backends.transformers_backend import TransformersBackend
from rlvr_eval.sampling.backends.vision import (expand_image_pads, image_tokens, load_image_processor, load_images, pixel_limits,
                     prompt_token_count)


class TransformersVLBackend(TransformersBackend):
    auto_model = "AutoModelForImageTextToText"

    def __init__(self, model_dir: str, device: str | None = None, dtype: str = "auto", batch_size: int = 64,
                 max_model_len: int | None = None, min_pixels: int | None = None, max_pixels: int | None = None):
        super().__init__(model_dir, device, dtype, batch_size, max_model_len)
        self.image_processor = load_image_processor(model_dir, min_pixels, max_pixels)
        self.image_token_id = self.model.config.image_token_id

    def info(self) -> dict:
        return {**super().info(), "backend": "transformers-vl", **pixel_limits(self.image_processor)}

    def _encode(self, prompt) -> dict:
        """Model inputs of a prompt: expanded token ids, the image features and grid, mm_token_type_ids."""
        torch = self._torch
        images = load_images(getattr(prompt, "images", ()))
        features = self.image_processor(images=images, return_tensors="pt") if images else {}
        counts = image_tokens(features["image_grid_thw"]) if images else []
        enc = self._tokenizer(expand_image_pads(str(prompt), counts), return_tensors="pt", add_special_tokens=False)
        inputs = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
                  "mm_token_type_ids": (enc["input_ids"] == self.image_token_id).to(torch.int32)}
        if images:
            inputs.update(pixel_values=features["pixel_values"], image_grid_thw=features["image_grid_thw"])
        return {k: v.to(self.device) for k, v in inputs.items()}

    def prompt_lengths(self, prompts) -> list[int]:
        """Tokens of each prompt as the model reads it: every image expanded to its image tokens."""
        return [prompt_token_count(self._tokenizer, self.image_processor, p) for p in prompts]
