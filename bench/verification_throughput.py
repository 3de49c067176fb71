"""Verification throughput, agreement and memory on the bench corpus (bench/corpus.py), against the baselines,
measured in the same run (issue #15).

    .venv/bin/python bench/verification_throughput.py [--graders math_verify qwen_math] [--workers 2]
        [--naive-per-kind 40] [--agreement-rows 4000] [--memory-samples 1000000]

1. **Naive baseline**: a single-process loop over the responses, `math_verify.verify(parse(gold), parse(response))`
   with math-verify's own default timeouts (qwen_math: `grade(response, reference)`; its pathological answers
   never finish, not even under an alarm, so each is charged the 10 s deadline instead of being run). It is
   timed on a seeded sample of each kind of response (--naive-per-kind) and its corpus time estimated as
   sum over kinds of (mean seconds per response x responses of that kind): the whole loop would take hours.
2. **Fast path** (`rlvr_eval.verify.span_driver`) over the whole corpus, streamed in batches from the file by a
   fresh process (the benchmark's own copy of the corpus is not counted in its memory): wall time, CPU
   time of the process tree, samples per second, and the ratio to the naive estimate.
3. **Agreement**: the fast path's verdicts against the whole-response path (`verify_samples(..., fast=False)`,
   the project's path before this change) on a seeded sample of rows (--agreement-rows, every kind included);
   every difference is printed.
4. **Memory**: the peak resident memory summed over a fresh process and its workers while the fast path streams
   --memory-samples samples (the corpus read again and again; repeated passes hit the verdict cache).
5. **Cost per model of the paper grid**: 425,728 samples per grader, at the measured CPU seconds per sample.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import cache_dir, corpus_path  # noqa: E402

from rlvr_eval.verify.driver import verify_samples  # noqa: E402
from rlvr_eval.verify.graders import GRADERS  # noqa: E402
from rlvr_eval.verify.deadline_pool import run_with_deadline  # noqa: E402
from rlvr_eval.verify.span_driver import SpanVerifier  # noqa: E402

NAIVE_DEADLINE_S = 10.0
PAPER_GRID_SAMPLES = 1319 * 128 + 500 * 128 + 272 * 128 + 675 * 128 + 30 * 1024 + 40 * 1024  # 425,728


class PeakMemory:
    """Peak RSS summed over this process and its children, sampled every 0.1 s in a thread."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def fast_run_in_child(graders: list[str], workers: int, passes: int = 1, limit: int | None = None) -> dict:
    """fast_run in a fresh process that streams the corpus: its memory is the fast path's alone."""
    command = [sys.executable, __file__, "--child", ",".join(graders), "--workers", str(workers),
               "--child-passes", str(passes), "--child-limit", str(limit or 0)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def batches(path: Path, rows: int = 10_000, passes: int = 1, limit: int | None = None):
    """(benchmark, DataFrame) batches streamed from the corpus file, `passes` times over, at most `limit` rows."""
    sent = 0
    for _ in range(passes):
        for record_batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            frame = record_batch.to_pandas()
            for benchmark, part in frame.groupby("benchmark", sort=False):
                if limit is not None and sent >= limit:
                    return
                part = part if limit is None else part.iloc[: limit - sent]
                sent += len(part)
                yield benchmark, part


def fast_run(path: Path, graders: list[str], workers: int, references: dict, passes: int = 1,
             limit: int | None = None) -> dict:
    started_wall, started_cpu = time.monotonic(), cpu_seconds()
    counts: dict[str, pd.Series] = {g: pd.Series(dtype=int) for g in graders}
    samples = 0
    with PeakMemory() as memory, SpanVerifier(graders, timeout_s=10, workers=workers) as verifier:
        for benchmark, batch in batches(path, passes=passes, limit=limit):
            out = verifier.verify(batch, references[benchmark], benchmark)
            samples += len(batch)
            for g in graders:
                counts[g] = counts[g].add(out[g]["status"].value_counts(), fill_value=0)
        stats = dict(verifier.stats)
    return {"samples": samples, "wall_s": time.monotonic() - started_wall, "cpu_s": cpu_seconds() - started_cpu,
            "peak_rss_mb": memory.peak / 2**20, "stats": stats,
            "statuses": {g: c.astype(int).to_dict() for g, c in counts.items()}}


def naive_seconds(grader: str, text: str, reference: str, benchmark: str) -> float:
    started = time.perf_counter()
    if grader == "math_verify":
        from math_verify import parse, verify

        try:
            verify(parse(f"${reference}$"), parse(text))
        except Exception:  # noqa: BLE001 - the loop only times the work
            pass
    else:
        from rlvr_eval.verify.qwen_math_grader import grade

        try:
            grade(text, reference, benchmark)
        except Exception:  # noqa: BLE001
            pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graders", nargs="+", default=["math_verify", "qwen_math"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--naive-per-kind", type=int, default=40)
    parser.add_argument("--agreement-rows", type=int, default=4000)
    parser.add_argument("--pathological-rows", type=int, default=10,
                        help="pathological rows added to the agreement sample (each costs the whole path a deadline)")
    parser.add_argument("--recheck", type=int, default=3,
                        help="differences (whole path timed out, not pathological) regraded whole with a long deadline")
    parser.add_argument("--recheck-timeout-s", type=float, default=120.0)
    parser.add_argument("--memory-samples", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", nargs="*", default=[], choices=["naive", "fast", "agreement", "memory"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-passes", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--child-limit", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)  # it logs whole responses on its timeouts
    if args.child:
        references = {b: dict(zip(t["problem_id"].astype(str), t["reference"].astype(str)))
                      for b in ("gsm8k", "math500") for t in [pd.read_parquet(cache_dir() / f"problems-{b}.parquet")]}
        r = fast_run(corpus_path(seed=0), args.child.split(","), args.workers, references, args.child_passes,
                     args.child_limit or None)
        print(json.dumps(r))
        return

    path = corpus_path(seed=0)
    corpus = pd.read_parquet(path)
    problems = {b: pd.read_parquet(cache_dir() / f"problems-{b}.parquet") for b in corpus["benchmark"].unique()}
    references = {b: dict(zip(t["problem_id"].astype(str), t["reference"].astype(str))) for b, t in problems.items()}
    kinds = corpus.groupby(["benchmark", "kind"]).size()
    print(f"corpus {path}: {len(corpus):,} responses; machine: {psutil.cpu_count()} cores, "
          f"load average {psutil.getloadavg()[0]:.1f} (shared with other engineers' jobs)")
    rng = np.random.default_rng(args.seed)

    # 1. naive single-process loop, per kind of response
    naive_total = {}
    for grader in [] if "naive" in args.skip else args.graders:
        total = 0.0
        for (benchmark, kind), count in kinds.items():
            rows = corpus[(corpus["benchmark"] == benchmark) & (corpus["kind"] == kind)]
            take = rows.iloc[rng.choice(len(rows), size=min(args.naive_per_kind if kind != "pathological" else 2,
                                                           len(rows)), replace=False)]
            if grader == "qwen_math" and kind == "pathological":
                seconds = [NAIVE_DEADLINE_S]
            else:
                seconds = [naive_seconds(grader, r.text, r.reference, benchmark) for r in take.itertuples()]
            total += float(np.mean(seconds)) * count
            print(f"  naive {grader:11s} {benchmark:8s} {kind:14s} {np.mean(seconds) * 1e3:9.1f} ms/response "
                  f"x {count:7,d}")
        naive_total[grader] = total
        print(f"naive {grader}: estimated {total:,.0f} s for the corpus ({len(corpus) / total:,.0f} samples/s)")

    # 2. the fast path, each grader alone, then both together
    results = {}
    for graders in [] if "fast" in args.skip else \
            [[g] for g in args.graders] + ([args.graders] if len(args.graders) > 1 else []):
        r = fast_run_in_child(graders, args.workers)
        results["+".join(graders)] = r
        name = "+".join(graders)
        naive = sum(naive_total.get(g, np.nan) for g in graders)
        print(f"fast {name}: {r['samples']:,} samples in {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU "
              f"({r['samples'] / r['wall_s']:,.0f} samples/s); vs naive: {naive / r['wall_s']:.1f}x throughput, "
              f"{naive / r['cpu_s']:.1f}x less CPU; peak RSS {r['peak_rss_mb']:.0f} MB; {r['stats']}")
        for g, statuses in r["statuses"].items():
            print(f"    {g} statuses: {statuses}")

    # 3. agreement with the whole-response path on a seeded sample of rows
    sample = corpus.iloc[np.sort(rng.choice(len(corpus), size=min(args.agreement_rows, len(corpus)), replace=False))]
    pathological = corpus[corpus["kind"] == "pathological"]
    pathological = pathological.iloc[rng.choice(len(pathological), size=min(args.pathological_rows, len(pathological)),
                                                replace=False)]
    sample = pd.concat([sample, pathological]).drop_duplicates(["benchmark", "problem_id", "sample_index"])
    for grader in [] if "agreement" in args.skip else args.graders:
        same = total = decided = same_decided = 0
        for benchmark, part in sample.groupby("benchmark"):
            t0 = time.monotonic()
            whole = verify_samples(part, problems[benchmark], grader, timeout_s=10, workers=args.workers,
                                   benchmark=benchmark, fast=False)
            t1 = time.monotonic()
            fast = verify_samples(part, problems[benchmark], grader, timeout_s=10, workers=args.workers,
                                  benchmark=benchmark)
            t2 = time.monotonic()
            print(f"  agreement {grader} {benchmark}: {len(part):,} rows, whole-response path {t1 - t0:.1f} s, "
                  f"fast path {t2 - t1:.1f} s ({(t1 - t0) / (t2 - t1):.1f}x)")
            differ = (whole["status"].to_numpy() != fast["status"].to_numpy())
            timed_out = whole["status"].to_numpy() == "timeout"
            same += int((~differ).sum())
            total += len(part)
            decided += int((~timed_out).sum())
            same_decided += int((~differ & ~timed_out).sum())
            rechecked = 0
            for i in np.flatnonzero(differ):
                row = part.iloc[i]
                line = (f"    DIFF {benchmark}/{row.problem_id}#{row.sample_index} ({row.kind}, {len(row.text):,} chars): "
                        f"whole {whole['status'].iloc[i]} {whole['extracted'].iloc[i]!r:.60} -> fast "
                        f"{fast['status'].iloc[i]} {fast['extracted'].iloc[i]!r:.60} (reference {row.reference!r})")
                if timed_out[i] and row.kind != "pathological" and rechecked < args.recheck:
                    # the whole-response grader again, given a long deadline: the verdict it would have reached
                    rechecked += 1
                    outcome = run_with_deadline(GRADERS[grader], [(row.text, row.reference, benchmark)], workers=1,
                                                timeout_s=args.recheck_timeout_s)[0]
                    line += (f"; whole path with a {args.recheck_timeout_s:g} s deadline: {outcome.status} "
                             f"{outcome.value!r:.60} in {outcome.seconds:.1f} s")
                print(line, flush=True)
        print(f"agreement {grader}: {same:,}/{total:,} verdicts identical ({100 * same / total:.3f} %); where the "
              f"whole-response path reached a verdict (no timeout): {same_decided:,}/{decided:,} "
              f"({100 * same_decided / max(1, decided):.3f} %)")

    # 4. memory at scale
    if "memory" not in args.skip:
        passes = -(-args.memory_samples // len(corpus))
        r = fast_run_in_child(args.graders, args.workers, passes=passes, limit=args.memory_samples)
        one_pass = results.get("+".join(args.graders), {}).get("peak_rss_mb", np.nan)
        print(f"memory: {r['samples']:,} samples ({'+'.join(args.graders)}) streamed in {r['wall_s']:.0f} s: peak "
              f"RSS {r['peak_rss_mb']:.0f} MB summed over the verifying process and its workers (one pass over the corpus: "
              f"{one_pass:.0f} MB)")

    # 5. cost per model of the paper grid
    for name, r in results.items():
        per_sample = r["cpu_s"] / r["samples"]
        print(f"paper grid, one model ({PAPER_GRID_SAMPLES:,} samples), {name}: "
              f"{per_sample * PAPER_GRID_SAMPLES / 3600:.2f} CPU-hours fast "
              f"(naive: {sum(naive_total.get(g, np.nan) for g in name.split('+')) / len(corpus) * PAPER_GRID_SAMPLES / 3600:.2f})")


if __name__ == "__main__":
    main()
