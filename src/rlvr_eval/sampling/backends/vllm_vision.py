"""Sampling a vision-language model (Qwen2.5-VL) with vLLM: the paper-scale path for MathVision and MathVista.

Each prompt goes to the engine as `{"prompt": text, "multi_modal_data": {"image": PIL image}}`; the text holds
one `<|vision_start|><|image_pad|><|vision_end|>` per image, which vLLM's Qwen2.5-VL processor expands. The engine
is built with `limit_mm_per_prompt={"image": 1}` (one image per problem in both benchmarks) and the pixel limits
passed explicitly (`mm_processor_kwargs`), so the number of image tokens is what the config says, whatever the
processor's defaults in a given vLLM release. The context check counts the expanded image tokens with the model's
own image processor under the same limits (rlvr_eval.sampling.backends.vision).
"""

from __future__ import annotations

from collections.abc import Sequence

from rlvr_eval.sampling.backends.vision import load_image_processor, load_images, pixel_limits, prompt_token_count
from rlvr_eval.sampling.backends.vllm_backend import VLLMBackend

IMAGES_PER_PROMPT = 1


class VLLMVisionBackend(VLLMBackend):
    def __init__(self, model_dir: str, min_pixels: int | None = None, max_pixels: int | None = None, **options):
        self.image_processor = load_image_processor(model_dir, min_pixels, max_pixels)
        limits = pixel_limits(self.image_processor)
        super().__init__(model_dir, limit_mm_per_prompt={"image": IMAGES_PER_PROMPT},
                         mm_processor_kwargs={k: v for k, v in limits.items() if v is not None}, **options)
        self.pixel_limits = limits

    def info(self) -> dict:
        return {**super().info(), "backend": "vllm-vision", **self.pixel_limits,
                "limit_mm_per_prompt": {"image": IMAGES_PER_PROMPT}}

    def prompt_lengths(self, prompts: Sequence[str]) -> list[int]:
        return [prompt_token_count(self._tokenizer, self.image_processor, p) for p in prompts]

    def requests(self, prompts: Sequence[str]) -> tuple[list[dict], list[int]]:
        """Text with the image placeholders, the image itself, and the length with the image tokens expanded."""
        requests = []
        for prompt in prompts:
            images = load_images(getattr(prompt, "images", ()))
            request = {"prompt": str(prompt)}
            if images:
                request["multi_modal_data"] = {"image": images[0] if len(images) == 1 else images}
            requests.append(request)
        return requests, self.prompt_lengths(prompts)
