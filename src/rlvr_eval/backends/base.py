"""The interface every sampling backend implements (transformers on CPU/GPU, vLLM on GPU)."""

from __future__ import annotations

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


class Backend(Protocol):
    def generate(self, prompts: list[str], n: int, seeds: list[int], params: SamplingParams) -> list[list[Completion]]:
        """Return `n` completions for each prompt; prompt i is sampled from seed `seeds[i]`.

        A prompt's completions depend only on (model, prompt, seed, params), never on which other
        prompts share the call, so a resumed job reproduces an uninterrupted one.
        """
        ...

    def info(self) -> dict:
        """Versions and hardware, recorded with the samples."""
        ...

    @property
    def tokenizer(self): ...
