import pandas as pd
import pytest

from rlvr_eval.analysis.accuracy_hist import ACCURACY_BINS, accuracy_bin_index, accuracy_histogram
from rlvr_eval.plots.analysis_figures import plot_accuracy_histograms
from figure_helpers import assert_figure_written


def counts(pairs: list[tuple[int, int]]) -> pd.DataFrame:
    """Per-problem counts (rlvr_eval.metrics.passk schema) from (n, c) pairs."""
    return pd.DataFrame({"problem_id": [f"p{i}" for i in range(len(pairs))], "n": [n for n, _ in pairs],
                         "c": [c for _, c in pairs]})


def test_bins_are_zero_tenths_right_closed_then_open_below_one_then_one():
    assert ACCURACY_BINS == ["0", "(0,0.1]", "(0.1,0.2]", "(0.2,0.3]", "(0.3,0.4]", "(0.4,0.5]", "(0.5,0.6]",
                             "(0.6,0.7]", "(0.7,0.8]", "(0.8,0.9]", "(0.9,1)", "1"]
    # every boundary j/10 belongs to the bin it closes, whatever the float rounding of j/10
    tenths = accuracy_bin_index([10] * 11, list(range(11)))
    assert [ACCURACY_BINS[i] for i in tenths] == ["0", "(0,0.1]", "(0.1,0.2]", "(0.2,0.3]", "(0.3,0.4]", "(0.4,0.5]",
                                                  "(0.5,0.6]", "(0.6,0.7]", "(0.7,0.8]", "(0.8,0.9]", "1"]
    just_above = accuracy_bin_index([1000, 1000, 1024, 128], [1, 301, 1023, 127])  # 0.001, 0.301, 0.999, 0.992
    assert [ACCURACY_BINS[i] for i in just_above] == ["(0,0.1]", "(0.3,0.4]", "(0.9,1)", "(0.9,1)"]


def test_histogram_of_base_and_rl_against_hand_counts():
    # base: spread out; rl: piled at 0 and 1 (the paper's picture)
    base = counts([(10, 0), (10, 1), (10, 3), (20, 19), (10, 10), (3, 1), (10, 5), (4, 2)])
    rl = counts([(10, 0), (10, 0), (10, 10), (20, 20), (10, 10), (3, 3), (10, 9), (4, 0)])
    table = accuracy_histogram({"base": base, "rl": rl}, labels={"pair": "toy", "benchmark": "bench"})
    assert list(table.columns) == ["pair", "benchmark", "bin", "model", "count", "fraction"]
    assert len(table) == 2 * len(ACCURACY_BINS)
    by_model = {m: dict(zip(t["bin"], t["count"])) for m, t in table.groupby("model")}
    expected_base = {"0": 1, "(0,0.1]": 1, "(0.2,0.3]": 1, "(0.3,0.4]": 1, "(0.4,0.5]": 2, "(0.9,1)": 1, "1": 1}
    expected_rl = {"0": 3, "(0.8,0.9]": 1, "1": 4}
    assert by_model["base"] == {b: expected_base.get(b, 0) for b in ACCURACY_BINS}
    assert by_model["rl"] == {b: expected_rl.get(b, 0) for b in ACCURACY_BINS}
    rl_rows = table[table["model"] == "rl"].set_index("bin")["fraction"]
    assert (rl_rows["0"], rl_rows["1"], rl_rows["(0.8,0.9]"]) == pytest.approx((3 / 8, 4 / 8, 1 / 8))
    assert table.groupby("model")["fraction"].sum().tolist() == pytest.approx([1.0, 1.0])
    assert table["bin"].tolist()[: len(ACCURACY_BINS)] == ACCURACY_BINS  # bins in order, base first


def test_models_must_cover_the_same_problems_and_counts_must_be_valid():
    base = counts([(10, 0), (10, 1)])
    with pytest.raises(ValueError, match="cover different problems"):
        accuracy_histogram({"base": base, "rl": base.head(1)})
    with pytest.raises(ValueError, match="0 <= c <= n"):
        accuracy_histogram({"base": counts([(4, 5)])})


def test_accuracy_histogram_figure(tmp_path):
    base = counts([(10, 0), (10, 1), (10, 3), (20, 19), (10, 10)])
    rl = counts([(10, 0), (10, 0), (10, 10), (20, 20), (10, 9)])
    tables = [accuracy_histogram({"base": base, "rl": rl}, labels={"benchmark": b}) for b in ("math500", "aime24")]
    paths = plot_accuracy_histograms(pd.concat(tables), tmp_path / "hist", [{"name": "p", "base": "base", "rl": "rl"}])
    assert_figure_written(paths, tmp_path / "hist")
