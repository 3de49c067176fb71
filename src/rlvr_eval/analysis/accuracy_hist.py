"""Distribution of per-problem accuracy c/n, base vs RL (the paper's accuracy histograms).

Bins: {0}, (0, 0.1], (0.1, 0.2], …, (0.8, 0.9], (0.9, 1), {1}. The two closed ends are bins of
their own because they are what pass@k at large k turns on: a problem at accuracy 0 is never
solved, one just above 0 is solved once k is large enough. RL typically empties the middle bins
into {1} and {0}.

Bin membership is decided in integers (10·c against j·n), so c/n = 0.3 lands in (0.2, 0.3]
whatever the float rounding of 3/10.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ACCURACY_BINS = ["0"] + [f"({j / 10:g},{(j + 1) / 10:g}]" for j in range(9)] + ["(0.9,1)", "1"]
HISTOGRAM_COLUMNS = ["bin", "model", "count", "fraction"]


def accuracy_bin_index(n: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Index into ACCURACY_BINS of each accuracy c/n."""
    n, c = np.asarray(n, dtype=np.int64), np.asarray(c, dtype=np.int64)
    if (n < 1).any() or (c < 0).any() or (c > n).any():
        raise ValueError("need n >= 1 and 0 <= c <= n for every problem")
    # 0 < c < n: bin j (0..9) holds j/10 < c/n <= (j+1)/10, i.e. j = ceil(10c/n) - 1
    middle = (10 * c + n - 1) // n  # ceil(10c/n) in 1..10; equals 1 + j
    return np.where(c == 0, 0, np.where(c == n, len(ACCURACY_BINS) - 1, middle))


def accuracy_histogram(counts_by_model: dict[str, pd.DataFrame], labels: dict[str, str] | None = None) -> pd.DataFrame:
    """counts_by_model: model -> per-problem counts (problem_id, n, c; rlvr_eval.metrics.passk schema).

    Every model must cover the same problems (a histogram over different problem sets compares
    nothing). Returns one row per (bin, model), bins in ACCURACY_BINS order, models in the given
    order; `labels` (e.g. {"pair": …, "benchmark": …}) are prepended as constant columns.
    """
    if not counts_by_model:
        raise ValueError("no models given")
    problem_sets = {m: set(df["problem_id"].astype(str)) for m, df in counts_by_model.items()}
    reference_model, reference = next(iter(problem_sets.items()))
    for model, problems in problem_sets.items():
        if problems != reference:
            raise ValueError(f"models {reference_model!r} and {model!r} cover different problems "
                             f"({len(reference - problems)} only in the first, {len(problems - reference)} only in the second)")
    if not reference:
        raise ValueError("the count tables hold no problems")
    frames = []
    for model, df in counts_by_model.items():
        if df["problem_id"].astype(str).duplicated().any():
            raise ValueError(f"model {model!r}: duplicate problem ids in the count table")
        idx = accuracy_bin_index(df["n"].to_numpy(), df["c"].to_numpy())
        count = np.bincount(idx, minlength=len(ACCURACY_BINS))
        frames.append(pd.DataFrame({"bin": ACCURACY_BINS, "model": model, "count": count.astype(int),
                                    "fraction": count / len(df)}))
    table = pd.concat(frames, ignore_index=True)
    for i, (name, value) in enumerate((labels or {}).items()):
        table.insert(i, name, value)
    return table
