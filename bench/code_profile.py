"""Where the code verifier's time goes, per program, on the samples of bench/code_vs_evalplus.py.

    .venv/bin/python bench/code_profile.py --dataset humaneval [--limit 40]
    .venv/bin/python bench/code_profile.py --dataset mbpp

One worker. Wall-clock time per phase of each program's run (rlvr_eval.code.sandbox.run), split at the
lines the sandbox reports (these grow with the machine's load):

- start: from the call to the runner's "started" line (fork server, namespaces, fresh root, limits);
- load: to the first group's "loaded" line (compiling and executing the program, its imports);
- tests: to the last test's line;
- end: after the last line until the run has returned (a test that never reports waits here for its
  limit; otherwise killing the group).

CPU time, from the stamps the runner puts on its lines and this process's thread time: the samples' own
calls as the runner times them for the per-test limits (the call and the encoding of its value: the floor
no verifier of this design goes below), the runner's start, load and tests, and the parent's share (reading
and parsing lines, decoding values, the oracle).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from code_vs_evalplus import FILES, MIRROR, completions  # noqa: E402

from rlvr_eval.code import evalplus_tests as et  # noqa: E402
from rlvr_eval.code import sandbox, verifier  # noqa: E402

PHASES = ("start", "load", "tests", "end")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=sorted(FILES), default="humaneval")
    ap.add_argument("--limit", type=int, default=None, help="first N problems only")
    ap.add_argument("--mirror", type=Path, default=MIRROR)
    args = ap.parse_args()
    rows = [json.loads(line) for line in gzip.open(args.mirror / FILES[args.dataset], "rt")][: args.limit]
    original = {}
    if args.dataset == "humaneval":
        original = {r["task_id"]: r["canonical_solution"]
                    for r in map(json.loads, gzip.open(args.mirror / "humaneval/HumanEval.jsonl.gz", "rt"))}
    isolation = sandbox.detect_isolation()
    expected = {r["task_id"]: et.run_canonical(args.dataset, r, isolation) for r in rows}
    tests = {r["task_id"]: et.functional_tests(args.dataset, r, expected[r["task_id"]]) for r in rows}
    samples = [(r["task_id"], c) for i, r in enumerate(rows) for c in completions(args.dataset, r, original, i)]

    totals = dict.fromkeys((*PHASES, "samples_cpu", "parent_on_line_cpu", "parent_cpu", "lines", "runner_start_cpu",
                            "runner_load_cpu", "runner_tests_cpu"), 0.0)
    real_run = sandbox.run

    per_problem: dict[str, dict[str, float]] = {}
    current = {"task": None}

    def timed_run(job, limits, isolation, on_line=None, keep_lines=True):
        marks: dict[str, float] = {}
        cpu: dict[str, float] = {}
        acc = {"samples": 0.0, "lines": 0, "on_line": 0.0}
        t0, c0 = time.perf_counter(), time.thread_time()

        def timed_on_line(obj):
            now, c = time.perf_counter(), time.thread_time()
            kind = obj.get("kind")
            marks.setdefault(kind, now)
            if isinstance(obj.get("cpu"), (int, float)):  # the runner's CPU time when it wrote the line
                cpu.setdefault(kind, float(obj["cpu"]))
                cpu["last"] = float(obj["cpu"])
            if kind in ("value", "raised"):
                acc["samples"] += float(obj.get("seconds", 0))
                acc["lines"] += 1
                marks["last_test"] = now
            answer = on_line(obj)
            acc["on_line"] += time.thread_time() - c
            return answer

        result = real_run(job, limits, isolation, timed_on_line, keep_lines)
        t1 = time.perf_counter()
        started = marks.get("started", t1)
        loaded = min(marks.get("loaded", t1), marks.get("load_error", t1))
        last = max(marks.get("last_test", loaded), loaded)
        totals["start"] += started - t0
        totals["load"] += loaded - started
        totals["tests"] += last - loaded
        totals["end"] += t1 - last
        totals["samples_cpu"] += acc["samples"]
        totals["parent_on_line_cpu"] += acc["on_line"]
        totals["parent_cpu"] += time.thread_time() - c0
        totals["lines"] += acc["lines"]
        mine = per_problem.setdefault(current["task"], dict.fromkeys(("wall", "samples_cpu", "runner_cpu", "parent_cpu"), 0.0))
        mine["wall"] += t1 - t0
        mine["samples_cpu"] += acc["samples"]
        mine["runner_cpu"] += cpu.get("last", 0)
        mine["parent_cpu"] += time.thread_time() - c0
        # the runner's own CPU time, from the stamps on its lines
        totals["runner_start_cpu"] += cpu.get("started", 0)
        totals["runner_load_cpu"] += cpu.get("loaded", cpu.get("started", 0)) - cpu.get("started", 0)
        totals["runner_tests_cpu"] += max(0.0, cpu.get("last", 0) - cpu.get("loaded", cpu.get("last", 0)))
        return result

    verifier.sandbox.run = timed_run
    t = time.perf_counter()
    verdicts = []
    for tid, code in samples:
        current["task"] = tid
        verdicts.append(verifier.check_functional(code, tests[tid], et.limits(), isolation))
    wall = time.perf_counter() - t
    n = len(samples)
    report = {
        "dataset": args.dataset, "problems": len(rows), "samples": n, "isolation": isolation, "workers": 1,
        "wall_s": round(wall, 2), "ms_per_program": round(1000 * wall / n, 2),
        "statuses": {s: sum(v.status == s for v in verdicts) for s in ("passed", "failed", "timeout", "error")},
        "wall_phases_s": {k: round(totals[k], 2) for k in PHASES},
        "test_lines": int(totals["lines"]),
        "cpu_s": {
            "samples_own_calls": round(totals["samples_cpu"], 2),
            "runner_start (fresh root, limits; per program)": round(totals["runner_start_cpu"], 2),
            "runner_load (exec of the program, imports)": round(totals["runner_load_cpu"], 2),
            "runner_tests (from the first load to the last line)": round(totals["runner_tests_cpu"], 2),
            "parent (this process)": round(totals["parent_cpu"], 2),
            "parent_on_line (decoding, oracle)": round(totals["parent_on_line_cpu"], 2),
        },
        "slowest_problems": {t: {k: round(v, 2) for k, v in d.items()}
                             for t, d in sorted(per_problem.items(), key=lambda kv: -kv[1]["wall"])[:8]},
        "note": "runner_tests includes the samples' own calls and the second group's load; the CPU time of the "
                "supervisor, the fork server and the kernel (namespace set-up and teardown) is not counted; wall "
                "phases grow with the machine's load",
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
