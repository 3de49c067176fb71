"""qwen_math against the paper's own grader: real greedy outputs of three 7-8B models on
gaokao2023en, each labelled `score` by the Qwen2.5-Math evaluation code (../shared/data/samples/
qwen_grader_gaokao2023en). `pytest -s` prints the agreement and every remaining difference."""

import json

from rlvr_eval.verify.qwen_math_grader import grade
from workflow_helpers import SHARED

LABELLED = sorted((SHARED / "data" / "samples" / "qwen_grader_gaokao2023en").glob("*.jsonl"))
MIN_AGREEMENT = 0.995


def test_agrees_with_the_papers_grader_on_gaokao2023en():
    rows = [(path.name.split("__")[0], json.loads(line)) for path in LABELLED for line in path.open()]
    assert len(rows) == 1155
    differences = []
    for model, row in rows:
        status, extracted = grade(row["code"][0], row["answer"], "gaokao2023en")
        if (status == "correct") != row["score"][0]:
            differences.append((model, row["idx"], row["answer"], row["pred"][0], extracted, status, row["score"][0]))
    for d in differences:
        print("{} #{}: reference {!r}, original extracted {!r}, we extracted {!r}, graded {}, label {}".format(*d))
    agreement = 1 - len(differences) / len(rows)
    print(f"qwen_math vs the paper's grader: {agreement:.4%} of {len(rows)}, {len(differences)} differences")
    assert agreement >= MIN_AGREEMENT
