"""Sampling a vision-language model (Qwen2.5-VL) with vLLM: the paper-scale path for MathVision and MathVista.

Each prompt goes to the engine as `{"prompt": text, "multi_modal_data": {"image": PIL image}}`; the text holds
one `<|vision_start|><|image_pad|><|vision_end|>` per image, which vLLM's Qwen2.5-VL processor expands. The engine
is built with `limit_mm_per_prompt={"image": 1}` (one image per problem in both benchmarks) and the pixel limits
passed explicitly (`mm_processor_kwargs`), so the number of image tokens is what the config says, whatever the
processor's defaults in a given vLLM release. The context check counts the expanded image tokens with the model's
own image processor under the same limits (rlvr_eval.backends.vision).
"""

from __future__ import annotations

from collections.abc import Sequence

from .base import Completion, SamplingParams
from .vision import load_image_processor, load_images, pixel_limits, prompt_token_count
from .vllm_backend import VLLMBackend, stop_token_ids

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

    def generate(self, prompts: list[str], n: int, seeds: list[int], params: SamplingParams,
                 max_tokens: list[int] | None = None) -> list[list[Completion]]:
        budgets = max_tokens or [params.max_new_tokens] * len(prompts)
        for length, budget in zip(self.prompt_lengths(prompts), budgets):  # vLLM would reject the whole call
            if budget < 1 or length + budget > self.max_model_len:
                raise ValueError(f"a prompt of {length} tokens (images expanded) with a budget of {budget} new tokens "
                                 f"does not fit max_model_len {self.max_model_len} (sampling.token_budgets caps budgets)")
        stop_ids = stop_token_ids(self._tokenizer, params.stop)
        per_prompt = [
            self._vllm.SamplingParams(
                n=n, temperature=params.temperature, top_p=params.top_p, max_tokens=budget, seed=seed,
                logprobs=0,  # the sampled tokens' log-probs, as the text backend records them
                stop=list(params.stop) or None, stop_token_ids=stop_ids or None,
                skip_special_tokens=False, spaces_between_special_tokens=False,
            )
            for seed, budget in zip(seeds, budgets)
        ]
        requests = []
        for prompt in prompts:
            images = load_images(getattr(prompt, "images", ()))
            request = {"prompt": str(prompt)}
            if images:
                request["multi_modal_data"] = {"image": images[0] if len(images) == 1 else images}
            requests.append(request)
        outputs = self._llm.generate(requests, per_prompt, use_tqdm=self.use_tqdm)
        if len(outputs) != len(prompts):
            raise RuntimeError(f"vLLM returned {len(outputs)} outputs for {len(prompts)} prompts")
        return [[self._to_completion(c, params) for c in sorted(out.outputs, key=lambda c: c.index)] for out in outputs]
