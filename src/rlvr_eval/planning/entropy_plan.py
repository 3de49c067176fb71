"""What the entropy stage needs from the grid (analysis.entropy; rules entropy, entropy_table): which models'
own responses are scored for their output entropy (rlvr_eval.analysis.entropy), on which benchmarks, with the
sampling settings the responses were drawn with."""

from __future__ import annotations

from rlvr_eval.data.visual import VISUAL_BENCHMARKS

ENTROPY_TABLES = ["results/tables/entropy.csv", "results/tables/entropy.md"]


class EntropyPlan:
    """Mixed into rlvr_eval.planning.grid.Grid, whose pairs, models and sampling settings it reads."""

    def entropy_settings(self) -> dict:
        return self.analysis.get("entropy", {})

    def entropy_models(self) -> list[str]:
        """The base and RL model of each pair of analysis.entropy.pairs, then analysis.entropy.models: those with
        weights (imported responses have none to score with) and a text benchmark (visual ones are not measured)."""
        s = self.entropy_settings()
        if not s.get("enabled", True):
            return []
        named = [p[r] for name in s.get("pairs", []) for p in [self.pair(name)] for r in ("base", "rl")]
        named += s.get("models", [])
        return [m for m in dict.fromkeys(named) if "responses" not in self.model(m) and self.entropy_benchmarks(m)]

    def entropy_benchmarks(self, model: str) -> list[str]:
        return [b for b in self.benchmarks_of(model) if b not in VISUAL_BENCHMARKS]

    def entropy_file(self, model: str) -> str:
        """The model's per-response entropies on each of its text benchmarks (rule entropy)."""
        return f"results/analysis/entropy/{model}.parquet"

    def entropy_sets(self, model: str) -> list[dict]:
        """One entry per text benchmark of `model`: what its entropy job reads and how the responses were sampled
        (temperature, top_p; the prompt's template and question stripping)."""
        out = []
        for b in self.entropy_benchmarks(model):
            s, prompt = self.sampling_params(model, b), self.prompt_params(model, b)
            out.append({"benchmark": b, "temperature": s.temperature, "top_p": s.top_p, **prompt,
                        "problems": f"results/data/{b}.parquet", "samples": self.sample_files(model, b)})
        return out

    def entropy_targets(self) -> list[str]:
        models = self.entropy_models()
        return [self.entropy_file(m) for m in models] + (ENTROPY_TABLES if models else [])
