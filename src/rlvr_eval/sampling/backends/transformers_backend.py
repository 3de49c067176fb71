"""Sampling with Hugging Face transformers `generate` (CPU, or one GPU when present).

Slow next to vLLM but runs anywhere: it drives the offline demo, the tests and small GPU runs.
"""

from __future__ import annotations

import platform

from transformers import LogitsProcessor, LogitsProcessorList

from rlvr_eval.sampling.backends.base import Completion, SamplingParams


class SampledLogprobs(LogitsProcessor):
    """The raw log-prob (temperature 1, before top-p) of every sampled token, as vLLM reports them: `generate` runs
    a caller's logits processors before its temperature and top-p warpers, so this one sees the model's logits.
    The token drawn from step t's distribution appears in input_ids at step t + 1 (the last one in the output)."""

    def __init__(self):
        self.previous = None  # log-softmax of the last step, [batch, vocab]
        self.steps = []  # per step: [batch] log-prob of the token drawn there

    def _take(self, token_ids):
        if self.previous is not None:
            self.steps.append(self.previous.gather(1, token_ids[:, None])[:, 0])

    def __call__(self, input_ids, scores):
        import torch

        self._take(input_ids[:, -1])
        self.previous = torch.log_softmax(scores.float(), dim=-1)
        return scores

    def finish(self, sequences, prompt_len: int):
        """[batch, new tokens] log-probs of the sampled tokens (padding after a finished sequence included)."""
        import torch

        if sequences.shape[1] - prompt_len > len(self.steps):
            self._take(sequences[:, prompt_len + len(self.steps)])
        self.previous = None
        return torch.stack(self.steps, dim=1) if self.steps else sequences.new_zeros((sequences.shape[0], 0), dtype=torch.float)


class TransformersBackend:
    auto_model = "AutoModelForCausalLM"  # the transformers Auto class that loads the model

    def __init__(self, model_dir: str, device: str | None = None, dtype: str = "auto", batch_size: int = 64,
                 max_model_len: int | None = None):
        import torch
        import transformers
        from transformers import AutoTokenizer

        self._torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if dtype == "auto":
            torch_dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        else:
            torch_dtype = getattr(torch, dtype)
        self._tokenizer = AutoTokenizer.from_pretrained(model_dir)
        auto = getattr(transformers, self.auto_model)
        self.model = auto.from_pretrained(model_dir, dtype=torch_dtype).to(self.device).eval()
        self.batch_size = batch_size
        text_config = getattr(self.model.config, "text_config", self.model.config)  # a VL model's language part
        self.max_model_len = max_model_len or getattr(text_config, "max_position_embeddings", None)
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self._tokenizer.eos_token_id is not None:
            self.eos_ids.add(self._tokenizer.eos_token_id)
        self.pad_id = self._tokenizer.pad_token_id if self._tokenizer.pad_token_id is not None else min(self.eos_ids)

    @property
    def tokenizer(self):
        return self._tokenizer

    def close(self) -> None:
        """Nothing to stop: the model lives in this process."""

    def info(self) -> dict:
        import transformers

        torch = self._torch
        gpu = torch.cuda.get_device_name(0) if self.device.startswith("cuda") else None
        return {"backend": "transformers", "transformers": transformers.__version__, "torch": torch.__version__,
                "device": self.device, "gpu": gpu, "gpu_count": torch.cuda.device_count(), "host": platform.node()}

    @property
    def context_limit(self) -> int | None:
        return self.max_model_len

    def prompt_lengths(self, prompts) -> list[int]:
        return [len(self._tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]

    def generate(self, prompts: list[str], n: int, seeds: list[int], params: SamplingParams,
                 max_tokens: list[int] | None = None) -> list[list[Completion]]:
        budgets = max_tokens or [params.max_new_tokens] * len(prompts)
        return [self._generate_one(p, n, s, params, b) for p, s, b in zip(prompts, seeds, budgets)]

    def _encode(self, prompt: str):
        """The model inputs of a prompt (the text carries its own special tokens: none added)."""
        return self._tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self.device)

    def _generate_one(self, prompt: str, n: int, seed: int, params: SamplingParams, budget: int) -> list[Completion]:
        torch = self._torch
        enc = self._encode(prompt)
        prompt_len = enc["input_ids"].shape[1]
        torch.manual_seed(seed)
        out: list[Completion] = []
        remaining = n
        while remaining:
            batch = min(remaining, self.batch_size)
            logprobs = SampledLogprobs()
            with torch.no_grad():
                seqs = self.model.generate(
                    **enc, do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=0,
                    max_new_tokens=budget, num_return_sequences=batch, pad_token_id=self.pad_id,
                    stop_strings=list(params.stop) or None, tokenizer=self._tokenizer if params.stop else None,
                    logits_processor=LogitsProcessorList([logprobs]),
                )
            per_token = logprobs.finish(seqs, prompt_len).tolist()
            for row, lps in zip(seqs[:, prompt_len:].tolist(), per_token):
                out.append(self._to_completion(row, params, lps))
            remaining -= batch
        return out

    def _to_completion(self, token_ids: list[int], params: SamplingParams, logprobs: list[float]) -> Completion:
        end = next((i for i, t in enumerate(token_ids) if t in self.eos_ids), None)
        tokens = token_ids if end is None else token_ids[: end + 1]
        text = self._tokenizer.decode(tokens if end is None else tokens[:-1], skip_special_tokens=False)
        finish = "stop" if end is not None else "length"
        for stop in params.stop:
            cut = text.find(stop)
            if cut != -1:
                text, finish = text[:cut], "stop"
        return Completion(text=text, num_tokens=len(tokens), finish_reason=finish, logprob_sum=sum(logprobs[: len(tokens)]))
