r"""Fast verification: locate each answer cheaply, grade each distinct (reference, answer) once, stream batches.

The verdicts are those of grading every whole response (`driver.verify_samples(..., fast=False)`); what changes
is the work done to reach them:

1. In this process, string scans only (`answer_spans`): each response's answer span per grader, linear in its
   length; a long degenerate output is never parsed whole.
2. Pathological spans (power towers, huge factorials; `answer_spans.pathological`) are graded wrong at once
   instead of burning a deadline each (the whole-response path records them as `timeout`).
3. Each distinct (grader, span, reference) is graded once in the deadline pool's long-lived workers
   (`span_grader.grade_item`, warmed up for the graders in use), shared by every grader and batch; where a span
   alone cannot decide, that response is graded whole, under the same deadline. Every graded item runs under
   the deadline (CPU time, retried once on a timeout): no response escapes it.
4. Batches stream through: memory holds one batch and a bounded verdict cache (digests, not texts).
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from rlvr_eval.verify.answer_spans import pathological
from rlvr_eval.verify.graders import GRADERS, VERDICT_COLUMNS, capped_mask, grader_module
from rlvr_eval.verify.deadline_pool import Outcome, WorkerPool
from rlvr_eval.verify.span_grader import UNSURE

log = logging.getLogger(__name__)

GRADER_STATUSES = ("correct", "wrong", "no_answer")
PROMPT_TOO_LONG = "prompt_too_long"
WORKER_FUNCTION = "rlvr_eval.verify.span_grader:grade_item"
CACHE_ENTRIES = 200_000  # verdicts kept across batches (about 200 bytes each)


def _digest(*parts: str) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.digest()


def outcome_verdict(outcome: Outcome) -> tuple[str, str | None, float, int]:
    """(status, extracted, seconds, attempts): a worker's outcome as verdict columns."""
    if outcome.status == "timeout":
        return "timeout", None, outcome.seconds, outcome.attempts
    if outcome.status == "error":
        return "error", outcome.error, outcome.seconds, outcome.attempts
    value = outcome.value
    if isinstance(value, tuple) and len(value) == 2 and value[0] == UNSURE:
        return UNSURE, None, outcome.seconds, outcome.attempts
    if not (isinstance(value, tuple) and len(value) == 2 and value[0] in GRADER_STATUSES):
        return ("error", f"grader returned {value!r}, not (status in {GRADER_STATUSES}, extracted)", outcome.seconds,
                outcome.attempts)
    status, extracted = value
    return status, None if extracted is None else str(extracted), outcome.seconds, outcome.attempts


NOT_GRADED = (PROMPT_TOO_LONG, None, 0.0, 0)  # the verdict of a sample never generated


class SpanVerifier:
    """Grades batches of samples for several graders with one pool of workers and one verdict cache.

    >>> with SpanVerifier(["math_verify"], timeout_s=10, workers=1) as v:   # doctest: +SKIP
    ...     verdicts = v.verify(samples, references, benchmark="gsm8k")     # {grader: DataFrame}
    """

    def __init__(self, graders: list[str], timeout_s: float, workers: int):
        unknown = [g for g in graders if g not in GRADERS]
        if unknown:
            raise ValueError(f"unknown grader(s) {unknown}; known: {', '.join(sorted(GRADERS))}")
        self.graders, self.timeout_s = list(graders), float(timeout_s)
        self._pool = WorkerPool(WORKER_FUNCTION, workers=max(1, workers), timeout_s=timeout_s,
                                warmup_args=(tuple(graders),))
        self._cache: dict[bytes, tuple[str, str | None, float, int]] = {}
        self.stats = {"samples": 0, "graded_spans": 0, "graded_whole": 0, "screened": 0, "cache_hits": 0,
                      "timeouts_retried": 0, "retries_finished": 0}

    def __enter__(self) -> "SpanVerifier":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._pool.close()

    # --- where each grader's answer lies ------------------------------------------------------

    def _span(self, grader: str, text: str, reference: str, benchmark: str) -> tuple[str, str]:
        """(mode, text to grade): ("span", the answer span) or ("full", the whole response)."""
        span = grader_module(grader).locate_span(text, reference, benchmark)
        return ("full", text) if span is None else ("span", span)

    def _screened(self, grader: str, span: str, reference: str, benchmark: str) -> tuple[str, str, float, int] | None:
        if not pathological(span) or pathological(reference):
            return None
        return "wrong", grader_module(grader).shown_answer(span, benchmark), 0.0, 0

    # --- grading --------------------------------------------------------------------------------

    def _grade(self, items: dict[bytes, tuple]) -> None:
        """Grade the items (digest -> worker arguments) in the pool and cache their verdicts."""
        keys = list(items)
        outcomes = self._pool.map([items[k] for k in keys]) if keys else []
        for key, outcome in zip(keys, outcomes):
            self._cache[key] = outcome_verdict(outcome)

    def verify(self, samples: pd.DataFrame, references: dict[str, str], benchmark: str = "",
               max_new_tokens: int | None = None) -> dict[str, pd.DataFrame]:
        """One batch: verdict rows per grader, in sample order (schema: rlvr_eval.verify.graders)."""
        if len(self._cache) > CACHE_ENTRIES:
            self._cache.clear()
        problem_ids = samples["problem_id"].astype(str).tolist()
        texts = ["" if t is None or (isinstance(t, float) and pd.isna(t)) else str(t) for t in samples["text"]]
        refs = [references[pid] for pid in problem_ids]
        not_sampled = (samples["finish_reason"] == PROMPT_TOO_LONG).to_numpy() if "finish_reason" in samples \
            else np.zeros(len(samples), dtype=bool)
        self.stats["samples"] += len(samples)

        row_keys: dict[str, list] = {}
        screened: dict[bytes, tuple[str, str, float, int]] = {}
        pending: dict[bytes, tuple] = {}
        for grader in self.graders:
            keys: list = []
            for text, ref, skip in zip(texts, refs, not_sampled):
                if skip:
                    keys.append(None)
                    continue
                mode, span = self._span(grader, text, ref, benchmark)
                key = _digest(grader, mode, ref, benchmark, span)
                keys.append((key, text))
                if key in self._cache or key in pending or key in screened:
                    self.stats["cache_hits"] += 1
                    continue
                verdict = self._screened(grader, span, ref, benchmark) if mode == "span" else None
                if verdict is not None:
                    screened[key] = verdict
                else:
                    pending[key] = (grader, mode, span, ref, benchmark)
            row_keys[grader] = keys
        self._cache.update(screened)
        self.stats["screened"] += len(screened)
        self.stats["graded_spans"] += sum(item[1] == "span" for item in pending.values())
        self.stats["graded_whole"] += sum(item[1] == "full" for item in pending.values())
        self._grade(pending)

        # Spans that could not decide: grade those responses whole (each distinct one once).
        whole: dict[bytes, tuple] = {}
        span_attempts: dict[tuple[str, int], int] = {}  # (grader, row) -> attempts of its undecided span
        for grader, keys in row_keys.items():
            for i, entry in enumerate(keys):
                if entry is not None and self._cache[entry[0]][0] == UNSURE:
                    span_attempts[grader, i] = self._cache[entry[0]][3]
                    key = _digest(grader, "full", refs[i], benchmark, entry[1])
                    keys[i] = (key, entry[1])
                    if key not in self._cache and key not in whole:
                        whole[key] = (grader, "full", entry[1], refs[i], benchmark)
        self.stats["graded_whole"] += len(whole)
        self._grade(whole)
        self.stats["timeouts_retried"], self.stats["retries_finished"] = self._pool.retried, self._pool.rescued

        out = {}
        capped = capped_mask(samples, max_new_tokens)
        for grader, keys in row_keys.items():
            verdicts = [NOT_GRADED if entry is None else self._cache[entry[0]] for entry in keys]
            # a row graded span-then-whole shows the most attempts either took (2: a timeout was retried)
            attempts = [max(v[3], span_attempts.get((grader, i), 0)) for i, v in enumerate(verdicts)]
            frame = pd.DataFrame({
                "problem_id": problem_ids,
                "sample_index": samples["sample_index"].astype("int64").to_numpy(),
                "status": [v[0] for v in verdicts],
                "extracted": pd.Series([v[1] for v in verdicts], dtype=object),
                "reference": refs,
                "seconds": pd.Series([v[2] for v in verdicts], dtype="float64"),
            })
            frame["correct"] = frame["status"] == "correct"
            frame["capped"] = capped
            frame["attempts"] = np.asarray(attempts, dtype="int64")
            out[grader] = frame[VERDICT_COLUMNS]
        return out


def verify_batches(batches: Iterable[pd.DataFrame], references: dict[str, str], graders: list[str],
                   timeout_s: float, workers: int, benchmark: str = "",
                   max_new_tokens: int | None = None) -> Iterator[dict[str, pd.DataFrame]]:
    """Stream: one {grader: verdicts} per batch of samples, graded with one pool for all batches."""
    started = time.monotonic()
    with SpanVerifier(graders, timeout_s, workers) as verifier:
        for batch in batches:
            yield verifier.verify(batch, references, benchmark, max_new_tokens)
        log.info("verified %d samples with %s in %.1f s: %s", verifier.stats["samples"], ", ".join(graders),
                 time.monotonic() - started, verifier.stats)
