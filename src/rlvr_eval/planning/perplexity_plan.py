"""What the perplexity stage needs from the grid: which models score which response sets, their files, and the
groups of sets that one job (one engine start) scores (analysis.perplexity; rules perplexity, perplexity_set)."""

from __future__ import annotations

from functools import cached_property

from rlvr_eval.data.visual import VISUAL_BENCHMARKS
from rlvr_eval.sampling.prompts import is_visual

# analysis.perplexity.group_by -> how many of (scorer, benchmark, response model) name a perplexity job's group
PERPLEXITY_GROUP_DEPTH = {"scorer": 1, "scorer_benchmark": 2, "response_set": 3}


class PerplexityPlan:
    """Mixed into rlvr_eval.planning.grid.Grid, whose pairs, models and backends it reads."""

    def perplexity_engine_options(self, model: str) -> dict:
        """backend_options of `model` as a scoring engine (vLLM: the perplexity memory share)."""
        opts = {k: v for k, v in self.backend_options(model).items() if k != "seeding"}  # (scoring samples nothing)
        if self.backend(model) == "vllm":
            for key in ("gpu_memory_utilization", "max_num_batched_tokens"):
                value = self.analysis.get("perplexity", {}).get(key)
                if value is not None:
                    opts[key] = value
        return opts

    def perplexity_response_models(self, pair: str) -> list[str]:
        p = self.pair(pair)
        extra = self.analysis.get("perplexity", {}).get("response_models", [])
        return list(dict.fromkeys([p["base"], p["rl"], *extra]))

    def perplexity_scorers(self, pair: str) -> list[str]:
        """The models that score the pair's response sets: analysis.perplexity.scored_by, "base" and "rl" standing
        for the pair's models (the paper's PPL_base(Y_RL) and PPL_RL(Y_RL))."""
        p = self.pair(pair)
        named = self.analysis.get("perplexity", {}).get("scored_by", ["base", "rl"])
        scorers = [p.get(s, s) if s in ("base", "rl") else s for s in named]
        return list(dict.fromkeys(m for m in scorers if "responses" not in self.model(m)))  # imported: no weights

    def perplexity_files(self, pair: str) -> list[str]:
        if not self.perplexity_enabled():
            return []
        return [f"results/analysis/perplexity/{b}/{scorer}/{m}.parquet" for b in self.pair_benchmarks(pair)
                for scorer in self.perplexity_scorers(pair) for m in self.perplexity_response_models(pair)
                # a scorer needs only weights (and a template of the benchmark's modality); the responses must exist
                if b in self.benchmarks_of(m) and (b in VISUAL_BENCHMARKS) == is_visual(self.template(scorer, b))]

    def perplexity_enabled(self) -> bool:
        return self.analysis.get("perplexity", {}).get("enabled", True)

    @cached_property
    def perplexity_groups(self) -> dict[str, list[dict]]:
        """group -> its response sets ({benchmark, scored_model, response_model, output}), the work of one perplexity
        job, which starts the scoring engine once (analysis.perplexity.group_by: `scorer`, one job per scoring model;
        `scorer_benchmark`; `response_set`, one job per set). A group is named by its scorer, then (finer grouping)
        benchmark and response model: `tiny-base`, `tiny-base/gsm8k`, `tiny-base/gsm8k/tiny-rl`."""
        depth = PERPLEXITY_GROUP_DEPTH[self.perplexity_group_by()]
        groups: dict[str, list[dict]] = {}
        files = dict.fromkeys(f for p in self.pairs for f in self.perplexity_files(p["name"]))
        for f in sorted(files):
            benchmark, scorer, responses = f.removeprefix("results/analysis/perplexity/").removesuffix(".parquet").split("/")
            name = "/".join([scorer, benchmark, responses][:depth])
            groups.setdefault(name, []).append(
                {"benchmark": benchmark, "scored_model": scorer, "response_model": responses, "output": f})
        return groups

    def perplexity_group_by(self) -> str:
        return self.analysis.get("perplexity", {}).get("group_by", "scorer")

    def perplexity_group_of(self, benchmark: str, scorer: str, responses: str) -> str:
        """The group whose job scores this response set."""
        return "/".join([scorer, benchmark, responses][:PERPLEXITY_GROUP_DEPTH[self.perplexity_group_by()]])

    def perplexity_group_file(self, group: str) -> str:
        """The group job's output: which archived table each of its sets is (rlvr_eval.analysis.perplexity_groups)."""
        return f"results/analysis/perplexity/_groups/{group}.json"
