"""qwen_math against the paper's own grader: real greedy outputs of three 7-8B models on
gaokao2023en, each labelled `score` by the Qwen2.5-Math evaluation code (../shared/data/samples/
qwen_grader_gaokao2023en). They go through the real driver (worker processes, the paper's 3 s
deadline). `pytest -s` prints the agreement and every remaining difference."""

import json

import pandas as pd

from rlvr_eval.verify.driver import verify_samples
from workflow_helpers import SHARED

LABELLED = sorted((SHARED / "data" / "samples" / "qwen_grader_gaokao2023en").glob("*.jsonl"))
MIN_AGREEMENT = 0.995


def test_agrees_with_the_papers_grader_on_gaokao2023en():
    rows = [(path.name.split("__")[0], json.loads(line)) for path in LABELLED for line in path.open()]
    assert len(rows) == 1155
    # one "problem" per (model, problem): the three models answer the same 385 problems
    problems = pd.DataFrame({"problem_id": [f"{model}/{row['idx']}" for model, row in rows],
                             "reference": [row["answer"] for _, row in rows]})
    samples = pd.DataFrame({"problem_id": problems["problem_id"], "sample_index": 0,
                            "text": [row["code"][0] for _, row in rows]})
    verdicts = verify_samples(samples, problems, "qwen_math", timeout_s=3, workers=2, benchmark="gaokao2023en")

    labels = [row["score"][0] for _, row in rows]
    differences = [(pid, reference, row["pred"][0], extracted, status, label)
                   for pid, reference, extracted, status, label, (_, row)
                   in zip(verdicts["problem_id"], verdicts["reference"], verdicts["extracted"], verdicts["status"],
                          labels, rows)
                   if (status == "correct") != label]
    for d in differences:
        print("{}: reference {!r}, the original extracted {!r}, we extracted {!r}, graded {}, label {}".format(*d))
    agreement = 1 - len(differences) / len(rows)
    print(f"qwen_math vs the paper's grader: {agreement:.4%} of {len(rows)}, {len(differences)} differences; "
          f"statuses {verdicts['status'].value_counts().to_dict()}")
    assert agreement >= MIN_AGREEMENT
