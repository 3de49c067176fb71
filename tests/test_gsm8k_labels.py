"""The math-verify grader against correctness labels nobody on this project wrote.

../shared/data/samples/gsm8k_gpt3_solutions.jsonl holds four GPT-3 solutions for each of the 1319
GSM8K test problems (6B/175B, fine-tuned and with a verifier), each ending in a line `A: <number>`
and labelled `is_correct` by the dataset authors. Every solution goes through the real pipeline
(benchmark loader -> verify_samples with 2 worker processes); the verdicts must agree with the
labels on at least 99 % of them. `pytest -s` prints the agreement and every disagreement.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from rlvr_eval.data.benchmarks import load_benchmark
from rlvr_eval.verify.driver import verify_samples

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SOLUTIONS = SHARED / "data" / "samples" / "gsm8k_gpt3_solutions.jsonl"
SOLVERS = ["6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"]
MIN_AGREEMENT = 0.99


def test_math_verify_agrees_with_gsm8k_labels(mirror):
    rows = [json.loads(line) for line in SOLUTIONS.read_text().splitlines() if line.strip()]
    problems, _ = load_benchmark("gsm8k", mirror)
    assert len(rows) == len(problems) == 1319
    # Same problems in the same order; the labels' own reference (the `A:` line) matches ours.
    assert [r["question"] for r in rows] == problems["question"].tolist()
    assert [r["ground_truth"].rstrip().rsplit("A:", 1)[1].strip().replace(",", "") for r in rows] \
        == problems["reference"].tolist()

    samples = pd.DataFrame(
        [(pid, k, row[solver]["solution"], row[solver]["is_correct"])
         for pid, row in zip(problems["problem_id"], rows) for k, solver in enumerate(SOLVERS)],
        columns=["problem_id", "sample_index", "text", "label"],
    )
    verdicts = verify_samples(samples, problems, "math_verify", timeout_s=10, workers=2)

    agree = verdicts["correct"].to_numpy() == samples["label"].to_numpy()
    print(f"\nmath_verify vs GSM8K labels: {agree.mean():.4%} agreement "
          f"({int(agree.sum())}/{len(agree)}), {int((~agree).sum())} disagreements; statuses "
          f"{verdicts['status'].value_counts().to_dict()}")
    for i in (~agree).nonzero()[0]:
        v = verdicts.iloc[i]
        print(f"  problem {v.problem_id} {SOLVERS[v.sample_index]}: label={samples['label'][i]} "
              f"status={v.status} extracted={v.extracted!r} reference={v.reference!r} "
              f"ending={samples['text'][i][-80:]!r}")
    assert agree.mean() >= MIN_AGREEMENT
