"""HumanEval+ (v0.1.10) and MBPP+ (v0.2.0): test inputs, expected outputs and the output oracle.

Semantics follow evalplus 0.3.1 (Apache-2.0; `MBPP_*` tables and `mbpp_inputs` are taken from
evalplus/data/mbpp.py and evalplus/eval/_special_oracle.py), so that verdicts equal evalplus's:

- expected outputs come from running the canonical solution (prompt + canonical_solution) on the base
  and plus inputs, each group in a fresh module; MBPP's "output not None" tasks keep only `out is not None`;
- a program passes a test when `out == expected`, or, where `atol` is set (or the expected value is a float
  or a list/tuple of floats: atol 1e-6), when types and lengths agree and `np.allclose(out, exp, rtol=1e-7,
  atol)`; plus evalplus's special oracles (HumanEval/32 find_zero, Mbpp/164, 295, 558, 581, set-equality
  and not-None tasks);
- each test has a time limit of max(1 s, 4 x the canonical solution's time on it), on CPU time (evalplus:
  wall-clock time, which fails correct programs on a loaded machine).

Differences from evalplus 0.3.1 (measured by bench/code_vs_evalplus.py, explained in docs/code.md): find_zero
is judged by its oracle (evalplus 0.3.1 fails every find_zero program: its oracle branch skips the
progress count); programs see the standard library only.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from rlvr_eval.code.values import Unsupported, decode

log = logging.getLogger(__name__)

DATASETS = {"humanevalplus": "humaneval", "mbppplus": "mbpp"}  # benchmark -> evalplus's dataset name
MIN_TIME_LIMIT_S, TIME_LIMIT_FACTOR = 1.0, 4.0  # evalplus's DEFAULT_MIN_TIME_LIMIT, DEFAULT_GT_TIME_LIMIT_FACTOR
GROUP_TIMEOUT_CAP_S = 60.0  # evalplus's EVALPLUS_TIMEOUT_PER_TASK default

MBPP_OUTPUT_NOT_NONE_TASKS = ["check_str", "text_match_three", "text_starta_endb"]
MBPP_OUTPUT_SET_EQ_TASKS = ["similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly",
                            "larg_nnum", "intersection_array", "find_dissimilar", "Diff"]


def limits():
    """Sandbox limits for one program's base + plus run: the per-test limits decide; these only bound it
    (two groups of at most 60 s each, as evalplus, plus start-up)."""
    from rlvr_eval.code.sandbox import Limits

    return Limits(wall_s=2 * (GROUP_TIMEOUT_CAP_S + 1) + 5, cpu_s=int(2 * (GROUP_TIMEOUT_CAP_S + 1) + 5))


def program_of(dataset: str, row: dict, completion: str) -> str:
    """The program evalplus runs for a completion (HumanEval: the prompt, then the completion)."""
    return row["prompt"] + completion if dataset == "humaneval" else completion


def test_inputs(dataset: str, row: dict) -> dict[str, list]:
    """{"base": [...], "plus": [...]}: argument lists, with MBPP's tuples, sets and complex numbers restored."""
    if dataset == "mbpp":
        return {g: mbpp_inputs(row["task_id"], row[f"{g}_input"]) for g in ("base", "plus")}
    return {"base": row["base_input"], "plus": row["plus_input"]}


def time_limits(ref_seconds: list[float]) -> list[float]:
    return [max(MIN_TIME_LIMIT_S, TIME_LIMIT_FACTOR * t) for t in ref_seconds]


def expected_from_canonical(dataset: str, entry_point: str, values: list[Any]) -> list[Any]:
    if dataset == "mbpp" and entry_point in MBPP_OUTPUT_NOT_NONE_TASKS:
        return [v is not None for v in values]
    return values


class Oracle:
    """evalplus's comparison for one test group (its atol, once raised to 1e-6 for a float, stays raised)."""

    def __init__(self, dataset: str, entry_point: str, atol: float):
        self.dataset, self.entry_point, self.atol = dataset, entry_point, atol

    def passes(self, inp: list, out: Any, exp: Any) -> bool:
        try:
            return self._passes(inp, out, exp)
        except Exception:  # noqa: BLE001 - evalplus counts any exception in the comparison as a failure
            return False

    def _passes(self, inp, out, exp) -> bool:
        ep, atol = self.entry_point, self.atol
        exact = out == exp
        if self.dataset == "mbpp":
            if ep == "are_equivalent":
                exact = True
            elif ep == "sum_div":
                exact = exact or out == 0
            elif ep == "surface_Area":
                exact = exact or abs(out - _surface_area(*inp)) <= atol
            elif ep == "digit_distance_nums":
                exact = exact or out == _digit_distance_nums(*inp)
            elif ep in MBPP_OUTPUT_SET_EQ_TASKS:
                exact = set(out) == set(exp)
            elif ep in MBPP_OUTPUT_NOT_NONE_TASKS:
                exact = out == exp if isinstance(out, bool) else exp == (out is not None)
        if self.dataset == "humaneval" and ep == "find_zero":
            return bool(abs(_poly(*inp, out)) <= atol)
        if atol == 0 and _is_floats(exp):
            self.atol = atol = 1e-6
        if not exact and atol != 0:
            if type(out) is not type(exp) or isinstance(out, Unsupported):
                return False
            if isinstance(exp, (list, tuple)) and len(out) != len(exp):
                return False
            return bool(np.allclose(out, exp, rtol=1e-07, atol=atol))
        return bool(exact)


def decode_expected(encoded: list) -> list:
    return [decode(v) for v in encoded]


def _is_floats(x) -> bool:
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(i, float) for i in x)
    return False


def _surface_area(base_edge, height):  # oracle for Mbpp/581
    slant_height = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 4 * (base_edge * slant_height) / 2)


def _digit_distance_nums(num1, num2):  # oracle for Mbpp/558
    a, b = str(num1), str(num2)
    width = max(len(a), len(b))
    return sum(abs(int(x) - int(y)) for x, y in zip(a.zfill(width), b.zfill(width)))


def _poly(xs: list, x: float):  # oracle for HumanEval/32
    return sum(coeff * math.pow(x, i) for i, coeff in enumerate(xs))


def mbpp_inputs(task_id: str, inputs: list) -> list:
    """evalplus's mbpp_deserialize_inputs: JSON lists back to the tuples, sets and complex numbers of MBPP+."""
    n = int(task_id.split("/")[-1])
    if n in [2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726, 740,
             744, 809]:
        return [[tuple(lst) for lst in inp] for inp in inputs]
    if n in [63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780]:
        return [[[tuple(lst) for lst in lst_lst] for lst_lst in inp] for inp in inputs]
    if n in [75, 413, 444, 753]:
        return [[[tuple(lst) for lst in inp[0]]] + [inp[1]] for inp in inputs]
    if n in (106, 750):
        return [[inp[0]] + [tuple(inp[1])] for inp in inputs]
    if n == 115:
        return [[[set(item) if isinstance(item, list) and len(item) else {} for item in inp[0]]] for inp in inputs]
    if n == 124:
        return [(float(inp[0]), complex(inp[1])) for inp in inputs]
    if n in [250, 405, 446, 617, 720, 763, 808]:
        return [[tuple(inp[0])] + [inp[1]] for inp in inputs]
    if n in [259, 401, 445]:
        modified = [[[tuple(lst) for lst in lst_lst] for lst_lst in inp] for inp in inputs]
        return [[tuple(lst) for lst in inp] for inp in modified]
    if n == 278:
        modified = [[[tuple(item) if isinstance(item, list) else item for item in inp[0]]] for inp in inputs]
        return [[tuple(lst) for lst in inp] for inp in modified]
    if n == 307:
        return [[tuple(inp[0])] + [inp[1], inp[2]] for inp in inputs]
    if n == 722:
        return [[{key: tuple(value) for key, value in inp[0].items()}] + inp[1:] for inp in inputs]
    if n == 252:
        return [[complex(inp[0])] for inp in inputs]
    if n in [580, 615, 791]:
        def to_tuple(x):
            return tuple(to_tuple(i) for i in x) if isinstance(x, list) else x

        return [to_tuple(inp) for inp in inputs]
    return inputs


# --- expected outputs (computed once, by the workflow's code_expected_outputs rule) ------------------

def run_canonical(dataset: str, row: dict, isolation: str, wall_s: float = 600.0) -> dict:
    """Run the canonical solution on the base and plus inputs in the sandbox.

    Returns {"base": [encoded value], "base_seconds": [...], "plus": ..., "plus_seconds": ...} (values in
    the exact-type encoding of rlvr_eval.code.values, already reduced to `is not None` where evalplus does).
    """
    from rlvr_eval.code import sandbox

    inputs = test_inputs(dataset, row)
    job = {"mode": "functional", "code": row["prompt"] + row["canonical_solution"], "entry_point": row["entry_point"],
           "groups": [{"name": g, "inputs": inputs[g]} for g in ("base", "plus")]}
    r = sandbox.run(job, sandbox.Limits(wall_s=wall_s, cpu_s=int(wall_s), max_line_bytes=1 << 30), isolation)
    out: dict = {"base": [], "base_seconds": [], "plus": [], "plus_seconds": []}
    for line in r.lines:
        if line.get("kind") == "value":
            out[line["group"]].append(line["value"])
            out[line["group"] + "_seconds"].append(float(line["seconds"]))
        elif line.get("kind") == "raised" and str(line.get("error")).startswith("MemoryError"):
            # A value too large for the sandbox's memory (Mbpp/255: 1.7 million 77-tuples): no program can
            # report it either, so the test fails every program, as in evalplus, whose checking process runs
            # out of memory there. The expected value is one that equals nothing.
            log.warning("%s %s[%d]: no expected value, the canonical solution's is too large for the sandbox "
                        "(%s); every program fails this test", row["task_id"], line["group"], line["i"], line["error"])
            why = f"none: the canonical solution's value is too large ({line['error']})"
            out[line["group"]].append({"unsupported": why})
            out[line["group"] + "_seconds"].append(float(line["seconds"]))
            out.setdefault("unavailable", []).append(f"{line['group']}[{line['i']}]")
        elif line.get("kind") in ("raised", "load_error", "sandbox_error"):
            raise RuntimeError(f"{row['task_id']}: the canonical solution failed: {line}")
    for g in ("base", "plus"):
        if len(out[g]) != len(inputs[g]):
            raise RuntimeError(f"{row['task_id']}: the canonical solution returned {len(out[g])} of "
                               f"{len(inputs[g])} {g} outputs (timed out: {r.timed_out}; {r.stderr_tail[-300:]})")
        if dataset == "mbpp" and row["entry_point"] in MBPP_OUTPUT_NOT_NONE_TASKS:
            out[g] = [not (v is None) for v in out[g]]
    return out


def functional_tests(dataset: str, row: dict, expected: dict):
    """The FunctionalTests of one problem from its dataset row and its expected-output record."""
    from rlvr_eval.code.verifier import FunctionalTests

    inputs = test_inputs(dataset, row)
    limits = {g: time_limits(expected[f"{g}_seconds"]) for g in ("base", "plus")}
    return FunctionalTests(
        entry_point=row["entry_point"], groups=inputs,
        expected={g: decode_expected(expected[g]) for g in ("base", "plus")},
        limits_s=limits, oracle=lambda g: Oracle(dataset, row["entry_point"], row["atol"]),
        group_wall_s={g: min(GROUP_TIMEOUT_CAP_S, sum(limits[g])) + 1 for g in ("base", "plus")})
