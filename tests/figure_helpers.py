"""Checks shared by the figure tests."""


def assert_figure_written(paths, prefix) -> None:
    """PNG and PDF beside the prefix, each a real, non-blank image file."""
    import matplotlib.image

    assert [str(p) for p in paths] == [f"{prefix}.png", f"{prefix}.pdf"]
    png, pdf = (p.read_bytes() for p in paths)
    assert png.startswith(b"\x89PNG") and pdf.startswith(b"%PDF") and len(png) > 5000 and len(pdf) > 1000
    assert matplotlib.image.imread(paths[0]).std() > 0.01  # something was drawn


# --- a synthetic grid at the paper's scale: 12 models (six pairs, one base shared by two, one distilled pair, one
# model in no pair) x 6 benchmarks (one where every model fails, like the demo's code benchmark) ---------------
PAPER_PAIRS = [
    {"name": "qwen7b-simplerl", "base": "Qwen2.5-7B", "rl": "Qwen2.5-7B-SimpleRL-Zoo"},
    {"name": "qwen7b-oat", "base": "Qwen2.5-7B", "rl": "Oat-Zero-7B"},
    {"name": "qwen14b-simplerl", "base": "Qwen2.5-14B", "rl": "Qwen2.5-14B-SimpleRL-Zoo"},
    {"name": "qwen32b-dapo", "base": "Qwen2.5-32B", "rl": "DAPO-Qwen-32B"},
    {"name": "llama8b-simplerl", "base": "Llama-3.1-8B", "rl": "Llama-3.1-8B-SimpleRL-Zoo"},
    {"name": "math7b-r1", "base": "Qwen2.5-Math-7B", "rl": "DeepSeek-R1-Distill-Qwen-7B", "kind": "distilled"},
]
UNPAIRED = "Qwen2.5-7B-Instruct"
PAPER_MODELS = list(dict.fromkeys([m for p in PAPER_PAIRS for m in (p["base"], p["rl"])] + [UNPAIRED]))
PAPER_BENCHMARKS = {"gsm8k": 128, "math500": 128, "minerva_math": 128, "olympiadbench": 128, "aime24": 256,
                    "humanevalplus": 64}  # benchmark -> n
ALL_FAIL = "humanevalplus"


def synthetic_grid(problems: int = 40, resamples: int = 100, seed: int = 0) -> dict:
    """The inputs of every figure function for PAPER_MODELS x PAPER_BENCHMARKS, made by the analysis functions the
    rules call from synthetic per-problem counts: {"tables", "intervals", "per_pair": pair -> {passk, hist,
    coverage, perplexity}}. RL models solve more at k = 1 and fewer problems at all; the base models the reverse."""
    import numpy as np
    import pandas as pd

    from rlvr_eval.analysis.accuracy_hist import accuracy_histogram
    from rlvr_eval.analysis.bootstrap import bootstrap_pair
    from rlvr_eval.analysis.coverage import coverage_report
    from rlvr_eval.metrics.passk import default_ks, per_problem_pass_at_k
    from rlvr_eval.metrics.tables import passk_table
    from rlvr_eval.plots.passk_curves import unpaired_intervals

    rng = np.random.default_rng(seed)
    rl_models = {p["rl"] for p in PAPER_PAIRS}
    counts, per_problem, tables, intervals = {}, {}, {}, []
    for b, (benchmark, n) in enumerate(PAPER_BENCHMARKS.items()):
        ids = [f"test/{benchmark}/{i}.json" for i in range(problems)]  # MATH500's ids look like file paths
        difficulty = rng.beta(1, 2 + b, problems)
        for m, model in enumerate(PAPER_MODELS):
            skill = 0.4 + 0.05 * m
            p = np.clip(difficulty * skill * (2.5 if model in rl_models else 1.0), 0, 1)
            if model in rl_models:
                p[rng.random(problems) < 0.3] = 0  # narrower: problems the base solves at large k, RL never
            c = np.zeros(problems, int) if benchmark == ALL_FAIL else rng.binomial(n, p)
            counts[model, benchmark] = pd.DataFrame({"problem_id": ids, "n": n, "c": c})
            per_problem[model, benchmark] = per_problem_pass_at_k(counts[model, benchmark], default_ks(n))
        tables[benchmark] = passk_table({m: per_problem[m, benchmark] for m in PAPER_MODELS})
        intervals.append(unpaired_intervals(per_problem[UNPAIRED, benchmark], UNPAIRED, benchmark, resamples, seed, 0.95))
    per_pair = {}
    for pair in PAPER_PAIRS:
        base, rl, name = pair["base"], pair["rl"], pair["name"]
        passk = [bootstrap_pair(per_problem[base, b], per_problem[rl, b], base, rl, num_resamples=resamples, seed=seed,
                                labels={"pair": name, "benchmark": b})["passk"] for b in PAPER_BENCHMARKS]
        intervals += passk
        hist = [accuracy_histogram({base: counts[base, b], rl: counts[rl, b]}, labels={"pair": name, "benchmark": b})
                for b in PAPER_BENCHMARKS]
        coverage = [coverage_report(counts[base, b], counts[rl, b], pair=name, benchmark=b, base_model=base,
                                    rl_model=rl)[0] for b in PAPER_BENCHMARKS]
        ppl = [{"benchmark": b, "problem_id": f"test/{b}/{i}.json", "sample_index": s, "scored_model": scorer,
                "response_model": responses, "status": "scored", "num_tokens": 100,
                "perplexity": 1.1 + 0.3 * (responses == base) + 0.2 * (scorer == rl) + rng.gamma(2, 0.05)}
               for b in PAPER_BENCHMARKS for scorer in (base, rl) for responses in (base, rl, UNPAIRED)
               for i in range(problems) for s in range(2)]
        per_pair[name] = {"passk": pd.concat(passk), "hist": pd.concat(hist), "coverage": pd.concat(coverage),
                          "perplexity": pd.DataFrame(ppl)}
    return {"tables": tables, "intervals": pd.concat(intervals), "per_pair": per_pair}


def draw_synthetic_grid(out_dir, grid: dict | None = None) -> dict:
    """Every figure of the synthetic grid under out_dir: passk_curves.png/.pdf and <pair>/<figure>.png/.pdf;
    returns name -> png path."""
    from pathlib import Path

    from rlvr_eval.plots import analysis_figures as figures
    from rlvr_eval.plots.passk_curves import plot_passk_curves

    grid = grid or synthetic_grid()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot_passk_curves(grid["tables"], PAPER_PAIRS, str(out / "passk_curves.png"), str(out / "passk_curves.pdf"),
                      intervals=grid["intervals"], every_model=PAPER_MODELS)
    pngs = {"passk_curves": out / "passk_curves.png"}
    for pair in PAPER_PAIRS:
        data, prefix = grid["per_pair"][pair["name"]], out / pair["name"]
        prefix.mkdir(exist_ok=True)
        figures.plot_passk_grid(data["passk"], prefix / "passk_grid", PAPER_PAIRS, PAPER_MODELS)
        figures.plot_accuracy_histograms(data["hist"], prefix / "accuracy_hist", PAPER_PAIRS, PAPER_MODELS)
        figures.plot_coverage_bars(data["coverage"], prefix / "coverage")
        figures.plot_perplexity_boxes(data["perplexity"], prefix / "perplexity", PAPER_PAIRS, PAPER_MODELS)
        pngs.update({f"{pair['name']}/{f}": prefix / f"{f}.png"
                     for f in ("passk_grid", "accuracy_hist", "coverage", "perplexity")})
    return pngs


if __name__ == "__main__":  # python tests/figure_helpers.py OUT_DIR: draw the synthetic grid's figures to look at
    import sys

    for name, path in draw_synthetic_grid(sys.argv[1]).items():
        print(name, path)
