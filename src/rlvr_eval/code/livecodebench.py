"""LiveCodeBench: standard-input and functional (LeetCode `class Solution`) problems, graded as
LiveCodeBench's own runner grades them (lcb_runner/evaluation/testing_util.py):

- stdin/stdout: the program's output and the expected output are compared line by line after stripping
  (trailing blank lines ignored); lines that differ still match when all their whitespace-separated tokens
  are equal as decimal numbers;
- functional: each input line is a JSON argument; `Solution().<func_name>(*args)` must equal the JSON output
  (a returned tuple counts as a list).

Time: LiveCodeBench's 6 s per-test timeout is wall-clock time there; here it is CPU time (for stdin programs,
their interpreter's start included), with an idle allowance beside it, so a loaded node gives the same verdicts.

Test sets: the mirror holds the public tests only ("public"); the hub's `livecodebench/code_generation_lite`
layout also holds `private_test_cases` (base64 of zlib of a pickled JSON string), read by
`hidden_tests` when a user has them ("public + hidden"). Every verdict file names the test set used.
"""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from decimal import Decimal, InvalidOperation

IMPORTS = ("import sys\nimport math\nimport heapq\nimport bisect\nimport collections\nimport itertools\n"
           "import functools\nfrom typing import *\nfrom collections import *\nfrom itertools import *\n"
           "from functools import *\nfrom heapq import *\nfrom bisect import *\nfrom math import *\n")


def hidden_tests(private_test_cases: str) -> list[dict]:
    """The hub's compressed hidden tests, unpickled with only plain strings allowed."""
    class _StringsOnly(pickle.Unpickler):
        def find_class(self, module, name):
            raise pickle.UnpicklingError(f"refusing {module}.{name} in LiveCodeBench hidden tests")

    raw = zlib.decompress(base64.b64decode(private_test_cases.encode()))
    import io

    return json.loads(_StringsOnly(io.BytesIO(raw)).load())


def tests_of(row: dict) -> tuple[list[dict], str]:
    """(test cases, test set name) of one problem row."""
    tests = list(row["public_test_cases"])
    if isinstance(tests, str):
        tests = json.loads(tests)
    if row.get("private_test_cases"):
        return tests + hidden_tests(row["private_test_cases"]), "public + hidden"
    return tests, "public"


def stdout_matches(output: str, expected: str) -> bool:
    got = [line.strip() for line in output.strip().split("\n")]
    want = [line.strip() for line in expected.strip().split("\n")]
    if len(got) != len(want):
        return False
    for a, b in zip(got, want):
        if a == b:
            continue
        ta, tb = a.split(), b.split()
        if len(ta) != len(tb):
            return False
        try:
            if any(Decimal(x) != Decimal(y) for x, y in zip(ta, tb)):
                return False
        except InvalidOperation:
            return False
    return True


def functional_program(code: str, func_name: str) -> str:
    """A module whose `__lcb_call__` calls the method the problem names (LeetCode's class Solution)."""
    return (IMPORTS + code + "\n\ndef __lcb_call__(*args):\n    result = Solution()." + func_name + "(*args)\n"
            "    return list(result) if isinstance(result, tuple) else result\n")


def functional_inputs(test: dict) -> list:
    return [json.loads(line) for line in test["input"].split("\n") if line.strip()]


TIMEOUT_S = 6.0  # LiveCodeBench's per-test timeout (CPU seconds here)


class _Equal:
    def passes(self, inp, out, exp):
        return out == exp


def check(code: str, row: dict, limits, isolation: str):
    """Verdict of one program on one LiveCodeBench problem row (see the module docstring)."""
    from rlvr_eval.code.verifier import FunctionalTests, StdioTests, check_functional, check_stdio

    tests, _ = tests_of(row)
    if row.get("func_name"):
        t = FunctionalTests(entry_point="__lcb_call__", groups={"tests": [functional_inputs(c) for c in tests]},
                            expected={"tests": [json.loads(c["output"]) for c in tests]},
                            limits_s={"tests": [TIMEOUT_S] * len(tests)}, oracle=lambda g: _Equal())
        return check_functional(functional_program(code, row["func_name"]), t, limits, isolation)
    t = StdioTests([c["input"] for c in tests], [c["output"] for c in tests], TIMEOUT_S, stdout_matches)
    return check_stdio(code, t, limits, isolation)
