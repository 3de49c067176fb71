from math import comb, sqrt

import numpy as np
import pandas as pd
import pytest

from rlvr_eval.analysis.bootstrap import (bootstrap_mean_passk, bootstrap_pair, crossover_k, difference_intervals,
                                          passk_intervals)
from rlvr_eval.plots.analysis_figures import plot_passk_grid
from rlvr_eval.metrics.passk import per_problem_pass_at_k
from figure_helpers import assert_figure_written


def per_problem(values: dict[int, list[float]]) -> pd.DataFrame:
    """Per-problem pass@k table (rlvr_eval.metrics.passk schema, pass@k columns only) from {k: values by problem}."""
    size = len(next(iter(values.values())))
    return pd.DataFrame({"problem_id": [f"p{i:03d}" for i in range(size)], **{f"pass@{k}": v for k, v in values.items()}})


def test_bootstrap_standard_error_of_a_mean_of_0_1_values_matches_the_closed_form():
    # 400 problems with one sample each, 120 correct: pass@1 values are 0/1 with p = 0.3. The bootstrap
    # distribution of their mean has variance p(1-p)/N exactly; B = 20000 estimates its SD within ~0.5%.
    n_problems, p = 400, 0.3
    counts = pd.DataFrame({"problem_id": [str(i) for i in range(n_problems)], "n": 1,
                           "c": [1] * 120 + [0] * 280})
    result = bootstrap_mean_passk({"model": per_problem_pass_at_k(counts, [1])}, num_resamples=20000, seed=7)
    closed_form_se = sqrt(p * (1 - p) / n_problems)
    assert result.replicates[:, 0, 0].std() == pytest.approx(closed_form_se, rel=0.03)
    row = passk_intervals(result, confidence=0.95).iloc[0]
    assert row["pass@k"] == pytest.approx(p)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((p - 1.96 * closed_form_se, p + 1.96 * closed_form_se), abs=0.005)


def test_identical_problems_give_zero_width_intervals():
    # every problem has 3 of 8 correct (base) and 6 of 8 (RL): every replicate equals the full data
    counts_base = pd.DataFrame({"problem_id": [str(i) for i in range(30)], "n": 8, "c": 3})
    counts_rl = counts_base.assign(c=6)
    report = bootstrap_pair(counts_base, counts_rl, "base", "rl", ks=[1, 2, 4, 8], num_resamples=200)
    passk, difference, crossover = report["passk"], report["difference"], report["crossover"]
    assert np.allclose(passk["ci_low"], passk["pass@k"]) and np.allclose(passk["ci_high"], passk["pass@k"])
    assert np.allclose(difference["ci_low"], difference["diff"]) and np.allclose(difference["ci_high"], difference["diff"])
    assert passk.set_index(["k", "model"]).loc[(1, "base"), "pass@k"] == pytest.approx(3 / 8)
    # base − RL = (1 − C(5,k)/C(8,k)) − (1 − C(2,k)/C(8,k)) = (C(2,k) − C(5,k)) / C(8,k)
    assert difference["diff"].tolist() == pytest.approx([(comb(2, k) - comb(5, k)) / comb(8, k) for k in (1, 2, 4, 8)])
    # base reaches RL only at k = 8, where both are 1: a tie counts as the crossover
    assert (crossover["crossover_k"], crossover["ci_low"], crossover["ci_high"]) == (8, 8, 8)
    assert crossover["fraction_no_crossover"] == 0.0 and crossover["distribution"] == {"8": 1.0}


def test_difference_is_paired_and_aligned_by_problem_id():
    rng = np.random.default_rng(0)
    base = per_problem({1: rng.random(50).tolist(), 4: rng.random(50).tolist()})
    same_rows_shuffled = base.sample(frac=1.0, random_state=1)
    report = bootstrap_pair(base, same_rows_shuffled, "base", "rl", num_resamples=500)
    # the same resampled problems for both models: a model against itself differs by exactly 0 in every replicate
    assert np.all(report["difference"][["diff", "ci_low", "ci_high"]].to_numpy() == 0)
    passk = report["passk"].set_index(["k", "model"])
    assert passk.loc[(1, "base"), "ci_high"] > passk.loc[(1, "base"), "ci_low"]  # each model alone does vary


def test_tables_columns_labels_and_seed_reproducibility():
    base = per_problem({1: [0.1, 0.2, 0.9, 0.4], 2: [0.3, 0.5, 1.0, 0.6]})
    rl = per_problem({1: [0.5, 0.1, 0.9, 0.6], 2: [0.6, 0.1, 0.95, 0.7]})
    labels = {"pair": "toy", "benchmark": "bench"}
    first = bootstrap_pair(base, rl, "b", "r", num_resamples=300, seed=3, labels=labels)
    again = bootstrap_pair(base, rl, "b", "r", num_resamples=300, seed=3, labels=labels)
    other_seed = bootstrap_pair(base, rl, "b", "r", num_resamples=300, seed=4, labels=labels)
    assert list(first["passk"].columns) == ["pair", "benchmark", "k", "model", "pass@k", "ci_low", "ci_high"]
    assert list(first["difference"].columns) == ["pair", "benchmark", "k", "diff", "ci_low", "ci_high"]
    assert first["passk"].equals(again["passk"]) and first["crossover"] == again["crossover"]
    assert not first["passk"].equals(other_seed["passk"])
    assert first["crossover"]["pair"] == "toy" and first["crossover"]["problems"] == 4
    assert (first["passk"]["ci_low"] <= first["passk"]["pass@k"]).all()
    assert (first["passk"]["pass@k"] <= first["passk"]["ci_high"]).all()


def test_crossover_k_is_the_first_k_where_base_catches_up():
    ks = [1, 2, 4, 8, 16]
    assert crossover_k(ks, [0.3, 0.5, 0.6, 0.70, 0.80], [0.5, 0.6, 0.65, 0.66, 0.67]) == 8
    assert crossover_k(ks, [0.3, 0.5, 0.6, 0.66, 0.80], [0.5, 0.6, 0.65, 0.66, 0.67]) == 8  # tie counts
    assert crossover_k(ks, [0.3, 0.5, 0.6, 0.6, 0.6], [0.5, 0.6, 0.65, 0.66, 0.67]) is None
    assert crossover_k(ks, [0.9] * 5, [0.5] * 5) == 1


def test_crossover_distribution_matches_the_binomial_closed_form():
    # At k = 1, 51 of 101 problems favour base by 0.1 and 50 favour RL by 0.1; at k = 2 base is far ahead.
    # A replicate crosses at k = 1 iff it draws >= 51 base-favouring problems: X ~ Binomial(101, 51/101).
    plus, minus = 51, 50
    base = per_problem({1: [0.6] * plus + [0.4] * minus, 2: [1.0] * (plus + minus)})
    rl = per_problem({1: [0.5] * (plus + minus), 2: [0.6] * (plus + minus)})
    q, n = plus / (plus + minus), plus + minus
    p_cross_at_1 = sum(comb(n, x) * q**x * (1 - q) ** (n - x) for x in range(plus, n + 1))
    crossover = bootstrap_pair(base, rl, "base", "rl", num_resamples=4000, seed=11)["crossover"]
    assert crossover["crossover_k"] == 1  # the full data: mean diff at k = 1 is +0.1/101
    assert crossover["distribution"]["1"] == pytest.approx(p_cross_at_1, abs=0.03)
    assert crossover["distribution"]["1"] + crossover["distribution"]["2"] == pytest.approx(1.0)
    assert (crossover["ci_low"], crossover["ci_high"], crossover["fraction_no_crossover"]) == (1, 2, 0.0)


def test_no_crossover_in_any_replicate():
    base = per_problem({1: [0.1, 0.2, 0.3], 8: [0.4, 0.5, 0.6]})
    rl = per_problem({1: [0.5, 0.6, 0.7], 8: [0.8, 0.9, 1.0]})
    result = bootstrap_mean_passk({"base": base, "rl": rl}, num_resamples=100)
    crossover = bootstrap_pair(base, rl, num_resamples=100)["crossover"]
    assert crossover["crossover_k"] is None and crossover["fraction_no_crossover"] == 1.0
    assert (crossover["ci_low"], crossover["ci_high"], crossover["distribution"]) == (None, None, {"none": 1.0})
    assert (difference_intervals(result, "base", "rl")["ci_high"] < 0).all()


def test_mismatched_problems_and_missing_ks_are_errors():
    base = per_problem({1: [0.1, 0.2, 0.3]})
    with pytest.raises(ValueError, match="cover different problems"):
        bootstrap_pair(base, base.head(2))
    counts = pd.DataFrame({"problem_id": ["a", "b"], "n": [4, 2], "c": [1, 1]})
    with pytest.raises(ValueError, match=r"k=\[4\] needs at least that many samples"):
        bootstrap_mean_passk({"m": counts}, ks=[1, 4])


def test_passk_grid_figure_with_bands(tmp_path):
    rng = np.random.default_rng(0)
    tables = []
    for benchmark in ("math500", "aime24"):
        base = pd.DataFrame({"problem_id": [str(i) for i in range(40)], "n": 16, "c": rng.integers(0, 17, 40)})
        rl = base.assign(c=rng.integers(0, 17, 40))
        tables.append(bootstrap_pair(base, rl, "base", "rl", ks=[1, 2, 4, 8, 16], num_resamples=200,
                                     labels={"benchmark": benchmark})["passk"])
    paths = plot_passk_grid(pd.concat(tables), tmp_path / "passk", [{"name": "p", "base": "base", "rl": "rl"}])
    assert_figure_written(paths, tmp_path / "passk")


def test_the_run_summary_gives_pass_at_k_with_an_interval_and_its_settings():
    from rlvr_eval.analysis.summary import score_entry, to_markdown
    from rlvr_eval.metrics.passk import per_problem_pass_at_k

    counts = pd.DataFrame({"problem_id": [str(i) for i in range(10)], "n": 4, "c": [0, 1, 2, 3, 4] * 2})
    entry = {"model": "m", "benchmark": "gsm8k", "grader": "math_verify", "n": 4, "temperature": 0.6, "top_p": 0.95,
             "max_new_tokens": 512}
    score = score_entry(entry, per_problem_pass_at_k(counts, [1, 2, 4]), num_resamples=200, seed=0, confidence=0.95)
    assert score["problems"] == 10 and set(score["pass_at_k"]) == {"1", "2", "4"}
    assert score["pass_at_k"]["1"]["value"] == 50.0  # (0 + 1 + 2 + 3 + 4) / 4 / 5
    assert score["pass_at_k"]["4"]["value"] == 80.0  # every problem but the two with c = 0
    assert all(c["ci_low"] <= c["value"] <= c["ci_high"] for c in score["pass_at_k"].values())
    md = to_markdown([score], note="Left out of this run: x (enabled: false).")
    assert "## gsm8k (grader math_verify; n = 4, temperature 0.6, top-p 0.95, max 512 new tokens)" in md
    assert "| m | 10 | 50.0 [" in md and md.rstrip().endswith("Left out of this run: x (enabled: false).")
