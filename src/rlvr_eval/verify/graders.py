r"""Registry of answer graders, and the verdict schema they feed.

A grader is a plain function `grade(response: str, reference: str, benchmark: str) -> (status, extracted)`
(`benchmark` is the benchmark's name in the config, e.g. "math500"; a grader may ignore it) where
status is one of "correct", "wrong", "no_answer" and `extracted` is the answer it pulled out of the
response (or None). The verification driver runs graders in worker processes under a hard deadline of CPU time
(rlvr_eval.verify.deadline_pool: a verdict does not depend on the machine's load) and adds the statuses "timeout" (the
deadline killed the worker twice: a timeout is retried once, alone, with 4 x the deadline) and "error" (the grader
raised). A grader module may define `warmup()`, which each worker calls once before its first item.

Verdict file schema (`results/verdicts/{model}/{benchmark}/{grader}/shard-XXXX.parquet`), one row per sample:

| column       | type      | meaning                                                      |
|--------------|-----------|--------------------------------------------------------------|
| problem_id   | str       | as in the sample file                                        |
| sample_index | int       | as in the sample file                                        |
| status       | str       | correct / wrong / no_answer / timeout / error                |
| correct      | bool      | status == "correct"                                          |
| extracted    | str\|None | the answer the grader extracted                              |
| reference    | str       | the benchmark's reference answer                             |
| seconds      | float     | grading time of this sample (wall clock, all attempts)       |
| capped       | bool      | the sample's token budget was below max_new_tokens (context) |
| attempts     | int       | gradings it took: 1; 2 when a timeout was retried (the       |
|              |           | verdict is the retry's); 0 when never sent to a grader       |
|              |           | (prompt_too_long, an answer screened as pathological, and    |
|              |           | for code, a response without code)                           |

Status "prompt_too_long" marks a sample that was never generated (its prompt fills the model's context); it
counts as not correct, and the tables report how many there are.
"""

from __future__ import annotations

import importlib
from typing import Callable

import numpy as np
import pandas as pd

STATUSES = ("correct", "wrong", "no_answer", "timeout", "error", "prompt_too_long")
VERDICT_COLUMNS = ["problem_id", "sample_index", "status", "correct", "extracted", "reference", "seconds", "capped",
                   "attempts"]

# name -> "module:function"; imported lazily inside the worker processes.
GRADERS: dict[str, str] = {
    "math_verify": "rlvr_eval.verify.math_verify_grader:grade",
    "qwen_math": "rlvr_eval.verify.qwen_math_grader:grade",
    "mathvista": "rlvr_eval.verify.mathvista_grader:grade",  # MathVista's integer / precision / list rule
}

# Bump a grader's version whenever its logic changes: the workflow passes it as a rule parameter,
# so Snakemake re-verifies (and recomputes everything downstream) without resampling.
GRADER_VERSIONS: dict[str, str] = {
    "math_verify": "3",  # 3: answers in e-notation and answers identical to the reference are correct
    "qwen_math": "2",
    "mathvista": "1",
}


def get_grader(name: str) -> Callable[[str, str, str], tuple[str, str | None]]:
    module = grader_module(name)  # an unknown name raises here
    return getattr(module, GRADERS[name].split(":")[1])


def grader_module(name: str):
    """The grader's module, loaded by name: its `grade`, and for the fast path (verify.span_driver) its
    `locate_span`, `shown_answer` and `grade_span`. Never imported statically, so each grader's logic stamp
    covers its own module only (rlvr_eval.provenance.stamps)."""
    if name not in GRADERS:
        raise ValueError(f"unknown grader {name!r}; known: {', '.join(sorted(GRADERS))}")
    return importlib.import_module(GRADERS[name].split(":")[0])


def capped_mask(samples: pd.DataFrame, max_new_tokens: int | None) -> np.ndarray:
    """The `capped` column: samples whose token budget the context cut below max_new_tokens (sampling's `max_tokens`)."""
    if max_new_tokens is None or "max_tokens" not in samples:
        return np.zeros(len(samples), dtype=bool)
    budget = samples["max_tokens"].to_numpy()
    return (budget > 0) & (budget < max_new_tokens)

