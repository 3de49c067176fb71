"""The interface every sampling backend implements (transformers on CPU/GPU, vLLM on GPU or CPU)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class SamplingParams:
    temperature: float
    top_p: float
    max_new_tokens: int
    stop: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Completion:
    text: str
    num_tokens: int
    finish_reason: str  # "stop" (EOS or a stop string) or "length" (hit its token budget)
    # sum of the log-probs of the num_tokens sampled tokens under the model's own distribution (temperature 1,
    # before top-p: vLLM's default logprobs_mode "raw_logprobs"); NaN where unknown
    logprob_sum: float = float("nan")


def token_budgets(prompt_lengths: Sequence[int], max_new_tokens: int, context: int | None) -> list[int]:
    """Each prompt's budget of new tokens: min(max_new_tokens, context - prompt tokens).

    A budget below max_new_tokens is a cap (the completion may end at the context, finish_reason "length");
    a budget of 0 means the prompt alone fills the context: it is not sampled (status prompt_too_long).
    context None: unknown, every prompt gets max_new_tokens.
    """
    if context is None:
        return [max_new_tokens] * len(prompt_lengths)
    return [max(0, min(max_new_tokens, context - n)) for n in prompt_lengths]


class Backend(Protocol):
    def generate(self, prompts: list[str], n: int, seeds: list[int], params: SamplingParams,
                 max_tokens: list[int] | None = None) -> list[list[Completion]]:
        """Return `n` completions for each prompt; prompt i is sampled from seed `seeds[i]` with at most
        `max_tokens[i]` new tokens (default: params.max_new_tokens; every budget is >= 1).

        A prompt's completions depend only on (model, prompt, seed, params, budget), never on which other
        prompts share the call, so a resumed job reproduces an uninterrupted one (vLLM: see docs/configuration.md on
        what its batching allows).
        """
        ...

    # Optional (vLLM has it): generate_stream(prompts, n, seeds, params, max_tokens) -> iterator of (i, the n
    # completions of prompt i), as each prompt finishes; the same completions as `generate`, every prompt given to
    # the engine at once. rlvr_eval.sampling.shards then checkpoints each finished problem.

    def prompt_lengths(self, prompts: Sequence[str]) -> list[int]:
        """Tokens of each prompt as the backend feeds it (no special tokens added: templates carry theirs)."""
        ...

    @property
    def context_limit(self) -> int | None:
        """Tokens of prompt + completion the engine accepts (max_model_len); None if unknown."""
        ...

    def info(self) -> dict:
        """Versions and hardware, recorded with the samples."""
        ...

    def close(self) -> None:
        """Release the engine (vLLM: stop its processes) before the job's process ends."""
        ...

    @property
    def tokenizer(self): ...
