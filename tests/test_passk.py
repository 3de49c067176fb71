from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from rlvr_eval.metrics.passk import (default_ks, mean_pass_at_k, pass_at_k, pass_at_k_exact, per_problem_counts,
                             per_problem_pass_at_k)


@pytest.mark.parametrize("n", [1, 2, 7, 64, 128, 1024])
def test_pass_at_k_matches_exact_rational_arithmetic(n):
    rng = np.random.default_rng(n)
    for c in sorted({0, 1, n // 3, n // 2, n - 1, n, *rng.integers(0, n + 1, 8).tolist()}):
        for k in sorted({1, min(2, n), n // 4 or 1, n // 2 or 1, n - 1 or 1, n, *rng.integers(1, n + 1, 8).tolist()}):
            exact = pass_at_k_exact(n, c, k)
            assert abs(Fraction(pass_at_k(n, c, k)) - exact) <= Fraction(1, 10**12), (n, c, k)


def test_pass_at_k_edge_cases():
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(10, 3, 8) == 1.0  # fewer than k wrong samples: some draw of k is always correct
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="k="):
        pass_at_k(4, 1, 5)
    with pytest.raises(ValueError, match="c="):
        pass_at_k(4, 5, 1)


def test_default_ks_are_powers_of_two_up_to_n():
    assert default_ks(1) == [1]
    assert default_ks(8) == [1, 2, 4, 8]
    assert default_ks(12) == [1, 2, 4, 8, 12]
    assert default_ks(1024)[-3:] == [256, 512, 1024]
    assert default_ks(5, every_k=True) == [1, 2, 3, 4, 5]


def test_per_problem_and_mean_pass_at_k_from_verdicts():
    verdicts = pd.DataFrame({
        "problem_id": ["a"] * 4 + ["b"] * 4,
        "sample_index": [0, 1, 2, 3] * 2,
        "correct": [True, False, False, False] + [False] * 4,
    })
    counts = per_problem_counts(verdicts)
    assert counts.set_index("problem_id")[["n", "c"]].to_dict("index") == {"a": {"n": 4, "c": 1}, "b": {"n": 4, "c": 0}}
    per_problem = per_problem_pass_at_k(counts, [1, 2, 4])
    assert per_problem["pass@1"].tolist() == pytest.approx([0.25, 0.0])
    assert per_problem["pass@2"].tolist() == pytest.approx([0.5, 0.0])
    assert mean_pass_at_k(per_problem, [1, 2, 4]).to_dict() == pytest.approx({1: 0.125, 2: 0.25, 4: 0.5})


def test_the_passk_tables_csv_and_markdown_hold_the_same_fractions_under_their_settings(tmp_path):
    from rlvr_eval.metrics.tables import passk_table, sample_counts, write_table

    counts = pd.DataFrame({"problem_id": ["a", "b", "c", "d"], "n": 4, "c": [0, 1, 2, 4]})
    per_problem = {"base": per_problem_pass_at_k(counts, [1, 4]),
                   "rl": per_problem_pass_at_k(counts.assign(c=[0, 0, 4, 4]), [1, 4])}
    settings = [{"model": m, "benchmark": "gsm8k", "grader": "math_verify", "n": 4, "temperature": 0.6, "top_p": 0.95,
                 "max_new_tokens": 512} for m in per_problem]
    table = passk_table(per_problem)
    write_table(table, tmp_path / "t.csv", tmp_path / "t.md", title="pass@k on gsm8k", counts=sample_counts(per_problem),
                settings=settings)
    csv = pd.read_csv(tmp_path / "t.csv")
    assert csv["base"].tolist() == [0.4375, 0.75]  # (0 + 1/4 + 2/4 + 1) / 4; three of four problems solved
    md = (tmp_path / "t.md").read_text()
    assert "### pass@k on gsm8k (grader math_verify; n = 4, temperature 0.6, top-p 0.95, max 512 new tokens)" in md
    assert "as a fraction (0 to 1)" in md
    assert "| 1 | 0.438 | 0.500 |" in md and "| 4 | 0.750 | 0.500 |" in md
