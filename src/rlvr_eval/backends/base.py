"""The interface every sampling backend implements (transformers on CPU/GPU, vLLM on GPU)."""

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
    finish_reason: str  # "stop" (EOS or a stop string) or "length" (hit max_new_tokens)


class ContextLengthError(ValueError):
    """Prompt + max_new_tokens exceeds the model's context: completions would be cut short."""


def check_context(model: str, prompt_lengths: Sequence[int], max_new_tokens: int, limit: int | None) -> None:
    """Raise ContextLengthError unless every prompt plus `max_new_tokens` fits in `limit` tokens.

    model: a name for the message (the model directory); limit: the engine's max_model_len (None:
    unknown, nothing to check).
    """
    if limit is None or not prompt_lengths:
        return
    longest = max(prompt_lengths)
    if longest + max_new_tokens > limit:
        too_long = sum(n + max_new_tokens > limit for n in prompt_lengths)
        raise ContextLengthError(
            f"model {model}: the longest prompt ({longest} tokens) + max_new_tokens ({max_new_tokens}) "
            f"= {longest + max_new_tokens} tokens exceeds the model's context limit of {limit} tokens "
            f"(max_model_len; {too_long} of {len(prompt_lengths)} prompts do not fit). Refusing to sample "
            f"rather than silently truncating completions: "
            + (f"lower sampling.max_new_tokens for this model to at most {limit - longest}, " if longest < limit else
               "shorten the prompt (template), ")
            + "or raise models.<name>.max_model_len if the model supports a longer context."
        )


class Backend(Protocol):
    def generate(self, prompts: list[str], n: int, seeds: list[int], params: SamplingParams) -> list[list[Completion]]:
        """Return `n` completions for each prompt; prompt i is sampled from seed `seeds[i]`.

        A prompt's completions depend only on (model, prompt, seed, params), never on which other
        prompts share the call, so a resumed job reproduces an uninterrupted one.
        """
        ...

    def check_prompts(self, prompts: Sequence[str], params: SamplingParams) -> None:
        """Raise ContextLengthError, before anything is generated, if some prompt + max_new_tokens won't fit."""
        ...

    def info(self) -> dict:
        """Versions and hardware, recorded with the samples."""
        ...

    @property
    def tokenizer(self): ...
