"""Code verification stage: samples + benchmark table + expected outputs -> verdicts.

Verdict files have the schema of rlvr_eval.verify.graders (so pass@k, tables, coverage and figures read
them unchanged), with the code verdicts (rlvr_eval.code.verifier) mapped onto its statuses:

| code verdict | status    | `extracted` holds                                    |
|--------------|-----------|------------------------------------------------------|
| passed       | correct   | None                                                 |
| failed       | wrong     | the first failing test and why, e.g. "plus[17]: ..." |
| timeout      | timeout   | where the deadline struck                            |
| error        | error     | why the program could not be tested                  |
| (empty code) | no_answer | None                                                 |

`reference` holds the entry point (LiveCodeBench: the method name, or "stdin" for standard-input problems). The
file's metadata records the isolation used (namespaces or the
weaker rlimits fallback), the interpreter environment the programs ran in, the limits, the test set
(HumanEval+/MBPP+: base + plus; LiveCodeBench: public, or public + hidden where the problem table holds
the hub's hidden tests) and the sha256 of the expected outputs (HumanEval+/MBPP+ only).

Expected-output file (`results/data/{benchmark}.expected.json.gz`, rule code_expected_outputs): a JSON
object {"benchmark", "isolation", "environment", "problems": {problem_id: {"base": [value], "base_seconds":
[s], "plus": [...], "plus_seconds": [...]}}}, values in the exact-type encoding of rlvr_eval.code.values.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from pathlib import Path

import pandas as pd

from rlvr_eval.io import atomic_path, read_parquet, read_parquet_metadata, sha256_file, write_parquet
from rlvr_eval.verify.driver import PROMPT_TOO_LONG
from rlvr_eval.verify.graders import STATUSES, VERDICT_COLUMNS, capped_mask
from rlvr_eval.code import dataset_quirks, evalplus_tests, livecodebench, sandbox
from rlvr_eval.data.livecodebench import LIVECODEBENCH_WINDOWS
from rlvr_eval.code.extract import extract_code
from rlvr_eval.code.verifier import check_functional, run_many

log = logging.getLogger(__name__)

CODE_GRADERS = {"code_exec": "rlvr_eval.code.driver"}  # grader name -> this stage (not an answer grader)
CODE_GRADER_VERSION = "3"  # 2: time limits on CPU time read from /proc, loading within the group budget;
#                            3: so are LiveCodeBench stdin programs' (their process, no longer wall-clock)
STATUS_OF = {"passed": "correct", "failed": "wrong", "timeout": "timeout", "error": "error"}


def _rows(problems: pd.DataFrame) -> list[dict]:
    """Dataset rows back from the canonical table (the tests live in `metadata`)."""
    return [{**json.loads(r.metadata), "task_id": r.problem_id, "prompt": r.question, "canonical_solution": r.solution}
            for r in problems.itertuples()]


def write_expected_outputs(problems_path: str | Path, benchmark: str, out_path: str | Path, isolation: str,
                           workers: int) -> dict:
    """Run every canonical solution once (in the sandbox) and write the expected outputs."""
    dataset = evalplus_tests.DATASETS[benchmark]
    isolation = sandbox.detect_isolation(isolation)
    rows = _rows(read_parquet(problems_path))
    from concurrent.futures import ThreadPoolExecutor

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        outputs = list(pool.map(lambda r: evalplus_tests.run_canonical(dataset, r, isolation), rows))
    doc = {"benchmark": benchmark, "isolation": isolation, "environment": sandbox.environment(),
           "problems": {r["task_id"]: o for r, o in zip(rows, outputs)}}
    with atomic_path(out_path) as tmp:
        with gzip.open(tmp, "wt", encoding="utf-8") as f:
            json.dump(doc, f)
    log.info("expected outputs of %d problems in %.1f s (%s)", len(rows), time.monotonic() - started, isolation)
    return doc


def verify_code_samples(samples: pd.DataFrame, problems: pd.DataFrame, expected: dict | None, benchmark: str,
                        code_prefix: str, workers: int, isolation: str, limits: sandbox.Limits,
                        max_new_tokens: int | None = None) -> pd.DataFrame:
    rows = {r["task_id"]: r for r in _rows(problems)}
    unknown = sorted(set(samples["problem_id"].astype(str)) - set(rows))
    if unknown:
        raise ValueError(f"{len(unknown)} problem_id(s) of the samples are not in the benchmark table: {unknown[:10]}")
    texts = ["" if t is None or (isinstance(t, float) and pd.isna(t)) else str(t) for t in samples["text"]]
    pids = samples["problem_id"].astype(str).tolist()
    codes = [extract_code(text, code_prefix) for text in texts]
    todo = [i for i, code in enumerate(codes) if code.strip()]
    if benchmark in LIVECODEBENCH_WINDOWS:
        verdicts = run_many([(codes[i], rows[pids[i]]) for i in todo],
                            lambda code, row: livecodebench.check(code, row, limits, isolation), workers)
    else:
        dataset = evalplus_tests.DATASETS[benchmark]
        tests = {pid: evalplus_tests.functional_tests(dataset, rows[pid], expected["problems"][pid])
                 for pid in sorted(set(pids))}
        verdicts = run_many([(evalplus_tests.program_of(dataset, rows[pids[i]], codes[i]), tests[pids[i]]) for i in todo],
                            lambda code, t: check_functional(code, t, limits, isolation), workers)
    status, extracted, seconds = ["no_answer"] * len(texts), [None] * len(texts), [0.0] * len(texts)
    for i, v in zip(todo, verdicts):
        status[i], extracted[i], seconds[i] = STATUS_OF[v.status], v.failure, v.seconds
    if "finish_reason" in samples:  # never generated: the prompt fills the model's context (rlvr_eval.sampling.shards)
        for i, reason in enumerate(samples["finish_reason"]):
            if reason == PROMPT_TOO_LONG:
                status[i] = PROMPT_TOO_LONG
    out = pd.DataFrame({"problem_id": pids, "sample_index": samples["sample_index"].astype("int64").to_numpy(),
                        "status": status, "extracted": pd.Series(extracted, dtype=object),
                        "reference": [rows[p].get("entry_point") or rows[p].get("func_name") or "stdin" for p in pids],
                        "seconds": pd.Series(seconds, dtype="float64")})
    out["correct"] = out["status"] == "correct"
    out["capped"] = capped_mask(samples, max_new_tokens)
    ran = set(todo)
    out["attempts"] = pd.Series([int(i in ran) for i in range(len(texts))], dtype="int64")  # code runs once, or never
    return out[VERDICT_COLUMNS]


def quirk_changed_verdicts(samples: pd.DataFrame, verdicts: pd.DataFrame, problems: pd.DataFrame, benchmark: str,
                           code_prefix: str, isolation: str, limits: sandbox.Limits) -> list[dict]:
    """The correct samples whose pass rests on a known dataset quirk (rlvr_eval.code.dataset_quirks)."""
    quirky = set(dataset_quirks.quirks_of(benchmark))
    if not quirky:
        return []
    rows = {r["task_id"]: r for r in _rows(problems)}
    dataset = evalplus_tests.DATASETS[benchmark]
    passing = [(pid, index, evalplus_tests.program_of(dataset, rows[pid], extract_code(str(text), code_prefix)))
               for pid, index, text, correct in zip(samples["problem_id"].astype(str), samples["sample_index"],
                                                    samples["text"], verdicts["correct"])
               if correct and pid in quirky]
    return dataset_quirks.changed_verdicts(benchmark, passing, rows, limits, isolation)


def verify_code_shard(samples_path, problems_path, expected_path, out_path, benchmark: str, code_prefix: str,
                      workers: int, isolation: str = "auto", limits: sandbox.Limits | None = None) -> pd.DataFrame:
    """expected_path: the expected-output file (HumanEval+/MBPP+), None for LiveCodeBench."""
    started = time.time()
    limits = limits or evalplus_tests.limits()
    isolation = sandbox.detect_isolation(isolation)
    expected = None
    if expected_path is not None:
        with gzip.open(expected_path, "rt", encoding="utf-8") as f:
            expected = json.load(f)
    problems = read_parquet(problems_path)
    max_new_tokens = (read_parquet_metadata(samples_path).get("params") or {}).get("max_new_tokens")
    samples = read_parquet(samples_path)
    verdicts = verify_code_samples(samples, problems, expected, benchmark,
                                   code_prefix, workers, isolation, limits, max_new_tokens)
    if benchmark in LIVECODEBENCH_WINDOWS:
        test_sets = {livecodebench.tests_of(r)[1] for r in _rows(problems)}
        test_set = " and ".join(sorted(test_sets)) + " (LiveCodeBench)"
    else:
        test_set = "base + plus (evalplus)"
    quirks = quirk_changed_verdicts(samples, verdicts, problems, benchmark, code_prefix, isolation,
                                    limits)
    for q in quirks:
        log.warning("%s sample %d passes, but only through a dataset quirk: %s (original test: %s)",
                    q["problem_id"], q["sample_index"], q["quirk"], q["original_test"])
    counts = verdicts["status"].value_counts()
    metadata = {
        "grader": "code_exec", "grader_version": CODE_GRADER_VERSION, "benchmark": benchmark,
        "test_set": test_set, "isolation": isolation, "sandbox_environment": sandbox.environment(),
        "limits": limits.__dict__, "workers": workers, "code_prefix": code_prefix,
        "status_counts": {s: int(counts.get(s, 0)) for s in STATUSES}, "samples": len(verdicts),
        "samples_file": str(samples_path), "samples_sha256": sha256_file(samples_path),
        "problems_sha256": sha256_file(problems_path),
        "expected_sha256": sha256_file(expected_path) if expected_path is not None else None,
        "samples_spec": read_parquet_metadata(samples_path).get("spec"), "started": started, "finished": time.time(),
        "dataset_quirks": quirks,
    }
    write_parquet(out_path, verdicts, metadata)
    log.info("%s: %s (%s isolation)", out_path, metadata["status_counts"], isolation)
    return verdicts
