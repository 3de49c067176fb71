"""The filtered benchmark of the paper's Fig. 12: a problem answered correctly without reasoning in more than 0
and under max_rate of the direct-answer samples is removed before the pair's pass@k is averaged."""

import pandas as pd
import pytest

from rlvr_eval.analysis.guessable import filtered_passk, guessable_ids
from rlvr_eval.metrics.passk import per_problem_pass_at_k


def per_problem(correct: dict[str, int], n: int) -> pd.DataFrame:
    counts = pd.DataFrame({"problem_id": list(correct), "n": n, "c": list(correct.values())})
    return per_problem_pass_at_k(counts, [1, 2, 4])


def test_a_problem_guessed_now_and_then_goes_one_never_or_often_answered_directly_stays():
    # 128 direct answers each: never right, right 3 times (2.3 %: guessed), right 64 times (an easy problem)
    direct = per_problem({"never": 0, "rarely": 3, "often": 64}, n=128)
    assert guessable_ids(direct, max_rate=0.05) == ["rarely"]
    assert guessable_ids(direct, max_rate=0.01) == []


def test_the_pairs_pass_at_k_is_the_mean_over_the_kept_problems():
    direct = per_problem({"a": 0, "b": 3, "c": 64}, n=128)
    base, rl = per_problem({"a": 1, "b": 4, "c": 2}, n=4), per_problem({"a": 0, "b": 4, "c": 4}, n=4)
    table, detail = filtered_passk(base, rl, direct, 0.05, pair="p", benchmark="aime24", base_model="b", rl_model="r")
    assert detail["removed"] == ["b"] and detail["kept"] == ["a", "c"]
    # base: a 1 of 4, c 2 of 4 -> pass@1 (0.25 + 0.5) / 2; rl: a 0 of 4, c 4 of 4 -> 0.5 at every k
    assert table["base_pass@k"].tolist() == pytest.approx([0.375, (0.5 + 5 / 6) / 2, 1.0])
    assert table["rl_pass@k"].tolist() == pytest.approx([0.5, 0.5, 0.5])
    assert set(table["kept"]) == {2} and set(table["removed"]) == {1}


def test_the_three_models_must_share_their_problems_and_something_must_be_left():
    direct = per_problem({"a": 1, "b": 2}, n=128)
    with pytest.raises(ValueError, match="not evaluated on the same problems"):
        filtered_passk(per_problem({"a": 1}, 4), per_problem({"a": 1}, 4), direct, 0.05, pair="p", benchmark="x",
                       base_model="b", rl_model="r")
    with pytest.raises(ValueError, match="every problem is guessable"):
        filtered_passk(per_problem({"a": 1, "b": 1}, 4), per_problem({"a": 1, "b": 1}, 4), direct, 0.05, pair="p",
                       benchmark="x", base_model="b", rl_model="r")
