"""Known dataset quirks that change verdicts, and the samples whose verdict they change.

A quirk is an input that a benchmark's file stores differently from the original test it was taken from.
HumanEval+ (v0.1.10) keeps HumanEval/95's original input {"p": "pineapple", 5: "banana", "a": "apple"} with the key
"5" as a string (JSON object keys are strings), so a program that crashes on a non-string key passes HumanEval+ and
fails the original HumanEval test.

The verdicts stay the benchmark's own (what evalplus reports, and what the paper's numbers count). Each passing
sample of an affected problem is also run on the original input; those it fails are listed in the verdict file's
metadata (`dataset_quirks`) and the job log, so a reader sees which passes rest on the quirk.
"""

from __future__ import annotations

from dataclasses import dataclass

from rlvr_eval.code import evalplus_tests
from rlvr_eval.code.verifier import FunctionalTests, check_functional


@dataclass(frozen=True)
class Quirk:
    benchmark: str
    problem_id: str
    note: str
    original_inputs: tuple  # argument lists of the original test
    original_expected: tuple  # the original test's expected values


QUIRKS = (
    Quirk("humanevalplus", "HumanEval/95",
          "HumanEval+ stores the original input's integer key 5 as the string '5' (JSON object keys): the original "
          "HumanEval test calls check_dict_case({'p': 'pineapple', 5: 'banana', 'a': 'apple'})",
          original_inputs=([{"p": "pineapple", 5: "banana", "a": "apple"}],), original_expected=(False,)),
)


def quirks_of(benchmark: str) -> dict[str, Quirk]:
    return {q.problem_id: q for q in QUIRKS if q.benchmark == benchmark}


def changed_verdicts(benchmark: str, passing: list[tuple[str, int, str]], rows: dict[str, dict], limits,
                     isolation: str) -> list[dict]:
    """The passing samples (problem_id, sample_index, program) of quirk problems that the original input fails."""
    quirks = quirks_of(benchmark)
    dataset = evalplus_tests.DATASETS.get(benchmark)
    found = []
    for pid, index, program in passing:
        quirk = quirks.get(pid)
        if quirk is None:
            continue
        row = rows[pid]
        n = len(quirk.original_inputs)
        tests = FunctionalTests(
            entry_point=row["entry_point"], groups={"original": list(quirk.original_inputs)},
            expected={"original": list(quirk.original_expected)}, limits_s={"original": [1.0] * n},
            oracle=lambda g, row=row: evalplus_tests.Oracle(dataset, row["entry_point"], row["atol"]))
        verdict = check_functional(program, tests, limits, isolation)
        if verdict.status != "passed":
            found.append({"problem_id": pid, "sample_index": int(index), "quirk": quirk.note,
                          "original_test": f"{verdict.status}: {verdict.failure or ''}".strip()})
    return found
