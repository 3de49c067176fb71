"""Sampling backends behind one interface; `load_backend` picks one by name."""

from __future__ import annotations

from rlvr_eval.sampling.backends.base import Backend, Completion, SamplingParams

BACKENDS = ("transformers", "vllm")


def load_backend(name: str, model_dir: str, **options) -> Backend:
    """A vision-language model directory (Qwen2.5-VL) gets the backend's vision variant (rlvr_eval.sampling.backends.vision)."""
    from rlvr_eval.sampling.backends.vision import is_vision_model

    if is_vision_model(model_dir):
        if name == "transformers":
            from rlvr_eval.sampling.backends.transformers_vl import TransformersVLBackend

            return TransformersVLBackend(model_dir, **options)
        if name == "vllm":
            from rlvr_eval.sampling.backends.vllm_vision import VLLMVisionBackend

            return VLLMVisionBackend(model_dir, **options)
    if name == "transformers":
        from rlvr_eval.sampling.backends.transformers_backend import TransformersBackend

        return TransformersBackend(model_dir, **options)
    if name == "vllm":
        from rlvr_eval.sampling.backends.vllm_backend import VLLMBackend

        return VLLMBackend(model_dir, **options)
    raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")


__all__ = ["Backend", "Completion", "SamplingParams", "load_backend", "BACKENDS"]
