import pandas as pd
import pytest

from rlvr_eval.analysis.coverage import CoverageError, coverage_report, solved_within_k, write_coverage
from rlvr_eval.plots.analysis_figures import plot_coverage_bars
from rlvr_eval.io import read_json
from rlvr_eval.metrics.passk import per_problem_counts
from figure_helpers import assert_figure_written


def verdicts(outcomes: dict[str, str]) -> pd.DataFrame:
    """Verdict rows from {problem_id: "01.." (1 = correct sample, by sample_index)}, rows deliberately
    in reverse order: "the first k samples" must come from sample_index, not from row order."""
    rows = [{"problem_id": p, "sample_index": i, "status": "correct" if ch == "1" else "wrong", "correct": ch == "1"}
            for p, marks in outcomes.items() for i, ch in enumerate(marks)]
    return pd.DataFrame(rows[::-1])


# Four problems, four samples each.
#   k=4: base solves p1 p2 p4, RL solves p1 p3 p4 -> both {p1,p4}, base only {p2}, RL only {p3}: RL ⊄ base
#   k=2: base solves p1 p4 (p2's hit is sample 3), RL solves p1 p4 (p3's hit is sample 2) -> RL ⊆ base
#   k=1: base solves p4, RL solves p1 p4 -> RL only {p1}
BASE = verdicts({"p1": "0100", "p2": "0001", "p3": "0000", "p4": "1111"})
RL = verdicts({"p1": "1111", "p2": "0000", "p3": "0010", "p4": "1000"})


@pytest.fixture(scope="module")
def report():
    return coverage_report(BASE, RL, ks=[4, 2, 1], pair="toy", benchmark="bench", base_model="b", rl_model="r")


def groups_at(table: pd.DataFrame, k: int) -> dict[str, int]:
    rows = table[table["k"] == k]
    return dict(zip(rows["group"], rows["count"]))


def test_groups_counts_and_fractions_at_each_k(report):
    table, _ = report
    assert list(table.columns) == ["pair", "benchmark", "k", "group", "count", "fraction", "rl_solved_subset_of_base"]
    assert groups_at(table, 4) == {"both": 2, "base_only": 1, "rl_only": 1, "neither": 0}
    assert groups_at(table, 2) == {"both": 2, "base_only": 0, "rl_only": 0, "neither": 2}
    assert groups_at(table, 1) == {"both": 1, "base_only": 0, "rl_only": 1, "neither": 2}
    at_4 = table[table["k"] == 4].set_index("group")["fraction"]
    assert at_4.to_dict() == pytest.approx({"both": 0.5, "base_only": 0.25, "rl_only": 0.25, "neither": 0.0})
    assert table.groupby("k")["fraction"].sum().tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert set(table["pair"]) == {"toy"} and set(table["benchmark"]) == {"bench"}


def test_subset_flag_false_when_rl_solves_a_problem_base_does_not(report):
    table, ids = report
    subset = table.groupby("k")["rl_solved_subset_of_base"].first().to_dict()
    assert subset == {1: False, 2: True, 4: False}
    assert ids["by_k"]["4"]["rl_solved_subset_of_base"] is False
    assert ids["by_k"]["2"]["rl_solved_subset_of_base"] is True


def test_problem_ids_of_each_group_written_as_json(report, tmp_path):
    table, ids = report
    write_coverage(table, ids, tmp_path / "coverage.csv", tmp_path / "coverage.json")
    saved = read_json(tmp_path / "coverage.json")
    assert saved["by_k"]["4"]["both"] == ["p1", "p4"]
    assert saved["by_k"]["4"]["base_only"] == ["p2"]
    assert saved["by_k"]["4"]["rl_only"] == ["p3"]
    assert saved["by_k"]["1"]["rl_only"] == ["p1"]
    assert saved["by_k"]["2"]["neither"] == ["p2", "p3"]
    assert (saved["pair"], saved["base_model"], saved["rl_model"], saved["problems"]) == ("toy", "b", "r", 4)
    assert pd.read_csv(tmp_path / "coverage.csv").equals(table)


def test_default_k_is_n_and_count_tables_give_the_same_answer():
    from_verdicts, _ = coverage_report(BASE, RL)
    from_counts, _ = coverage_report(per_problem_counts(BASE), per_problem_counts(RL))
    assert set(from_verdicts["k"]) == {4}
    assert from_verdicts.equals(from_counts)


def test_count_tables_cannot_answer_k_below_n():
    with pytest.raises(CoverageError, match="k = n"):
        solved_within_k(per_problem_counts(BASE), 2, "b")


def test_papers_math500_split_from_count_tables():
    # 500 problems, n = 128: 462 solved by both, 18 by the base model only, 5 by RL only, 15 by neither
    layout = ["both"] * 462 + ["base_only"] * 18 + ["rl_only"] * 5 + ["neither"] * 15
    base = pd.DataFrame({"problem_id": [str(i) for i in range(500)], "n": 128,
                         "c": [7 if g in ("both", "base_only") else 0 for g in layout]})
    rl = base.assign(c=[90 if g in ("both", "rl_only") else 0 for g in layout])
    table, _ = coverage_report(base, rl, ks=[128], pair="qwen2.5-7b/simplerl-zoo", benchmark="math500")
    percent = (100 * table.set_index("group")["fraction"]).to_dict()
    assert percent == pytest.approx({"both": 92.4, "base_only": 3.6, "rl_only": 1.0, "neither": 3.0})
    assert not table["rl_solved_subset_of_base"].any()


def test_too_few_samples_is_an_error_naming_model_and_k():
    short_rl = RL[~((RL["problem_id"] == "p3") & (RL["sample_index"] >= 2))]  # p3 has samples 0, 1 only
    with pytest.raises(CoverageError, match=r"^r: 1 of 4 problems lack samples 0\.\.3 .*k=4"):
        coverage_report(BASE, short_rl, ks=[4], base_model="b", rl_model="r")
    table, _ = coverage_report(BASE, short_rl, ks=[2])  # enough samples for k = 2
    assert groups_at(table, 2)["neither"] == 2
    with pytest.raises(CoverageError, match="one n for every problem"):
        coverage_report(BASE, short_rl)  # k = n is ambiguous when n differs


def test_different_problem_sets_and_duplicates_are_errors():
    with pytest.raises(CoverageError, match="different problems"):
        coverage_report(BASE, RL[RL["problem_id"] != "p2"], ks=[2])
    with pytest.raises(CoverageError, match="duplicate"):
        coverage_report(pd.concat([BASE, BASE.head(1)]), RL, ks=[2])


def test_coverage_bars_figure(report, tmp_path):
    table, _ = report
    other_pair = table.assign(pair="toy-2")
    assert_figure_written(plot_coverage_bars(pd.concat([table, other_pair]), tmp_path / "coverage"), tmp_path / "coverage")
    with pytest.raises(ValueError, match="lacks columns"):
        plot_coverage_bars(table.drop(columns="group"), tmp_path / "broken")
