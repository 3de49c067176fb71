r"""Math verdicts do not depend on the machine's load (issue 22, items 1 and 8).

The same real model outputs are graded with the project's driver twice, at the paper's 3 s deadline: on an idle
machine, then while busy loops keep every core busy 4 times over (each worker then gets about a fifth of a core).
The verdicts must be equal. With the deadline on wall-clock time they were not: a worker's first item paid for
importing sympy and its LaTeX parser, ran past 3 s under load, was killed, and its fresh replacement did the same.

The outputs are real greedy answers on gaokao2023en (../shared/data/samples/qwen_grader_gaokao2023en): those
slowest to grade symbolically (0.1-0.3 s of CPU each when warm, 10-100 times a plain number) and correct symbolic
ones, plus short answers of the `The answer is \boxed{64}` kind on the same problems' references.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager

import pandas as pd

from rlvr_eval.verify.cpu_clock import cpu_seconds
from rlvr_eval.verify.driver import verify_samples
from workflow_helpers import SHARED

LABELLED = SHARED / "data" / "samples" / "qwen_grader_gaokao2023en"
# (model, problem idx): the 16 slowest to grade with qwen_math (measured one by one in a warm process), then 7
# correct answers graded symbolically
SLOW = [("all_abla_numina_oly_orca", 27), ("Qwen2.5-Math-7B-Instruct", 181), ("Meta-Llama-3.1-8B-Instruct", 27),
        ("all_abla_numina_oly_orca", 248), ("Qwen2.5-Math-7B-Instruct", 85), ("Qwen2.5-Math-7B-Instruct", 59),
        ("Qwen2.5-Math-7B-Instruct", 27), ("all_abla_numina_oly_orca", 378), ("all_abla_numina_oly_orca", 384),
        ("Qwen2.5-Math-7B-Instruct", 61), ("all_abla_numina_oly_orca", 216), ("all_abla_numina_oly_orca", 305),
        ("all_abla_numina_oly_orca", 239), ("all_abla_numina_oly_orca", 157), ("Meta-Llama-3.1-8B-Instruct", 43),
        ("Meta-Llama-3.1-8B-Instruct", 225)]
CORRECT_SYMBOLIC = [("all_abla_numina_oly_orca", 65), ("Meta-Llama-3.1-8B-Instruct", 65),
                    ("Qwen2.5-Math-7B-Instruct", 15), ("all_abla_numina_oly_orca", 11),
                    ("Meta-Llama-3.1-8B-Instruct", 86), ("Qwen2.5-Math-7B-Instruct", 282),
                    ("Meta-Llama-3.1-8B-Instruct", 173)]
# with an integer reference (one answered wrong): also answered short, `The answer is $\boxed{80}$.`, and off by one
INTEGER = [("Qwen2.5-Math-7B-Instruct", i) for i in (2, 3, 4, 6, 35, 36, 84, 87, 88, 112, 113, 115)]
DEADLINE_S = 3.0  # the paper's
WORKERS = 2


def _samples() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = {}
    for path in LABELLED.glob("*.jsonl"):
        model = path.name.split("__")[0]
        for line in path.open():
            row = json.loads(line)
            rows[model, row["idx"]] = row
    chosen = [rows[key] for key in SLOW + CORRECT_SYMBOLIC + INTEGER]
    problems = pd.DataFrame({"problem_id": [f"{m}/{i}" for m, i in SLOW + CORRECT_SYMBOLIC + INTEGER],
                             "reference": [row["answer"] for row in chosen]})
    texts = [row["code"][0] for row in chosen]
    ids = problems["problem_id"].tolist()
    # short answers, correct and wrong, to the problems whose reference is an integer
    for pid, ref in zip(problems["problem_id"], problems["reference"]):
        if ref.lstrip("-").isdigit():
            texts += [f"The answer is $\\boxed{{{ref}}}$.", f"The answer is $\\boxed{{{int(ref) + 1}}}$."]
            ids += [pid, pid]
    samples = pd.DataFrame({"problem_id": ids, "sample_index": range(len(ids)), "text": texts})
    return samples, problems


@contextmanager
def cpu_hogs(n: int, limit_s: float):
    """`n` processes spinning on the CPU; each also stops itself after `limit_s`, should this process be killed."""
    spin = f"import time\nend = time.monotonic() + {limit_s}\nwhile time.monotonic() < end:\n    pass\n"
    hogs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(n)]
    try:
        time.sleep(0.5)  # let them start spinning
        yield hogs
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()


def _grade(samples: pd.DataFrame, problems: pd.DataFrame) -> pd.DataFrame:
    return verify_samples(samples, problems, "qwen_math", timeout_s=DEADLINE_S, workers=WORKERS,
                          benchmark="gaokao2023en")


def test_math_verdicts_are_the_same_on_an_idle_and_on_a_loaded_machine():
    samples, problems = _samples()
    started = time.monotonic()
    idle = _grade(samples, problems)
    idle_s = time.monotonic() - started

    cores = len(os.sched_getaffinity(0))
    with cpu_hogs(4 * cores, limit_s=300) as hogs:
        started = time.monotonic()
        loaded = _grade(samples, problems)
        loaded_s = time.monotonic() - started
        hog_cpu_s = sum(cpu_seconds(h.pid) or 0.0 for h in hogs)

    print(f"{len(samples)} samples: idle {idle_s:.1f} s, loaded {loaded_s:.1f} s with {4 * cores} hogs on {cores} "
          f"cores (the hogs used {hog_cpu_s / (cores * loaded_s):.0%} of the cores); statuses idle "
          f"{idle['status'].value_counts().to_dict()}, loaded {loaded['status'].value_counts().to_dict()}; "
          f"attempts loaded {loaded['attempts'].value_counts().to_dict()}")
    assert (idle["status"] != "timeout").all()  # else the comparison would prove little
    verdict = ["problem_id", "sample_index", "status", "correct", "extracted"]
    pd.testing.assert_frame_equal(loaded[verdict], idle[verdict])
    assert (loaded["attempts"] == 1).all()  # not rescued by the retry: the first deadline held under load
