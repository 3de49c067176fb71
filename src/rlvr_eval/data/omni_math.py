"""Omni-MATH-Rule (the rule-gradable subset of Omni-MATH; the paper's Fig. 1 right, Fig. 8 and Tables 2 and 3): its
rows as canonical problems, its answers as bare references, and the train/test split of the paper's VeRL runs, which
the paper does not publish (this project's, fixed here). Both splits, the benchmarks `omni_math_train` and
`omni_math_test`, read one file (rlvr_eval.data.benchmarks)."""

from __future__ import annotations

import hashlib
import json

import pandas as pd


def _last_box(text: str) -> str | None:
    """The content of the last `\\boxed{...}` (braces balanced), or None."""
    i = text.rfind("\\boxed{")
    if i < 0:
        return None
    depth = 0
    for j in range(i + len("\\boxed"), len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + len("\\boxed{"): j]
    return None


_MATH_DELIMITERS = (("$$", "$$"), ("$", "$"), ("\\[", "\\]"), ("\\(", "\\)"))


def omni_math_reference(answer: str) -> str:
    """An Omni-MATH-Rule answer as a bare final answer: some are written `\\[ x \\]`, `\\(\\boxed{x}\\)`, `\\boxed{x}`
    or as a sentence ending in a box; the box's content (the last box), without math delimiters."""
    answer = answer.strip()
    if "\\boxed{" in answer:
        answer = (_last_box(answer) or answer).strip()
    stripped = True
    while stripped:
        stripped = False
        for left, right in _MATH_DELIMITERS:
            if answer.startswith(left) and answer.endswith(right) and len(answer) > len(left) + len(right):
                answer, stripped = answer[len(left):-len(right)].strip(), True
                break
    return answer


def normalise_omni_math(row: dict, i: int) -> dict:
    """Omni-MATH-Rule (the rule-gradable subset of Omni-MATH): no id in the source, so a problem's id is its line
    number in the file (from 0). load_benchmark keeps the rows of the benchmark's split (omni_math_split). The
    reference is the answer without its delimiters or box (omni_math_reference); metadata keeps it as published."""
    return dict(problem_id=str(i), question=row["problem"], reference=omni_math_reference(str(row["answer"])),
                solution=row.get("solution") or "",
                metadata=json.dumps({k: v for k, v in row.items() if k not in ("problem", "solution")}, default=str,
                                    sort_keys=True))


# The paper splits Omni-MATH-Rule's 2,821 problems into a training set of 2,000 (its VeRL runs train on it) and an
# in-domain test set of 821 (its Section 4.4), and publishes neither split. This project's split, fixed here: the
# problems ranked by the sha256 of f"{OMNI_MATH_SPLIT_SEED}:{problem text}" (independent of any library's random
# generator and of the file's row order, which runs from the hardest competitions down), the first
# round(rows x 2000 / 2821) of them train (2,000 of the paper's file), the rest test; each split keeps file order.
OMNI_MATH_SPLITS = {"omni_math_train": "train", "omni_math_test": "test"}
OMNI_MATH_TRAIN_SHARE = (2000, 2821)
OMNI_MATH_SPLIT_SEED = 0


def omni_math_split(df: pd.DataFrame, split: str) -> pd.DataFrame:
    """The rows of Omni-MATH-Rule's `split` ("train" or "test"), in file order."""
    rank = sorted(range(len(df)), key=lambda i: (
        hashlib.sha256(f"{OMNI_MATH_SPLIT_SEED}:{df['question'].iloc[i]}".encode()).hexdigest(), i))
    train_rows = round(len(df) * OMNI_MATH_TRAIN_SHARE[0] / OMNI_MATH_TRAIN_SHARE[1])
    train = set(rank[:train_rows])
    keep = [(i in train) == (split == "train") for i in range(len(df))]
    return df[keep].reset_index(drop=True)
