"""Verification driver: samples + benchmark table -> verdicts (schema in rlvr_eval.verify.graders).

Each (response, reference) pair is graded in a worker process under a hard deadline
(rlvr_eval.verify.sandbox): a grader that hangs costs at most `timeout_s` and yields status
"timeout"; a grader that raises yields status "error", with "ExceptionType: message" in the
`extracted` column (so the verdict file itself says what went wrong) and in the log.
"""

from __future__ import annotations

import importlib.metadata
import logging
import time
from pathlib import Path

import pandas as pd

from ..io import read_parquet, read_parquet_metadata, sha256_file, write_parquet
from .graders import GRADER_VERSIONS, GRADERS, STATUSES, VERDICT_COLUMNS
from .sandbox import Outcome, run_with_deadline

log = logging.getLogger(__name__)

GRADER_STATUSES = ("correct", "wrong", "no_answer")  # what a grader itself may return
_MAX_LOGGED_FAILURES = 50  # per status: enough to diagnose, without flooding the log


def verify_samples(samples: pd.DataFrame, problems: pd.DataFrame, grader: str, timeout_s: float,
                   workers: int, benchmark: str = "") -> pd.DataFrame:
    """Grade every sample against its problem's reference; one verdict row per sample, in sample order.
    `benchmark` is passed to the grader (qwen_math normalizes answers per benchmark)."""
    if grader not in GRADERS:
        raise ValueError(f"unknown grader {grader!r}; known: {', '.join(sorted(GRADERS))}")
    for name, df, cols in (("samples", samples, ["problem_id", "sample_index", "text"]),
                           ("problems", problems, ["problem_id", "reference"])):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"{name} table lacks column(s) {missing} (has {list(df.columns)})")
    duplicated = problems["problem_id"][problems["problem_id"].duplicated()].unique().tolist()
    if duplicated:
        raise ValueError(f"benchmark table has duplicate problem_id(s) {duplicated[:10]}")
    references = dict(zip(problems["problem_id"].astype(str), problems["reference"].astype(str)))
    problem_ids = samples["problem_id"].astype(str).tolist()
    unknown = sorted(set(problem_ids) - set(references))
    if unknown:
        raise ValueError(f"{len(unknown)} problem_id(s) of the samples are not in the benchmark table: "
                         f"{unknown[:10]}{' …' if len(unknown) > 10 else ''}")

    texts = ["" if t is None or (isinstance(t, float) and pd.isna(t)) else str(t) for t in samples["text"]]
    pairs = [(text, references[pid], benchmark) for text, pid in zip(texts, problem_ids)]
    # Identical responses to the same problem (common for short answers at large n) are graded once;
    # their rows share the verdict, including `seconds`.
    unique_pairs = list(dict.fromkeys(pairs))
    position = {pair: i for i, pair in enumerate(unique_pairs)}

    failures = {"timeout": 0, "error": 0}
    done, report_every = 0, max(1, len(unique_pairs) // 10)
    started = time.monotonic()

    def on_result(i: int, outcome: Outcome) -> None:
        nonlocal done
        done += 1
        if done % report_every == 0:
            log.info("graded %d/%d distinct responses in %.0f s (%s)", done, len(unique_pairs),
                     time.monotonic() - started, failures)
        if outcome.status in failures:
            failures[outcome.status] += 1
            if failures[outcome.status] <= _MAX_LOGGED_FAILURES:
                log.warning("%s on response %r (reference %r): %s", outcome.status, unique_pairs[i][0][-200:],
                            unique_pairs[i][1], outcome.error)

    outcomes = run_with_deadline(GRADERS[grader], unique_pairs, workers=workers, timeout_s=timeout_s,
                                 on_result=on_result)
    log.info("graded %d samples (%d distinct) with %s in %.1f s", len(pairs), len(unique_pairs), grader,
             time.monotonic() - started)

    verdicts = [_verdict(outcomes[position[pair]]) for pair in pairs]
    out = pd.DataFrame({
        "problem_id": problem_ids,
        "sample_index": samples["sample_index"].astype("int64").to_numpy(),
        "status": [v[0] for v in verdicts],
        "extracted": pd.Series([v[1] for v in verdicts], dtype=object),
        "reference": [pair[1] for pair in pairs],
        "seconds": pd.Series([v[2] for v in verdicts], dtype="float64"),
    })
    out["correct"] = out["status"] == "correct"
    return out[VERDICT_COLUMNS]


def _verdict(outcome: Outcome) -> tuple[str, str | None, float]:
    if outcome.status == "timeout":
        return "timeout", None, outcome.seconds
    if outcome.status == "error":
        return "error", outcome.error, outcome.seconds
    value = outcome.value
    if not (isinstance(value, tuple) and len(value) == 2 and value[0] in GRADER_STATUSES):
        return "error", f"grader returned {value!r}, not (status in {GRADER_STATUSES}, extracted)", outcome.seconds
    status, extracted = value
    return status, None if extracted is None else str(extracted), outcome.seconds


def verify_shard(samples_path: str | Path, problems_path: str | Path, out_path: str | Path, grader: str,
                 timeout_s: float, workers: int, benchmark: str = "") -> pd.DataFrame:
    """Verify one sample file and write its verdict file (atomically, with provenance metadata)."""
    started = time.time()
    samples = read_parquet(samples_path)
    problems = read_parquet(problems_path)
    verdicts = verify_samples(samples, problems, grader, timeout_s, workers, benchmark)
    counts = verdicts["status"].value_counts()
    sample_meta = read_parquet_metadata(samples_path)
    metadata = {
        "grader": grader,
        "benchmark": benchmark,
        "grader_version": GRADER_VERSIONS.get(grader),
        "grader_function": GRADERS[grader],
        "timeout_s": timeout_s,
        "workers": workers,
        "math_verify_version": _version("math-verify"),
        "sympy_version": _version("sympy"),
        "status_counts": {s: int(counts.get(s, 0)) for s in STATUSES},
        "samples": len(verdicts),
        "samples_file": str(samples_path),
        "samples_sha256": sha256_file(samples_path),
        "problems_sha256": sha256_file(problems_path),
        "samples_spec": sample_meta.get("spec"),  # model, benchmark, shard, seed of the sampling job
        "started": started,
        "finished": time.time(),
    }
    write_parquet(out_path, verdicts, metadata)
    log.info("%s: %s", out_path, metadata["status_counts"])
    return verdicts


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None
