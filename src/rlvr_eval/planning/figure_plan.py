"""What the figures need from the grid: the order that gives each model its colour and marker, and where each
pass@k curve's bootstrap band comes from (rule passk_figure; figures: rlvr_eval.plots)."""

from __future__ import annotations


class FigurePlan:
    """Mixed into rlvr_eval.planning.grid.Grid, whose pairs, models and benchmarks it reads."""

    def figure_models(self, every: bool = True) -> list[str]:
        """The order in which figures colour and mark models (rlvr_eval.plots.style.model_styles): the pairs' models,
        then the other models whose responses the pairs' perplexity figures show, then (every) all other models. The
        pair figures take the first two groups only: adding a model outside them redraws the pass@k curves alone."""
        shown = [m for p in self.pairs for m in (p["base"], p["rl"])]
        shown += self.analysis.get("perplexity", {}).get("response_models", []) if self.perplexity_enabled() else []
        return list(dict.fromkeys(shown + (self.models if every else [])))

    def pair_band_files(self) -> list[str]:
        """The bootstrap pass@k intervals of every pair on every benchmark it shares (rule bootstrap_passk)."""
        return [f"results/analysis/bootstrap/{p['name']}/{b}/passk.csv" for p in self.pairs
                for b in self.pair_benchmarks(p["name"])]

    def unpaired_curves(self) -> list[tuple[str, str]]:
        """(model, benchmark) of the pass@k curves no pair's bootstrap covers: a model in no pair, or on a benchmark
        its partner lacks. The pass@k figure bootstraps their bands itself."""
        paired = {(p[role], b) for p in self.pairs for b in self.pair_benchmarks(p["name"]) for role in ("base", "rl")}
        return [(m, b) for b in self.benchmarks for m in self.models_on(b) if (m, b) not in paired]

    def analysis_figures(self, pair: str) -> list[str]:
        names = ["passk_grid", "accuracy_hist", "coverage"] + (["perplexity"] if self.perplexity_enabled() else [])
        return [f"results/figures/{pair}/{name}.{ext}" for name in names for ext in ("png", "pdf")]
