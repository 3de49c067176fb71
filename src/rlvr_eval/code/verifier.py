"""Run programs against their tests in the code-execution sandbox, many at a time; one verdict each.

A verdict (`CodeVerdict`) is one of:

- "passed": every test of every group (HumanEval+/MBPP+: base, then plus) returned the expected value;
- "failed": `failure` names the first failing test ("plus[17]") and why (wrong value, raised, over its
  time limit, the program ended early, or wrote something unexpected on the result channel); time
  limits are on the test's CPU time, so a loaded machine does not turn passes into failures;
- "timeout": the whole run reached its wall-clock deadline and its process group was killed;
- "error": `failure` says why the program could not be tested (it does not load: a syntax error, no such
  function, an exit at import; or the sandbox could not be set up).

Comparison happens here, in the parent, against expected values the sandbox never sees; the first
failing test stops the run (the rest cannot change the verdict). Identical programs for the same problem
run once. At most `workers` runs at a time, never more than the machine's cores; every run is a fresh
`python` started with vfork+exec, so its cost does not depend on this process's size.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from rlvr_eval.code import sandbox
from rlvr_eval.code.values import decode


@dataclass(frozen=True)
class FunctionalTests:
    """The tests of one problem: groups of argument lists, their expected values and time limits."""

    entry_point: str
    groups: dict[str, list]  # group name -> list of argument lists, run in this order
    expected: dict[str, list]  # group name -> decoded expected values
    limits_s: dict[str, list[float]]  # group name -> per-test time limits
    oracle: Callable[[str], Any]  # group name -> object with passes(inp, out, exp) (fresh per group)
    group_wall_s: dict[str, float] = field(default_factory=dict)  # deadline of each group (sum of limits, capped)


@dataclass(frozen=True)
class CodeVerdict:
    status: str  # passed / failed / timeout / error
    failure: str | None = None
    seconds: float = 0.0
    groups_passed: tuple[str, ...] = ()
    isolation: str = ""


def check_functional(code: str, tests: FunctionalTests, limits: sandbox.Limits, isolation: str) -> CodeVerdict:
    order = list(tests.groups)
    state = {"group": None, "i": 0, "oracle": None, "failure": None, "passed": []}

    def fail(why: str) -> bool:
        state["failure"] = why
        return True

    def on_line(obj: dict):
        kind = obj.get("kind")
        if kind in ("header", "runner", "started", "finished", "runner_exit"):
            return None
        if kind == "sandbox_error":
            return True
        g, i = state["group"], state["i"]
        if kind in ("loaded", "load_error"):
            if g is not None and i < len(tests.groups[g]):
                return fail(f"{g}[{i}]: unexpected output on the result channel")
            nxt = order[len(state["passed"])] if len(state["passed"]) < len(order) else None
            if obj.get("group") != nxt:
                return fail("unexpected output on the result channel")
            if kind == "load_error":
                state["failure"] = f"load error: {obj.get('error')}"
                return True
            state.update(group=nxt, i=0, oracle=tests.oracle(nxt))
            if not tests.groups[nxt]:  # a group without tests (Mbpp/793's plus) passes once the program loads
                return group_passed(nxt)
            return _wall_limit(tests.limits_s[nxt][0])
        if g is None or obj.get("group") != g or obj.get("i") != i or kind not in ("value", "raised"):
            return fail(f"{g}[{i}]: unexpected output on the result channel")
        where = f"{g}[{i}]"
        if kind == "raised":
            return fail(f"{where}: raised {obj.get('error')}")
        if float(obj.get("seconds", 0)) > tests.limits_s[g][i]:
            return fail(f"{where}: over its {tests.limits_s[g][i]:g} s time limit")
        try:
            out = decode(obj.get("value"))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError):
            return fail(f"{where}: undecodable value")
        exp = tests.expected[g][i]
        if not state["oracle"].passes(tests.groups[g][i], out, exp):
            return fail(f"{where}: expected {_short(exp)}, got {_short(out)}")
        state["i"] = i + 1
        if state["i"] == len(tests.groups[g]):
            return group_passed(g)
        return _wall_limit(tests.limits_s[g][i + 1])

    def group_passed(g: str):
        state["passed"].append(g)
        state["group"] = None
        # the last group passed: the verdict is known, so stop the run rather than wait for its teardown
        return True if len(state["passed"]) == len(order) else math.inf

    job = {"mode": "functional", "code": code, "entry_point": tests.entry_point,
           "groups": [{"name": g, "inputs": tests.groups[g]} for g in order]}
    wall = sum(tests.group_wall_s.get(g, sum(tests.limits_s[g]) + 1) for g in order) + 2.0
    limits = sandbox.Limits(**{**limits.__dict__, "wall_s": min(limits.wall_s, wall)})
    r = sandbox.run(job, limits, isolation, on_line, keep_lines=False)
    common = dict(seconds=r.seconds, groups_passed=tuple(state["passed"]), isolation=r.isolation)
    if r.sandbox_error:
        return CodeVerdict("error", f"sandbox: {r.sandbox_error}", **common)
    if state["failure"] and state["failure"].startswith("load error"):
        return CodeVerdict("error", state["failure"], **common)
    if state["failure"]:
        return CodeVerdict("failed", state["failure"], **common)
    if len(state["passed"]) == len(order):
        return CodeVerdict("passed", None, **common)
    where = f"{state['group']}[{state['i']}]" if state["group"] else "before its tests"
    if r.line_timeout:
        g, i = state["group"], state["i"]
        return CodeVerdict("failed", f"{where}: over its {tests.limits_s[g][i]:g} s time limit", **common)
    if r.timed_out:
        return CodeVerdict("timeout", f"killed at the {limits.wall_s:g} s deadline at {where}", **common)
    if r.output_overflow:
        return CodeVerdict("failed", f"{where}: a value of more than {limits.max_line_bytes} bytes", **common)
    return CodeVerdict("failed", f"{where}: the program ended before this test ({r.stderr_tail[-200:].strip()})",
                       **common)


def run_many(tasks: Sequence[tuple[str, Any]], check: Callable[[str, Any], CodeVerdict], workers: int,
             on_result: Callable[[int, CodeVerdict], None] | None = None) -> list[CodeVerdict]:
    """check(code, tests) for each (code, tests) task, at most `workers` (<= cores) at a time.

    Tasks with the same code and the same tests object (the same problem) run once.
    """
    workers = max(1, min(workers, os.cpu_count() or 1))
    keys = [(code, id(tests)) for code, tests in tasks]
    first: dict = {}
    for k, task in zip(keys, tasks):
        first.setdefault(k, task)
    unique = list(first)
    results: dict = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(check, *first[k]): k for k in unique}
        for n, (future, k) in enumerate(futures.items()):
            results[k] = future.result()
            if on_result is not None:
                on_result(n, results[k])
    return [results[k] for k in keys]


def _wall_limit(cpu_limit_s: float) -> sandbox.Within:
    """Per-test limits are on CPU time (as reported by the harness). A test still running when it has used
    its limit plus `CPU_SLACK_S` of CPU time (an endless loop) is stopped then; one that does not report within
    2 x limit + 1 s of wall-clock time (sleeping, blocked, or the machine loaded beyond reason) too. Both fail
    as over the limit, which the reported time would say anyway."""
    return sandbox.Within(wall_s=2 * cpu_limit_s + 1.0, cpu_s=cpu_limit_s + CPU_SLACK_S)


CPU_SLACK_S = 0.5  # the runner's CPU time between its stamp and the next test's start (writing the line)


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class StdioTests:
    """Standard-input tests: the program runs once per input; `matches(output, expected)` judges its stdout."""

    inputs: list[str]
    outputs: list[str]
    per_test_timeout_s: float
    matches: Callable[[str, str], bool]


def check_stdio(code: str, tests: StdioTests, limits: sandbox.Limits, isolation: str) -> CodeVerdict:
    state = {"i": 0, "failure": None}

    def on_line(obj: dict):
        kind, i = obj.get("kind"), state["i"]
        if kind in ("header", "runner", "started", "finished", "runner_exit"):
            return None
        if kind == "sandbox_error":
            return True
        if obj.get("i") != i:
            state["failure"] = f"test[{i}]: unexpected output on the result channel"
            return True
        if kind == "test_timeout":
            state["failure"] = f"test[{i}]: over its {tests.per_test_timeout_s:g} s time limit"
        elif kind != "stdout":
            state["failure"] = f"test[{i}]: {obj.get('error', 'unexpected output on the result channel')}"
        elif obj.get("returncode") != 0:
            state["failure"] = f"test[{i}]: exit code {obj.get('returncode')}: {str(obj.get('stderr', ''))[-200:]}"
        elif not tests.matches(str(obj.get("stdout", "")), tests.outputs[i]):
            state["failure"] = f"test[{i}]: expected {_short(tests.outputs[i])}, got {_short(obj.get('stdout'))}"
        if state["failure"]:
            return True
        state["i"] = i + 1
        return None

    job = {"mode": "stdio", "code": code, "stdin": list(tests.inputs), "per_test_timeout_s": tests.per_test_timeout_s}
    wall = len(tests.inputs) * (tests.per_test_timeout_s + 0.5) + 2.0
    limits = sandbox.Limits(**{**limits.__dict__, "wall_s": min(limits.wall_s, wall)})
    r = sandbox.run(job, limits, isolation, on_line, keep_lines=False)
    common = dict(seconds=r.seconds, isolation=r.isolation)
    if r.sandbox_error:
        return CodeVerdict("error", f"sandbox: {r.sandbox_error}", **common)
    if state["failure"]:
        return CodeVerdict("failed", state["failure"], **common)
    if state["i"] == len(tests.inputs):
        return CodeVerdict("passed", None, groups_passed=("tests",), **common)
    if r.timed_out:
        return CodeVerdict("timeout", f"killed at the {limits.wall_s:g} s deadline at test[{state['i']}]", **common)
    return CodeVerdict("failed", f"test[{state['i']}]: the run ended before this test", **common)
