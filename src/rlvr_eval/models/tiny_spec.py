"""What a tiny model is and what it learns: its spec, chat template and training examples (text and VL builders)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pandas as pd

from rlvr_eval.sampling.prompts import render_prompt

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class _TinyChatTemplate:
    """Renders CHAT_TEMPLATE as a tiny model's tokenizer does (transformers' Jinja settings), before that
    tokenizer exists: its BPE is trained on the rendered prompts."""

    chat_template = CHAT_TEMPLATE

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True) -> str:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        return env.from_string(CHAT_TEMPLATE).render(messages=messages, add_generation_prompt=add_generation_prompt)


def tiny_prompt(template: str, question: str) -> str:
    """The prompt of `question` for a tiny model (its chat template, for the 'chat' template)."""
    return render_prompt(template, question, tokenizer=_TinyChatTemplate())


@dataclass(frozen=True)
class TinyModelSpec:
    seed: int = 0
    vocab_size: int = 1024
    hidden_size: int = 64
    layers: int = 2
    heads: int = 4
    max_position_embeddings: int = 4096
    # training ("none" leaves the random init)
    recipe: str = "none"  # none | base | rl | solutions
    train_steps: int = 0
    learning_rate: float = 3e-3
    batch_size: int = 16
    individual_digits: bool = False  # one token per digit: arithmetic is learnable digit by digit
    lr_decay: bool = False  # decay the learning rate linearly to 0 over train_steps
    distractors: int = 3  # wrong answers per problem in the base corpus
    rl_correct_fraction: float = 0.7  # rl recipe: share of problems sharpened on the correct answer
    vision: bool = False  # a tiny Qwen2.5-VL (rlvr_eval.models.tiny_vl) instead of a text model


def _target(answer: str) -> str:
    return f"The answer is \\boxed{{{answer}}}.<|im_end|>"


def training_pairs(spec: TinyModelSpec, problems: pd.DataFrame, template: str) -> list[tuple[str, str]]:
    """(prompt, target) pairs for the recipe; deterministic in spec.seed."""
    return [(prompt, target) for _, prompt, target in training_examples(spec, problems, template)]


def training_examples(spec: TinyModelSpec, problems: pd.DataFrame, template: str) -> list[tuple[int, str, str]]:
    """(problem row, prompt, target) for the recipe; deterministic in spec.seed."""
    rng = random.Random(spec.seed)
    references = sorted(set(problems["reference"]))
    # rl recipe: exactly this many problems (chosen at random) are sharpened on the correct answer
    sharpened = set(rng.sample(range(len(problems)), k=round(spec.rl_correct_fraction * len(problems))))
    examples = []
    for i, (question, ref, solution) in enumerate(zip(problems["question"], problems["reference"], problems["solution"])):
        prompt = tiny_prompt(template, question)
        wrong = rng.sample([r for r in references if r != ref], k=min(spec.distractors, len(references) - 1))
        if spec.recipe == "solutions":
            examples.append((i, prompt, f" {solution}<|im_end|>"))
        elif spec.recipe == "base":
            examples += [(i, prompt, _target(ref))] + [(i, prompt, _target(w)) for w in wrong]
        elif spec.recipe == "rl":
            answer = ref if i in sharpened else wrong[0]
            examples.append((i, prompt, _target(answer)))
    return examples
