r"""Answer verification: the math-verify grader, the deadline sandbox, and the verdict driver.

Real math-verify, real worker processes. The sandbox tests use standard-library functions as the
"grader" (sum(range(10**12)) spins the CPU for hours, time.sleep stalls without using it, math.sqrt(-1)
raises, os._exit kills its process), named like any grader in rlvr_eval.verify.graders.GRADERS: "module:function".
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from rlvr_eval.io import read_parquet, read_parquet_metadata, sha256_file, write_parquet
from rlvr_eval.verify.driver import verify_samples, verify_shard
from rlvr_eval.verify.graders import GRADER_VERSIONS, VERDICT_COLUMNS
from rlvr_eval.verify.math_verify_grader import grade
from rlvr_eval.verify.deadline_pool import RETRY_FACTOR, WorkerPool, WorkerStartupError, run_with_deadline

REPO = Path(__file__).resolve().parents[1]
# Hangs math-verify's verify() (sympy tries to evaluate the tower) past any signal.alarm.
POWER_TOWER = r"So the result is $\boxed{5^{5^{5^{5^{5}}}}}$."
STARTUP_SLACK_S = 60  # spawning workers and importing sympy on a busy 2-core machine


# --- grader -------------------------------------------------------------------------------------

@pytest.mark.parametrize("response, reference, status, extracted", [
    ("16 - 3 - 4 = 9 eggs, and 9 * 2 = 18.\nSo she makes $\\boxed{18}$ dollars.", "18", "correct", "18"),
    ("The probability is $\\boxed{0.5}$.", "\\frac{1}{2}", "correct", None),  # equivalence, not string equality
    ("Therefore $x = \\frac{2}{4}$, i.e. \\boxed{\\frac{2}{4}}", "0.5", "correct", None),
    ("So the answer is \\boxed{17}.", "18", "wrong", "17"),
    ("I am not sure how to solve this problem.", "18", "no_answer", None),
    ("", "18", "no_answer", None),
    # MATH500 (precalculus/807): the reference is a tuple written with \left( \right).
    ("In polar coordinates the point is $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}$.",
     "\\left( 3, \\frac{\\pi}{2} \\right)", "correct", None),
    ("The point is $\\boxed{(3, \\frac{\\pi}{2})}$.", "\\left( 3, \\frac{\\pi}{2} \\right)", "correct", None),
    ("The point is $\\boxed{(3, \\pi)}$.", "\\left( 3, \\frac{\\pi}{2} \\right)", "wrong", None),
    ("The point is $\\boxed{3}$.", "\\left( 3, \\frac{\\pi}{2} \\right)", "wrong", "3"),
    # GSM8K few-shot style and the "answer is" phrase: the final number, not earlier ones.
    ("She makes 9 * 2 = $<<9*2=18>>18 every day.\nA: 18", "18", "correct", "18"),
    ("She sells 13 eggs for $2 each. The answer is 26.", "18", "wrong", "26"),
    # DAPO template: the last line is "Answer: …".
    ("We have 3 cases and 6 sub-cases, so 3 * 6 = 18.\nAnswer: 18", "18", "correct", "18"),
    ("Hence the total is 3 + 4 + 20 = 27 dollars.\n\nAnswer: $27$", "27", "correct", "27"),
    # The boxed answer wins over numbers written after it.
    ("\\boxed{18}\nI double-checked this with 2 other methods.", "18", "correct", "18"),
])
def test_grade_examples(response, reference, status, extracted):
    got_status, got_extracted = grade(response, reference)
    assert got_status == status, (response, reference, got_extracted)
    if extracted is not None:
        assert got_extracted == extracted


@pytest.mark.parametrize("benchmark", ["math500", "minerva_math"])  # minerva_math: 58 references in e-notation
def test_every_reference_is_graded_equal_to_itself(mirror, benchmark):
    """The reference parsing holds over a whole real benchmark: each answer, boxed, is correct."""
    from rlvr_eval.data.benchmarks import load_benchmark

    problems, _ = load_benchmark(benchmark, mirror)
    failures = [ref for ref in problems["reference"] if grade(f"The answer is $\\boxed{{{ref}}}$.", ref)[0] != "correct"]
    assert failures == []


# Known math-verify faults seen on real outputs (docs/verification.md, "Graders"): each pinned here, so that a
# math-verify upgrade that fixes or changes one shows up.

def test_math_verify_fault_scientific_notation_is_worked_around_in_references():
    # math-verify alone reads "1e-3" as e - 3 (Euler's number) ...
    import sympy
    from math_verify import parse

    assert sympy.simplify(parse("$1e-3$")[0] - (sympy.E - 3)) == 0
    # ... so references in that form are rewritten as 1\times 10^{-3}
    assert grade("$\\boxed{0.001}$", "1e-3")[0] == "correct"
    assert grade("$\\boxed{e-3}$", "1e-3")[0] == "wrong"
    # ... and a response written 1e-3 is compared as the number it is
    assert grade("$\\boxed{1e-3}$", "0.001")[0] == "correct"


@pytest.mark.parametrize("response, reference, status", [
    # Minerva references in e-notation, answered in the same notation (math-verify alone: all "wrong")
    ("\\boxed{3.89e-10}", "3.89e-10", "correct"),
    ("\\boxed{2.45e6}", "2.45e6", "correct"),
    ("\\boxed{1.70e4}", "1.70e4", "correct"),
    ("\\boxed{2.55e-10}", "2.55e-10", "correct"),
    ("The wavelength is $\\boxed{3.89e-10 \\text{ m}}$.", "3.89e-10", "correct"),  # units dropped by math-verify
    # other spellings of the same number
    ("\\boxed{3.89 \\times 10^{-10}}", "3.89e-10", "correct"),
    ("\\boxed{3.890e-10}", "3.89e-10", "correct"),
    ("\\boxed{3.89E-10}", "3.89e-10", "correct"),
    ("\\boxed{2.45e6}", "2450000", "correct"),
    ("\\boxed{-2.45e+6}", "-2.45e6", "correct"),
    ("\\boxed{3.89e-10}", "3.89 \\times 10^{-10}", "correct"),
    # a different number stays wrong, however small both are
    ("\\boxed{3.9e-10}", "3.89e-10", "wrong"),
    ("\\boxed{1e-10}", "5e-10", "wrong"),
    ("\\boxed{2.45e6}", "2.45 \\times 10^{7}", "wrong"),
])
def test_an_answer_in_e_notation_is_read_as_a_number(response, reference, status):
    assert grade(response, reference)[0] == status


def test_math_verify_fault_m_and_c_stripped_from_references_as_units():
    # "37m" and "5c" lose the variable: a bare number is then "correct" (not worked around)
    assert grade("\\boxed{37}", "37m")[0] == "correct"
    assert grade("\\boxed{5}", "5c")[0] == "correct"
    assert grade("\\boxed{\\frac{37}{4}}", "\\frac{37}{4}m")[0] == "correct"
    assert grade("\\boxed{\\frac{37}{4}}", "\\frac{37m}{4}")[0] == "wrong"  # inside a fraction it stays


def test_math_verify_fault_subscripts_compared_as_strings():
    # E_{1} is not parsed to sympy: identical spellings match, E_1 vs E_{1} is rejected
    assert grade("\\boxed{E_{1}}", "E_{1}")[0] == "correct"
    assert grade("\\boxed{E_1}", "E_{1}")[0] == "wrong"


def test_math_verify_fault_a_broken_span_is_extracted_as_an_answer():
    # "\\lambda_{" (unclosed) is taken as the answer rather than counted as no answer
    assert grade("The answer is $\\lambda_{$", "\\lambda") == ("wrong", "\\lambda_{")


def test_unreadable_reference_is_an_error_not_a_wrong_answer():
    with pytest.raises(ValueError, match="reference answer ''"):
        grade("\\boxed{1}", "")


# --- sandbox ------------------------------------------------------------------------------------

def test_sandbox_returns_values_and_errors_in_input_order():
    outcomes = run_with_deadline("math:sqrt", [(16,), (-1,), (9,), ("x",)], workers=2, timeout_s=STARTUP_SLACK_S)
    assert [o.status for o in outcomes] == ["ok", "error", "ok", "error"]
    assert [o.value for o in outcomes] == [4.0, None, 3.0, None]
    assert outcomes[1].error == "ValueError: math domain error"
    assert outcomes[3].error.startswith("TypeError")


SPIN = (range(10**12),)  # builtins:sum over it: hours of CPU in C code, constant memory


def test_sandbox_kills_an_item_at_its_cpu_deadline_and_retries_it_once_alone():
    timeout_s = 0.5
    with WorkerPool("builtins:sum", workers=2, timeout_s=timeout_s, retry_factor=3) as pool:
        finished = []
        outcomes = pool.map([(range(10),), SPIN, (range(100),), (range(1000),)], lambda i, o: finished.append(i))
        assert [o.status for o in outcomes] == ["ok", "timeout", "ok", "ok"]
        assert finished[-1] == 1  # the retry ran after the other items
        assert [o.value for o in outcomes] == [45, None, 4950, 499500]
        assert [o.attempts for o in outcomes] == [1, 2, 1, 1]
        assert pool.workers_lost == 2 and pool.retried == 1 and pool.rescued == 0
    # both attempts ran to their deadline of CPU time (0.5 s, then 3 x 0.5 s), measured from outside the worker
    assert 2.0 <= outcomes[1].cpu_seconds < 2.0 + 0.5
    assert outcomes[1].seconds >= outcomes[1].cpu_seconds - 0.1
    assert "1.5 s deadline" in outcomes[1].error


def test_sandbox_an_item_slower_than_its_deadline_finishes_in_the_retry():
    n = 2 * 10**7
    start = time.process_time()
    expected = sum(range(n))
    cpu_s = time.process_time() - start  # about what the item costs a worker
    with WorkerPool("builtins:sum", workers=2, timeout_s=cpu_s / 2, retry_factor=4) as pool:
        outcomes = pool.map([(range(n),), (range(3),)])
        assert pool.retried == 1 and pool.rescued == 1
    assert [(o.status, o.value, o.attempts) for o in outcomes] == [("ok", expected, 2), ("ok", 3, 1)]


def test_sandbox_kills_a_stalled_item_at_the_wall_clock_backstop():
    # time.sleep uses no CPU: only the backstop (by default max(10 x deadline, 60 s)) stops it
    with WorkerPool("time:sleep", workers=1, timeout_s=0.1, retry_factor=None, stall_s=1.0) as pool:
        outcomes = pool.map([(0.01,), (3600,), (0,)])
    assert [o.status for o in outcomes] == ["ok", "timeout", "ok"]
    assert outcomes[1].attempts == 1 and outcomes[1].error.startswith("stalled")
    assert 1.0 <= outcomes[1].seconds < 1.0 + 2


def test_sandbox_deadline_is_cpu_time_so_waiting_for_the_cpu_costs_nothing():
    # 0.3 s of wall-clock sleep against a 0.1 s deadline: no CPU used, so no timeout
    outcomes = run_with_deadline("time:sleep", [(0.3,), (0.3,)], workers=1, timeout_s=0.1)
    assert [(o.status, o.attempts) for o in outcomes] == [("ok", 1), ("ok", 1)]
    assert all(o.seconds >= 0.3 and o.cpu_seconds < 0.1 for o in outcomes)


def test_sandbox_workers_warm_up_before_their_first_item(tmp_path, monkeypatch):
    """The function's module's `warmup(*warmup_args)` runs once per worker, before any deadline starts."""
    (tmp_path / "warm_mod.py").write_text(textwrap.dedent("""
        import os
        WARM = []
        def warmup(tag):
            WARM.append((tag, os.getpid()))
        def warmed(_):
            return list(WARM)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned workers inherit the parent's sys.path
    outcomes = run_with_deadline("warm_mod:warmed", [(0,), (1,)], workers=1, timeout_s=5, warmup_args=("hot",))
    assert [o.value for o in outcomes] == [[("hot", outcomes[0].value[0][1])]] * 2  # once, in the one worker
    assert run_with_deadline("warm_mod:warmed", [(0,)], workers=1, timeout_s=5, warmup_args=None)[0].value == []


def test_a_failing_warmup_fails_the_pool_at_startup():
    # span_grader.warmup of an unknown grader raises: no item is graded by a worker that could not warm up
    with pytest.raises(WorkerStartupError, match="warm up.*unknown grader"):
        run_with_deadline("rlvr_eval.verify.span_grader:grade_item", [("nope", "full", "1", "1", "")], workers=1,
                          timeout_s=5, warmup_args=(("nope",),))


def test_sandbox_worker_death_is_an_error_for_that_item_only():
    outcomes = run_with_deadline("os:_exit", [(3,)], workers=1, timeout_s=STARTUP_SLACK_S)
    assert outcomes[0].status == "error" and "exit code 3" in outcomes[0].error


def test_sandbox_unknown_function_fails_at_startup():
    with pytest.raises(WorkerStartupError, match="no_such_module"):
        run_with_deadline("no_such_module:grade", [("a", "b")], workers=1, timeout_s=5)


def test_sandbox_from_an_unguarded_top_level_script(tmp_path):
    """Snakemake runs rule scripts as __main__ without an `if __name__ == "__main__"` guard; the
    spawned workers must not re-run the script (they would recurse and fail to start)."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        from rlvr_eval.verify.deadline_pool import run_with_deadline
        print([o.value for o in run_with_deadline("math:sqrt", [(4,), (25,)], workers=2, timeout_s=60)])
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[2.0, 5.0]"


# --- driver -------------------------------------------------------------------------------------

PROBLEMS = pd.DataFrame({
    "problem_id": ["p0", "p1", "p2"],
    "question": ["…", "…", "…"],
    "reference": ["18", "\\frac{1}{2}", "\\left( 3, \\frac{\\pi}{2} \\right)"],
})


def test_verify_samples_schema_and_statuses():
    samples = pd.DataFrame({
        "problem_id": ["p1", "p0", "p0", "p2", "p0", "p0"],
        "sample_index": [0, 0, 1, 0, 2, 3],
        "text": ["\\boxed{\\frac{2}{4}}", "\\boxed{18}", "no idea", "\\boxed{(3, \\pi)}", "\\boxed{18}", "A: 19"],
        "num_tokens": [5] * 6,
        "finish_reason": ["stop"] * 6,
    })
    verdicts = verify_samples(samples, PROBLEMS, "math_verify", timeout_s=STARTUP_SLACK_S, workers=2)
    assert list(verdicts.columns) == VERDICT_COLUMNS
    assert verdicts["problem_id"].tolist() == samples["problem_id"].tolist()
    assert verdicts["sample_index"].tolist() == samples["sample_index"].tolist()
    assert verdicts["status"].tolist() == ["correct", "correct", "no_answer", "wrong", "correct", "wrong"]
    assert verdicts["correct"].tolist() == [True, True, False, False, True, False]
    assert verdicts["extracted"].tolist()[:3] == ["\\frac{2}{4}", "18", None]
    assert verdicts["reference"].tolist()[:2] == ["\\frac{1}{2}", "18"]
    assert str(verdicts["sample_index"].dtype) == "int64" and verdicts["correct"].dtype == bool
    assert verdicts["seconds"].dtype == "float64" and (verdicts["seconds"] >= 0).all()
    assert verdicts["attempts"].dtype == "int64" and verdicts["attempts"].tolist() == [1] * 6


# Not screened as pathological (99999 is below the factorial screen), yet sympy's double factorial outlives
# any deadline: the fast path grades it under the deadline too.
UNSCREENED_HANG = r"So the result is $\boxed{(99999)!!}$."


@pytest.mark.parametrize("fast, hanging", [(False, POWER_TOWER), (True, UNSCREENED_HANG)])
def test_verify_samples_times_out_a_hanging_grader_and_keeps_the_rest(fast, hanging):
    timeout_s = 1.0
    samples = pd.DataFrame({
        "problem_id": ["p0", "p0", "p1"],
        "sample_index": [0, 1, 0],
        "text": ["\\boxed{18}", hanging, "\\boxed{1/2}"],
    })
    started = time.monotonic()
    verdicts = verify_samples(samples, PROBLEMS, "math_verify", timeout_s=timeout_s, workers=2, fast=fast)
    assert verdicts["status"].tolist() == ["correct", "timeout", "correct"]
    assert verdicts["attempts"].tolist() == [1, 2, 1]  # the timeout was retried once, with 4 x the deadline
    # CPU seconds, so about as many wall seconds at least (less a clock tick per attempt: /proc counts in 10 ms)
    assert verdicts["seconds"][1] >= (1 + RETRY_FACTOR) * timeout_s - 0.05
    assert verdicts["extracted"][1] is None
    assert time.monotonic() - started < (1 + RETRY_FACTOR) * timeout_s + STARTUP_SLACK_S


@pytest.mark.parametrize("grader", ["math_verify", "qwen_math"])
def test_fast_path_screens_power_towers_and_huge_factorials_without_a_deadline(grader):
    samples = pd.DataFrame({
        "problem_id": ["p0"] * 3,
        "sample_index": [0, 1, 2],
        "text": [POWER_TOWER, "Hence $\\boxed{(10^{10})!}$.", "A: 18"],
    })
    verdicts = verify_samples(samples, PROBLEMS, grader, timeout_s=STARTUP_SLACK_S, workers=1)
    assert verdicts["status"].tolist() == ["wrong", "wrong", "correct"]
    assert verdicts["seconds"][:2].tolist() == [0.0, 0.0]  # never sent to a worker
    assert verdicts["attempts"].tolist() == [0, 0, 1]


def test_fast_path_grades_a_long_degenerate_output_by_its_last_box():
    # 100 KB of a looping output ending in hundreds of boxes: graded as "\boxed{3}" alone, at once
    looping = "Let me re-check: 16 - 3 - 4 = 9 eggs.\n" * 1500 + "So the answer is \\boxed{3}. " * 500
    samples = pd.DataFrame({"problem_id": ["p0", "p0"], "sample_index": [0, 1],
                            "text": [looping, looping.replace("boxed{3}", "boxed{18}")]})
    verdicts = verify_samples(samples, PROBLEMS, "math_verify", timeout_s=5.0, workers=1)
    assert verdicts["status"].tolist() == ["wrong", "correct"]
    assert verdicts["extracted"].tolist() == ["3", "18"]
    assert (verdicts["seconds"] < 1.0).all()


def test_verify_samples_names_problem_ids_missing_from_the_benchmark():
    samples = pd.DataFrame({"problem_id": ["p0", "p9"], "sample_index": [0, 0], "text": ["1", "2"]})
    with pytest.raises(ValueError, match="p9"):
        verify_samples(samples, PROBLEMS, "math_verify", timeout_s=5, workers=1)


def test_verify_samples_rejects_an_unknown_grader():
    samples = pd.DataFrame({"problem_id": ["p0"], "sample_index": [0], "text": ["1"]})
    with pytest.raises(ValueError, match="unknown grader 'nope'"):
        verify_samples(samples, PROBLEMS, "nope", timeout_s=5, workers=1)


def test_verify_shard_writes_verdicts_with_provenance(tmp_path):
    samples_path, problems_path = tmp_path / "shard-0000.parquet", tmp_path / "problems.parquet"
    samples = pd.DataFrame({"problem_id": ["p0", "p1"], "sample_index": [0, 0], "text": ["\\boxed{18}", "so 2"]})
    write_parquet(samples_path, samples, {"spec": {"model": "m", "benchmark": "b", "shard": 0}})
    write_parquet(problems_path, PROBLEMS)
    out = tmp_path / "verdicts" / "shard-0000.parquet"

    verify_shard(samples_path, problems_path, out, "math_verify", timeout_s=STARTUP_SLACK_S, workers=1)

    verdicts = read_parquet(out)
    assert list(verdicts.columns) == VERDICT_COLUMNS
    assert verdicts["status"].tolist() == ["correct", "wrong"]
    meta = read_parquet_metadata(out)
    assert meta["grader"] == "math_verify" and meta["grader_version"] == GRADER_VERSIONS["math_verify"]
    assert meta["timeout_s"] == STARTUP_SLACK_S and meta["math_verify_version"]
    assert meta["samples_sha256"] == sha256_file(samples_path)
    assert meta["status_counts"] == {"correct": 1, "wrong": 1, "no_answer": 0, "timeout": 0, "error": 0, "prompt_too_long": 0}
    assert meta["samples_spec"] == {"model": "m", "benchmark": "b", "shard": 0}
    assert [p.name for p in out.parent.iterdir()] == ["shard-0000.parquet"]  # no temporary file left behind


def test_both_graders_in_one_pass_give_each_graders_own_verdicts():
    from rlvr_eval.verify.driver import verify_samples_graders

    samples = pd.DataFrame({
        "problem_id": ["p0", "p0", "p1", "p0"],
        "sample_index": [0, 1, 0, 2],
        "text": ["so 9 * 2 = 18.\nA: 18", "The answer is 50%.", "\\boxed{0.5}", "The answer is 18."],
    })
    together = verify_samples_graders(samples, PROBLEMS, ["math_verify", "qwen_math"], timeout_s=STARTUP_SLACK_S,
                                      workers=1)
    for grader in ("math_verify", "qwen_math"):
        alone = verify_samples(samples, PROBLEMS, grader, timeout_s=STARTUP_SLACK_S, workers=1, fast=False)
        pd.testing.assert_frame_equal(together[grader].drop(columns="seconds"), alone.drop(columns="seconds"))
    # the paper's rules accept 0.5 for \\frac{1}{2} (a number against a symbolic reference)
    assert together["qwen_math"]["status"].tolist() == ["correct", "wrong", "correct", "correct"]
