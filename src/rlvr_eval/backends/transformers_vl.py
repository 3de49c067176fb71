"""Sampling a vision-language model (Qwen2.5-VL) with Hugging Face transformers: CPU tests, the tiny demo model,
small GPU runs. Prompts are rlvr_eval.prompts.VisualPrompt (text + image files).

Measured traps of transformers 5.24 without torchvision, which this follows:
- the combined `Qwen2_5_VLProcessor` cannot be built: the tokenizer and the image processor are used apart;
- the token ids are built by expanding each `<|image_pad|>` to grid_t·grid_h·grid_w/4 copies;
- `mm_token_type_ids` (1 on image tokens) must be passed, or `generate` silently skips the 3-D rotary positions.
"""

from __future__ import annotations

from transformers import LogitsProcessorList

from .base import Completion, SamplingParams
from .transformers_backend import SampledLogprobs, TransformersBackend
from .vision import (expand_image_pads, image_tokens, load_image_processor, load_images, pixel_limits,
                     prompt_token_count)


class TransformersVLBackend(TransformersBackend):
    def __init__(self, model_dir: str, device: str | None = None, dtype: str = "auto", batch_size: int = 64,
                 max_model_len: int | None = None, min_pixels: int | None = None, max_pixels: int | None = None):
        import torch
        from transformers import AutoModelForImageTextToText, AutoTokenizer

        self._torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if dtype == "auto":
            torch_dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        else:
            torch_dtype = getattr(torch, dtype)
        self._tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.image_processor = load_image_processor(model_dir, min_pixels, max_pixels)
        self.model = AutoModelForImageTextToText.from_pretrained(model_dir, dtype=torch_dtype).to(self.device).eval()
        self.batch_size = batch_size
        text_config = getattr(self.model.config, "text_config", self.model.config)
        self.max_model_len = max_model_len or getattr(text_config, "max_position_embeddings", None)
        self.image_token_id = self.model.config.image_token_id
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self._tokenizer.eos_token_id is not None:
            self.eos_ids.add(self._tokenizer.eos_token_id)
        self.pad_id = self._tokenizer.pad_token_id if self._tokenizer.pad_token_id is not None else min(self.eos_ids)

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

    def _generate_one(self, prompt, n: int, seed: int, params: SamplingParams, budget: int) -> list[Completion]:
        torch = self._torch
        inputs = self._encode(prompt)
        prompt_len = inputs["input_ids"].shape[1]
        torch.manual_seed(seed)
        out: list[Completion] = []
        remaining = n
        while remaining:
            batch = min(remaining, self.batch_size)
            logprobs = SampledLogprobs()  # the sampled tokens' log-probs, as the text backend records them
            with torch.no_grad():
                seqs = self.model.generate(
                    **inputs, do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=0,
                    max_new_tokens=budget, num_return_sequences=batch, pad_token_id=self.pad_id,
                    stop_strings=list(params.stop) or None, tokenizer=self._tokenizer if params.stop else None,
                    logits_processor=LogitsProcessorList([logprobs]),
                )
            per_token = logprobs.finish(seqs, prompt_len).tolist()
            for row, lps in zip(seqs[:, prompt_len:].tolist(), per_token):
                out.append(self._to_completion(row, params, lps))
            remaining -= batch
        return out
