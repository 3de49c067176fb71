"""Verification driver: samples + benchmark table -> verdicts (schema in rlvr_eval.verify.graders).

Each (response, reference) pair is graded in a warmed-up worker process under a hard deadline of CPU time
(rlvr_eval.verify.deadline_pool), so a verdict does not depend on the machine's load: a grader that hangs costs
`timeout_s` of CPU time, then `RETRY_FACTOR` x `timeout_s` in a retry alone, and yields status "timeout" (column
`attempts` 2); a grader that raises yields status "error", with "ExceptionType: message" in the `extracted` column
(so the verdict file itself says what went wrong) and in the log.
"""

from __future__ import annotations

import importlib.metadata
import logging
import time
from pathlib import Path

import pandas as pd

from rlvr_eval.io import read_parquet, read_parquet_metadata, sha256_file, write_parquet
from rlvr_eval.verify import cpu_clock
from rlvr_eval.verify.answer_format import answer_format, with_graded_text
from rlvr_eval.verify.deadline_pool import RETRY_FACTOR, Outcome, run_with_deadline
from rlvr_eval.verify.graders import GRADER_VERSIONS, GRADERS, STATUSES, VERDICT_COLUMNS, capped_mask
from rlvr_eval.verify.span_driver import NOT_GRADED, outcome_verdict, verify_batches

log = logging.getLogger(__name__)


class CorruptSamplesError(RuntimeError):
    """A sample file that cannot be read: the way back is to resample it."""


# The sample files' finish_reason (and verdict status) of a sample never generated (rlvr_eval.sampling.shards schema);
# spelled out, not imported, so that verification does not depend on the sampling code.
PROMPT_TOO_LONG = "prompt_too_long"
_MAX_LOGGED_FAILURES = 50  # per status: enough to diagnose, without flooding the log


def verify_samples(samples: pd.DataFrame, problems: pd.DataFrame, grader: str, timeout_s: float,
                   workers: int, benchmark: str = "", max_new_tokens: int | None = None,
                   fast: bool = True) -> pd.DataFrame:
    """Grade every sample against its problem's reference; one verdict row per sample, in sample order.

    `benchmark` is passed to the grader (qwen_math normalizes answers per benchmark). Samples never generated
    (finish_reason prompt_too_long) get that status without grading; max_new_tokens (the sampling parameter)
    marks the samples whose budget was capped below it.

    fast (default): each distinct (answer span, reference) is graded once (rlvr_eval.verify.span_driver);
    fast=False grades each distinct whole response, the reference path the fast one is measured against.
    """
    if fast:
        return verify_samples_graders(samples, problems, [grader], timeout_s, workers, benchmark,
                                      max_new_tokens)[grader]
    references, problem_ids = _checked_references(samples, problems, [grader])
    texts = ["" if t is None or (isinstance(t, float) and pd.isna(t)) else str(t) for t in samples["text"]]
    not_sampled = (samples["finish_reason"] == PROMPT_TOO_LONG).to_numpy() if "finish_reason" in samples else \
        [False] * len(samples)
    pairs = [(text, references[pid], benchmark) for text, pid in zip(texts, problem_ids)]
    # Identical responses to the same problem (common for short answers at large n) are graded once;
    # their rows share the verdict, including `seconds`.
    unique_pairs = list(dict.fromkeys(p for p, skip in zip(pairs, not_sampled) if not skip))
    position = {pair: i for i, pair in enumerate(unique_pairs)}

    failures = {"timeout": 0, "error": 0, "retried": 0}
    done, report_every = 0, max(1, len(unique_pairs) // 10)
    started = time.monotonic()

    def on_result(i: int, outcome: Outcome) -> None:
        nonlocal done
        done += 1
        if done % report_every == 0:
            log.info("graded %d/%d distinct responses in %.0f s (%s)", done, len(unique_pairs),
                     time.monotonic() - started, failures)
        failures["retried"] += outcome.attempts > 1
        if outcome.status in failures:
            failures[outcome.status] += 1
            if failures[outcome.status] <= _MAX_LOGGED_FAILURES:
                log.warning("%s on response %r (reference %r): %s", outcome.status, unique_pairs[i][0][-200:],
                            unique_pairs[i][1], outcome.error)

    outcomes = run_with_deadline(GRADERS[grader], unique_pairs, workers=workers, timeout_s=timeout_s,
                                 on_result=on_result)
    log.info("graded %d samples (%d distinct) with %s in %.1f s", len(pairs), len(unique_pairs), grader,
             time.monotonic() - started)

    verdicts = [NOT_GRADED if skip else outcome_verdict(outcomes[position[pair]])
                for pair, skip in zip(pairs, not_sampled)]
    out = pd.DataFrame({
        "problem_id": problem_ids,
        "sample_index": samples["sample_index"].astype("int64").to_numpy(),
        "status": [v[0] for v in verdicts],
        "extracted": pd.Series([v[1] for v in verdicts], dtype=object),
        "reference": [pair[1] for pair in pairs],
        "seconds": pd.Series([v[2] for v in verdicts], dtype="float64"),
    })
    out["correct"] = out["status"] == "correct"
    out["capped"] = capped_mask(samples, max_new_tokens)
    out["attempts"] = pd.Series([v[3] for v in verdicts], dtype="int64")
    return out[VERDICT_COLUMNS]


BATCH_ROWS = 20_000


def verify_samples_graders(samples: pd.DataFrame, problems: pd.DataFrame, graders: list[str], timeout_s: float,
                           workers: int, benchmark: str = "", max_new_tokens: int | None = None
                           ) -> dict[str, pd.DataFrame]:
    """The fast path for several graders at once: {grader: verdicts}, each answer span graded once."""
    references, _ = _checked_references(samples, problems, graders)
    batches = (samples.iloc[i: i + BATCH_ROWS] for i in range(0, len(samples), BATCH_ROWS))
    parts = list(verify_batches(batches, references, graders, timeout_s, workers, benchmark, max_new_tokens))
    out = {}
    for grader in graders:
        frame = pd.concat([p[grader] for p in parts], ignore_index=True) if parts else \
            pd.DataFrame({c: [] for c in VERDICT_COLUMNS})
        counts = frame["status"].value_counts()
        for status in ("timeout", "error"):
            if counts.get(status, 0):
                shown = frame.loc[frame["status"] == status, ["problem_id", "sample_index", "extracted"]]
                log.warning("%s: %d samples with status %s, e.g. %s", grader, counts[status], status,
                            shown.head(_MAX_LOGGED_FAILURES).to_dict("records"))
        out[grader] = frame
    return out


def _checked_references(samples: pd.DataFrame, problems: pd.DataFrame, graders: list[str]
                        ) -> tuple[dict[str, str], list[str]]:
    """{problem_id: reference} and the samples' problem ids, after checking tables and graders."""
    for grader in graders:
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
    return references, problem_ids




def verify_shard(samples_path: str | Path, problems_path: str | Path, out_path: str | Path, grader: str,
                 timeout_s: float, workers: int, benchmark: str = "") -> pd.DataFrame:
    """Verify one sample file and write its verdict file (atomically, with provenance metadata)."""
    started = time.time()
    try:
        samples = read_parquet(samples_path)
        sample_meta = read_parquet_metadata(samples_path)
    except (OSError, ValueError) as e:  # pyarrow: "Parquet magic bytes not found" for a truncated file
        raise CorruptSamplesError(
            f"{samples_path} cannot be read ({type(e).__name__}: {e}): the sample file is corrupt or truncated. "
            f"Delete it and rerun Snakemake to resample that shard; `rlvr-eval audit` lists what was made from it."
        ) from None
    problems = read_parquet(problems_path)
    max_new_tokens = (sample_meta.get("params") or {}).get("max_new_tokens")
    # The answer format the sampling template asked for (R1-style prompts: the <answer> tag's content is graded).
    fmt = answer_format(sample_meta.get("template"))
    verdicts = verify_samples(with_graded_text(samples, fmt), problems, grader, timeout_s, workers, benchmark,
                              max_new_tokens)
    counts = verdicts["status"].value_counts()
    metadata = {
        "grader": grader,
        "benchmark": benchmark,
        "grader_version": GRADER_VERSIONS.get(grader),
        "grader_function": GRADERS[grader],
        "answer_format": fmt,
        "timeout_s": timeout_s,
        "deadline": {"clock": "cpu" if cpu_clock.available() else "wall",  # rlvr_eval.verify.deadline_pool
                     "retry_timeout_s": RETRY_FACTOR * timeout_s, "retried": int((verdicts["attempts"] > 1).sum())},
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
