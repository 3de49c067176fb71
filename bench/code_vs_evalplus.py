"""evalplus 0.3.1 against rlvr_eval's code verifier on the same samples: verdicts and throughput.

    .venv/bin/pip install evalplus==0.3.1      # once (bench only; not a project dependency)
    .venv/bin/python bench/code_vs_evalplus.py --dataset humaneval --workers 2
    .venv/bin/python bench/code_vs_evalplus.py --dataset mbpp --limit 100 --workers 2

Samples (all distinct programs, so that neither tool is helped by duplicates): per problem the canonical
solution, the original HumanEval canonical solution where it differs, mechanical mutants of the canonical
solution (a comparison or an arithmetic operator flipped), a function returning None, one raising, and for
every 20th problem an endless loop. evalplus reads the local dataset files (HUMANEVAL_OVERRIDE_PATH /
MBPP_OVERRIDE_PATH; with --limit, a file of the first N problems), its ground truth is computed before
timing, and its `*_eval_results.json` is deleted before the run (it silently reuses it). Both tools check
base + plus tests with the same number of workers; the report lists every verdict that differs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rlvr_eval.code import evalplus_tests as et
from rlvr_eval.code import sandbox
from rlvr_eval.code.verifier import check_functional, run_many

MIRROR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "benchmarks"
FILES = {"humaneval": "humanevalplus/HumanEvalPlus-v0.1.10.jsonl.gz", "mbpp": "mbppplus/MbppPlus-v0.2.0.jsonl.gz"}


def completions(dataset: str, row: dict, original: dict, i: int) -> list[str]:
    """Distinct programs for one problem (full solutions, as evalplus's `solution` field)."""
    canonical = row["canonical_solution"]
    body_prefix = row["prompt"] if dataset == "humaneval" else ""
    out = [body_prefix + canonical]
    if dataset == "humaneval" and row["task_id"] in original:
        out.append(row["prompt"] + original[row["task_id"]])
    for old, new in ((" < ", " <= "), (" > ", " >= "), (" + 1", ""), (" - 1", ""), ("==", "!="), (" + ", " - ")):
        if old in canonical:
            out.append(body_prefix + canonical.replace(old, new, 1))
    if dataset == "humaneval":
        out += [row["prompt"] + "    return None\n", row["prompt"] + "    raise ValueError('no idea')\n"]
        if i % 20 == 0:
            out.append(row["prompt"] + "    while True:\n        pass\n")
    elif canonical.lstrip().startswith("def ") or "\ndef " in canonical:
        fn = f"def {row['entry_point']}(*args):\n"
        out += [canonical + "\n" + fn + "    return None\n", canonical + "\n" + fn + "    raise ValueError('no idea')\n"]
        if i % 20 == 0:
            out.append(canonical + "\n" + fn + "    while True:\n        pass\n")
    return list(dict.fromkeys(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=sorted(FILES), default="humaneval")
    ap.add_argument("--limit", type=int, default=None, help="first N problems only")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--mirror", type=Path, default=MIRROR)
    ap.add_argument("--out", type=Path, default=Path("results/bench/code_vs_evalplus"))
    args = ap.parse_args()
    dataset = args.dataset
    rows = [json.loads(line) for line in gzip.open(args.mirror / FILES[dataset], "rt")][: args.limit]
    original = {}
    if dataset == "humaneval":
        original = {r["task_id"]: r["canonical_solution"]
                    for r in map(json.loads, gzip.open(args.mirror / "humaneval/HumanEval.jsonl.gz", "rt"))}
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="code-vs-evalplus-", dir=args.out))
    data_file = work / f"{dataset}.jsonl"
    data_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    samples = [{"task_id": r["task_id"], "solution": c} for i, r in enumerate(rows) for c in completions(dataset, r, original, i)]
    samples_file = work / "samples.jsonl"
    samples_file.write_text("".join(json.dumps(s) + "\n" for s in samples))
    print(f"{dataset}: {len(rows)} problems, {len(samples)} samples, {args.workers} workers, in {work}")

    # --- evalplus ------------------------------------------------------------------------------------
    env = {**os.environ, "HUMANEVAL_OVERRIDE_PATH" if dataset == "humaneval" else "MBPP_OVERRIDE_PATH": str(data_file)}
    getter = "get_human_eval_plus" if dataset == "humaneval" else "get_mbpp_plus"
    not_none = "[]" if dataset == "humaneval" else "MBPP_OUTPUT_NOT_NONE_TASKS"
    t = time.monotonic()
    subprocess.run([sys.executable, "-c", f"from evalplus.data import {getter}, {getter}_hash; "
                    "from evalplus.eval._special_oracle import MBPP_OUTPUT_NOT_NONE_TASKS; "
                    f"from evalplus.evaluate import get_groundtruth; get_groundtruth({getter}(), {getter}_hash(), {not_none})"],
                   env=env, check=True, capture_output=True)
    evalplus_truth_s = time.monotonic() - t
    result_file = work / "samples_eval_results.json"
    result_file.unlink(missing_ok=True)  # evalplus would silently reuse it
    t = time.monotonic()
    subprocess.run([sys.executable, "-m", "evalplus.evaluate", "--dataset", dataset, "--samples", str(samples_file),
                    "--parallel", str(args.workers), "--i_just_wanna_run"], env=env, check=True, capture_output=True)
    evalplus_s = time.monotonic() - t
    ep = json.loads(result_file.read_text())["eval"]

    # --- ours ----------------------------------------------------------------------------------------
    isolation = sandbox.detect_isolation()
    t = time.monotonic()
    expected = {r["task_id"]: et.run_canonical(dataset, r, isolation) for r in rows}
    ours_truth_s = time.monotonic() - t
    tests = {r["task_id"]: et.functional_tests(dataset, r, expected[r["task_id"]]) for r in rows}
    t = time.monotonic()
    verdicts = run_many([(s["solution"], tests[s["task_id"]]) for s in samples],
                        lambda code, tt: check_functional(code, tt, et.limits(), isolation), args.workers)
    ours_s = time.monotonic() - t

    # --- compare -------------------------------------------------------------------------------------
    position: dict[str, int] = {}
    differences = []
    agree = 0
    for s, v in zip(samples, verdicts):
        k = position.get(s["task_id"], 0)
        position[s["task_id"]] = k + 1
        e = ep[s["task_id"]][k]
        assert e["solution"] == s["solution"]
        theirs = (e["base_status"] == "pass", e["base_status"] == e["plus_status"] == "pass")
        mine = ("base" in v.groups_passed, v.status == "passed")
        if theirs == mine:
            agree += 1
        else:
            differences.append({"task_id": s["task_id"], "sample": k, "evalplus": [e["base_status"], e["plus_status"]],
                                "ours": [v.status, v.failure, list(v.groups_passed)]})
    summary = {
        "dataset": dataset, "problems": len(rows), "samples": len(samples), "workers": args.workers,
        "isolation": isolation, "sandbox_environment": sandbox.environment(),
        "evalplus_seconds": round(evalplus_s, 2), "ours_seconds": round(ours_s, 2),
        "throughput_ratio": round(evalplus_s / ours_s, 2),
        "ground_truth_seconds": {"evalplus": round(evalplus_truth_s, 2), "ours": round(ours_truth_s, 2)},
        "same_verdicts": agree, "different_verdicts": len(differences),
        "our_statuses": {st: sum(v.status == st for v in verdicts) for st in ("passed", "failed", "timeout", "error")},
        # where our time goes: sandbox seconds of passing and failing samples, and the slowest problems
        "our_sample_seconds": {st: round(sum(v.seconds for v in verdicts if v.status == st), 1)
                               for st in ("passed", "failed", "timeout", "error")},
        "our_slowest_problems": sorted(((round(sum(v.seconds for s, v in zip(samples, verdicts) if s["task_id"] == t), 1), t)
                                        for t in {s["task_id"] for s in samples}), reverse=True)[:8],
        "differences": differences,
    }
    (args.out / f"{dataset}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "differences"}, indent=2))
    for d in differences:
        print("DIFF", json.dumps(d))


if __name__ == "__main__":
    main()
