"""Run programs against their tests in the code-execution sandbox, many at a time; one verdict each.

A verdict (`CodeVerdict`) is one of:

- "passed": every test of every group (HumanEval+/MBPP+: base, then plus) returned the expected value;
- "failed": `failure` names the first failing test ("plus[17]") and why (wrong value, raised, over its
  time limit, idle too long, the program ended early, or wrote something unexpected on the result channel),
  or says that loading the program went over its group's CPU budget;
- "timeout": the whole run reached its wall-clock deadline (a backstop) and its process group was killed;
- "error": `failure` says why the program could not be tested (it does not load: a syntax error, no such
  function, an exit at import; or the sandbox could not be set up).

Time limits are on CPU time, read from outside the program (rlvr_eval.code.sandbox stamps every line with the
runner's CPU time from /proc), so a loaded machine does not turn passes into failures and a program cannot
under-report its time (patching its own clocks changes nothing): each test's CPU time (its call and the
encoding of its value; for a standard-input program, its whole process) against its limit, and each group's
(loading the program, then its tests) against the group's budget, evalplus's per-task timeout, min(60 s, sum of
the limits) + 1 s. Idle time (sleeping, blocked) is bounded separately, as a stall guard.

Comparison happens here, in the parent, against expected values the sandbox never sees; the first
failing test stops the run (the rest cannot change the verdict). Identical programs for the same problem
run once. At most `workers` runs at a time, never more than the machine's cores; every run is a fresh
`python` started with vfork+exec, so its cost does not depend on this process's size.
"""

from __future__ import annotations

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
    group_wall_s: dict[str, float] = field(default_factory=dict)  # CPU budget per group (default: sum of limits + 1)

    def budget_s(self, group: str) -> float:
        """CPU seconds for loading the program and running the group's tests (the name is evalplus's: its
        per-task timeout, wall-clock there)."""
        if group in self.group_wall_s:
            return self.group_wall_s[group]
        return sum(self.limits_s[group]) + 1.0


@dataclass(frozen=True)
class CodeVerdict:
    status: str  # passed / failed / timeout / error
    failure: str | None = None
    seconds: float = 0.0
    groups_passed: tuple[str, ...] = ()
    isolation: str = ""


def check_functional(code: str, tests: FunctionalTests, limits: sandbox.Limits, isolation: str) -> CodeVerdict:
    order = list(tests.groups)
    budget = {g: tests.budget_s(g) for g in order}
    # since: the CPU stamp where the current step began (loading or a test); group_start: where its group began
    state = {"group": None, "i": 0, "oracle": None, "failure": None, "passed": [], "since": None, "group_start": None,
             "awaiting": "loading"}

    def fail(why: str) -> bool:
        state["failure"] = why
        return True

    def next_step(stamp: float | None, group: str, limit_s: float | None) -> sandbox.Within:
        """The allowance for the step now starting (a test with `limit_s`, or loading the group's program)."""
        state["since"] = stamp
        used = 0.0 if stamp is None or state["group_start"] is None else stamp - state["group_start"]
        left = budget[group] - used
        if limit_s is None or left < limit_s:
            state["awaiting"] = f"the {budget[group]:g} s CPU budget of group {group}"
            return sandbox.Within(cpu_s=max(left, 0.0), idle_s=_idle_allowance(tests.limits_s[group][0]
                                                                                if tests.limits_s[group] else 1.0))
        state["awaiting"] = f"its {limit_s:g} s time limit"
        return sandbox.Within(cpu_s=limit_s, idle_s=_idle_allowance(limit_s))

    def over(stamp: float | None, limit_s: float, group: str, where: str, reported_s: float) -> str | None:
        """Why the step that ended at `stamp` took too long, or None."""
        if stamp is None or state["since"] is None:  # no /proc: the runner's own clock is all there is
            return f"{where}: over its {limit_s:g} s time limit" if reported_s > limit_s else None
        if stamp - state["since"] > limit_s:
            return f"{where}: {stamp - state['since']:.2f} s of CPU time, over its {limit_s:g} s time limit"
        if state["group_start"] is not None and stamp - state["group_start"] > budget[group]:
            return f"{where}: over the {budget[group]:g} s CPU budget of group {group}"
        return None

    def on_line(obj: dict):
        kind, stamp = obj.get("kind"), obj.get("cpu")
        if kind in ("header", "runner", "finished", "runner_exit"):
            return None
        if kind == "started":  # loading the first group's program begins
            state["group_start"] = stamp
            return next_step(stamp, order[0], None) if order else None
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
            if stamp is not None and state["group_start"] is not None and \
                    stamp - state["group_start"] > budget[nxt]:
                return fail(f"loading the program for group {nxt}: {stamp - state['group_start']:.2f} s of CPU time, "
                            f"over the group's {budget[nxt]:g} s CPU budget")
            state.update(group=nxt, i=0, oracle=tests.oracle(nxt))
            if not tests.groups[nxt]:  # a group without tests (Mbpp/793's plus) passes once the program loads
                return group_passed(nxt, stamp)
            return next_step(stamp, nxt, tests.limits_s[nxt][0])
        if g is None or obj.get("group") != g or obj.get("i") != i or kind not in ("value", "raised"):
            return fail(f"{g}[{i}]: unexpected output on the result channel")
        where = f"{g}[{i}]"
        if kind == "raised":
            return fail(f"{where}: raised {obj.get('error')}")
        if (why := over(stamp, tests.limits_s[g][i], g, where, float(obj.get("seconds", 0)))) is not None:
            return fail(why)
        try:
            out = decode(obj.get("value"))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError):
            return fail(f"{where}: undecodable value")
        exp = tests.expected[g][i]
        if not state["oracle"].passes(tests.groups[g][i], out, exp):
            return fail(f"{where}: expected {_short(exp)}, got {_short(out)}")
        state["i"] = i + 1
        if state["i"] == len(tests.groups[g]):
            return group_passed(g, stamp)
        return next_step(stamp, g, tests.limits_s[g][i + 1])

    def group_passed(g: str, stamp: float | None):
        state["passed"].append(g)
        state["group"] = None
        if len(state["passed"]) == len(order):
            return True  # the verdict is known: stop the run rather than wait for its teardown
        state["group_start"] = stamp  # the next group's program loads from here
        return next_step(stamp, order[len(state["passed"])], None)

    job = {"mode": "functional", "code": code, "entry_point": tests.entry_point,
           "groups": [{"name": g, "inputs": tests.groups[g]} for g in order]}
    # the wall-clock deadline is only a backstop: CPU budgets and idle allowances end every step before it
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
    where = f"{state['group']}[{state['i']}]" if state["group"] else "loading the program"
    if r.line_timeout and r.stalled:
        return CodeVerdict("failed", f"{where}: idle (sleeping or blocked) too long", **common)
    if r.line_timeout:
        return CodeVerdict("failed", f"{where}: over {state['awaiting']}", **common)
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


def _idle_allowance(limit_s: float) -> float:
    """Idle seconds (sleeping, blocked) a step may spend once its CPU allowance's worth of wall-clock time has
    passed: as long as its limit, plus a second. Waiting for a CPU is not idle, so a loaded machine trips nothing."""
    return limit_s + 1.0


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class StdioTests:
    """Standard-input tests: the program runs once per input, within `limit_s` seconds of CPU time each (its
    interpreter's start included); `matches(output, expected)` judges its stdout."""

    inputs: list[str]
    outputs: list[str]
    limit_s: float
    matches: Callable[[str, str], bool]


def check_stdio(code: str, tests: StdioTests, limits: sandbox.Limits, isolation: str) -> CodeVerdict:
    # since: the CPU stamp where the current test began (the runner's previous line)
    state = {"i": 0, "failure": None, "since": None}
    within = sandbox.Within(cpu_s=tests.limit_s, idle_s=_idle_allowance(tests.limit_s))

    def on_line(obj: dict):
        kind, i, stamp = obj.get("kind"), state["i"], obj.get("cpu")
        if kind in ("header", "runner", "finished", "runner_exit"):
            return None
        if kind == "started":
            state["since"] = stamp
            return within if tests.inputs else None
        if kind == "sandbox_error":
            return True
        if obj.get("i") != i:
            state["failure"] = f"test[{i}]: unexpected output on the result channel"
        elif stamp is not None and state["since"] is not None and stamp - state["since"] > tests.limit_s:
            state["failure"] = (f"test[{i}]: {stamp - state['since']:.2f} s of CPU time, "
                                f"over its {tests.limit_s:g} s time limit")
        elif kind != "stdout":
            state["failure"] = f"test[{i}]: {obj.get('error', 'unexpected output on the result channel')}"
        elif obj.get("returncode") != 0:
            state["failure"] = f"test[{i}]: exit code {obj.get('returncode')}: {str(obj.get('stderr', ''))[-200:]}"
        elif not tests.matches(str(obj.get("stdout", "")), tests.outputs[i]):
            state["failure"] = f"test[{i}]: expected {_short(tests.outputs[i])}, got {_short(obj.get('stdout'))}"
        if state["failure"]:
            return True
        state["i"], state["since"] = i + 1, stamp
        return within if state["i"] < len(tests.inputs) else None

    job = {"mode": "stdio", "code": code, "stdin": list(tests.inputs)}
    # the wall-clock deadline is only a backstop: each test's CPU and idle allowances end it before, under any load
    wall = limits.wall_s + 2 * len(tests.inputs) * (within.cpu_s + within.idle_s)
    limits = sandbox.Limits(**{**limits.__dict__, "wall_s": wall})
    r = sandbox.run(job, limits, isolation, on_line, keep_lines=False)
    common = dict(seconds=r.seconds, isolation=r.isolation)
    if r.sandbox_error:
        return CodeVerdict("error", f"sandbox: {r.sandbox_error}", **common)
    if state["failure"]:
        return CodeVerdict("failed", state["failure"], **common)
    if state["i"] == len(tests.inputs):
        return CodeVerdict("passed", None, groups_passed=("tests",), **common)
    where = f"test[{state['i']}]"
    if r.line_timeout and r.stalled:
        return CodeVerdict("failed", f"{where}: idle (sleeping or blocked) too long", **common)
    if r.line_timeout:
        return CodeVerdict("failed", f"{where}: over its {tests.limit_s:g} s time limit", **common)
    if r.timed_out:
        return CodeVerdict("timeout", f"killed at the {limits.wall_s:g} s deadline at {where}", **common)
    return CodeVerdict("failed", f"{where}: the run ended before this test", **common)
