"""A synthetic verifiable task written by the project: multi-step integer arithmetic with worked solutions.

A problem is a start value in 1..20 followed by `difficulty` additions or subtractions of a digit 1..9,
evaluated left to right, e.g. "Compute 17 + 5 - 8." with the worked solution "17+5=22. 22-8=14. The
answer is \\boxed{14}." Intermediate results stay in 0..MAX_VALUE, so every answer is a non-negative
integer that the math graders check like any other benchmark's.

Problems are generated deterministically from (seed, difficulty); the train and test splits are disjoint
(no test question appears in the train split). The test split is a benchmark like any other (the same
canonical table as `benchmarks.py`); the train split is what the tiny base model is pretrained on and what
RLVR samples prompts from.
"""

from __future__ import annotations

import json
import random

import pandas as pd

from rlvr_eval.data.columns import CANONICAL_COLUMNS

SPLITS = ("train", "test")
MAX_VALUE = 40
MAX_OPERAND = 9


def _problem(rng: random.Random, difficulty: int) -> tuple[str, str, str]:
    """(question, worked solution, answer)."""
    value = rng.randint(1, 20)
    question, steps = [str(value)], []
    for _ in range(difficulty):
        if value > 0 and (rng.random() < 0.5 or value + 1 > MAX_VALUE):
            operand = rng.randint(1, min(value, MAX_OPERAND))
            new = value - operand
            op = "-"
        else:
            operand = rng.randint(1, min(MAX_VALUE - value, MAX_OPERAND))
            new = value + operand
            op = "+"
        question.append(f"{op} {operand}")
        steps.append(f"{value}{op}{operand}={new}.")
        value = new
    solution = " ".join(steps) + f" The answer is \\boxed{{{value}}}."
    return f"Compute {' '.join(question)}.", solution, str(value)


def generate_split(split: str, problems: int, seed: int, difficulty: int) -> pd.DataFrame:
    """The canonical table of one split: `problems` distinct questions; train never repeats a test question.

    The test split is drawn first from its own stream, so it does not change when the train split grows.
    """
    if split not in SPLITS:
        raise ValueError(f"synthetic split {split!r}: expected one of {SPLITS}")
    if difficulty < 1:
        raise ValueError(f"synthetic task: difficulty must be >= 1, got {difficulty}")

    def draw(stream: str, count: int, exclude: set[str], strict: bool = True) -> list[tuple[str, str, str]]:
        rng = random.Random(f"arith|{seed}|{difficulty}|{stream}")
        seen, out = set(exclude), []
        for _ in range(100 * count + 1000):
            if len(out) == count:
                return out
            q, s, a = _problem(rng, difficulty)
            if q not in seen:
                seen.add(q)
                out.append((q, s, a))
        if not strict:  # the test reserve of an easy task: every question there is
            return out
        raise ValueError(f"synthetic task: cannot draw {count} distinct {stream} problems at difficulty {difficulty}")

    if split == "test" and problems > _TEST_RESERVE:
        raise ValueError(f"synthetic task: at most {_TEST_RESERVE} test problems (asked for {problems})")
    test = draw("test", problems, set()) if split == "test" else draw("test", _TEST_RESERVE, set(), strict=False)
    rows = test if split == "test" else draw("train", problems, {q for q, _, _ in test})
    meta = json.dumps({"task": "arith", "split": split, "seed": seed, "difficulty": difficulty}, sort_keys=True)
    return pd.DataFrame.from_records(
        [(f"{split}-{i}", q, a, s, meta) for i, (q, s, a) in enumerate(rows)], columns=CANONICAL_COLUMNS)


# The train split excludes this many test questions, whatever size the test split is drawn at (a test
# split of up to this size is disjoint from every train split).
_TEST_RESERVE = 2000
