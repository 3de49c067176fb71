"""The job grid implied by a validated config: which files each stage produces and needs.

The Snakemake rules call these functions (as input functions and targets), so the grid logic is
importable and testable without Snakemake. Paths are relative to the workflow's working directory.
"""

from __future__ import annotations

from dataclasses import dataclass

from .backends import SamplingParams
from .passk import default_ks
from .prompts import stop_strings
from .sampling import shard_sizes
from .verify.graders import GRADER_VERSIONS


@dataclass(frozen=True)
class Grid:
    config: dict

    # --- models and benchmarks -------------------------------------------------------------
    @property
    def models(self) -> list[str]:
        return list(self.config["models"])

    def model(self, name: str) -> dict:
        return self.config["models"][name]

    def models_of_kind(self, kind: str) -> list[str]:
        """kind: 'tiny' (built locally), 'path' (a local directory) or 'hf_id' (staged from the hub)."""
        return [m for m, spec in self.config["models"].items() if kind in spec]

    def training_data(self, benchmark: str) -> str:
        """The problems a model trains on: a synthetic benchmark's train split, else the benchmark itself."""
        if "synthetic" in self.config["benchmarks"][benchmark]:
            return f"results/data/train/{benchmark}.parquet"
        return f"results/data/{benchmark}.parquet"

    def checkpoints(self, rlvr_model: str) -> dict[int, str]:
        """step -> checkpoint model, for the checkpoints of an rlvr model named in the config."""
        return {spec["checkpoint"]["step"]: name for name, spec in self.config["models"].items()
                if spec.get("checkpoint", {}).get("of") == rlvr_model}

    def checkpoint_series(self, rlvr_model: str) -> list[tuple[int, str]]:
        """(training step, model) from the starting model (step 0) through the checkpoints to the final model."""
        spec = self.model(rlvr_model)["rlvr"]
        return [(0, spec["init_from"]), *sorted(self.checkpoints(rlvr_model).items()), (spec["steps"], rlvr_model)]

    def checkpoint_series_files(self, rlvr_model: str) -> list[str]:
        return [f"results/{kind}/checkpoints/{rlvr_model}/{b}.{ext}" for b in self.benchmarks
                for kind, ext in (("tables", "csv"), ("figures", "png"))]

    @property
    def benchmarks(self) -> list[str]:
        return list(self.config["benchmarks"])

    @property
    def pairs(self) -> list[dict]:
        return self.config["pairs"]

    def n(self, benchmark: str) -> int:
        return self.config["benchmarks"][benchmark]["n"]

    # --- sampling -------------------------------------------------------------------------
    @property
    def shard_size(self) -> int:
        return self.config["sampling"].get("shard_size", 64)

    def shards(self, benchmark: str) -> list[str]:
        return [f"{i:04d}" for i in range(len(shard_sizes(self.n(benchmark), self.shard_size)))]

    def shard_num_samples(self, benchmark: str, shard: str) -> int:
        sizes = shard_sizes(self.n(benchmark), self.shard_size)
        i = int(shard)
        if i >= len(sizes):
            raise ValueError(f"shard {shard} is beyond n={self.n(benchmark)} for {benchmark}")
        return sizes[i]

    def sampling_params(self, model: str) -> SamplingParams:
        s = {**self.config["sampling"], **self.model(model).get("sampling", {})}
        return SamplingParams(s["temperature"], s["top_p"], s["max_new_tokens"],
                              tuple(stop_strings(self.model(model)["prompt_template"])))

    def backend(self, model: str) -> str:
        return self.model(model).get("backend", self.config["sampling"].get("backend", "vllm"))

    def backend_options(self, model: str) -> dict:
        m = self.model(model)
        if self.backend(model) == "vllm":
            opts = {"tensor_parallel_size": m.get("tensor_parallel_size", 1),
                    "gpu_memory_utilization": m.get("gpu_memory_utilization", 0.9)}
        else:
            opts = {}
        if "max_model_len" in m:
            opts["max_model_len"] = m["max_model_len"]
        return opts

    def sample_file(self, model: str, benchmark: str, shard: str) -> str:
        return f"results/samples/{model}/{benchmark}/shard-{shard}.parquet"

    def sample_files(self, model: str, benchmark: str) -> list[str]:
        return [self.sample_file(model, benchmark, s) for s in self.shards(benchmark)]

    # --- verification ---------------------------------------------------------------------
    def grader(self, benchmark: str) -> str:
        """The grader whose verdicts feed pass@k, tables and figures for this benchmark."""
        return self.config["benchmarks"][benchmark].get("grader", self.config.get("verification", {}).get("grader", "math_verify"))

    def compare_graders(self) -> list[str]:
        return list(self.config.get("verification", {}).get("compare_graders", []))

    def grader_timeout(self, grader: str) -> float:
        v = self.config.get("verification", {})
        return v.get("timeout_s_by_grader", {}).get(grader, v.get("timeout_s", 10))

    def grader_version(self, grader: str) -> str:
        return GRADER_VERSIONS[grader]

    def verdict_files(self, model: str, benchmark: str, grader: str) -> list[str]:
        return [f"results/verdicts/{model}/{benchmark}/{grader}/shard-{s}.parquet" for s in self.shards(benchmark)]

    # --- metrics and reports --------------------------------------------------------------
    def ks(self, benchmark: str) -> list[int]:
        return default_ks(self.n(benchmark), self.config.get("passk", {}).get("every_k", False))

    def metrics_file(self, model: str, benchmark: str, grader: str | None = None) -> str:
        return f"results/metrics/{model}/{benchmark}/{grader or self.grader(benchmark)}/per_problem.parquet"

    def metrics_files(self, benchmark: str) -> list[str]:
        return [self.metrics_file(m, benchmark) for m in self.models]

    # --- analyses of base/RL pairs ---------------------------------------------------------
    def pair(self, name: str) -> dict:
        return next(p for p in self.pairs if p["name"] == name)

    @property
    def analysis(self) -> dict:
        return self.config.get("analysis", {})

    def coverage_ks(self, benchmark: str) -> list[int]:
        n = self.n(benchmark)
        return sorted({k for k in self.analysis.get("coverage_ks", []) if k <= n} | {n})

    def perplexity_response_models(self, pair: str) -> list[str]:
        p = self.pair(pair)
        extra = self.analysis.get("perplexity", {}).get("response_models", [])
        return list(dict.fromkeys([p["base"], p["rl"], *extra]))

    def perplexity_enabled(self) -> bool:
        return self.analysis.get("perplexity", {}).get("enabled", True)

    def analysis_figures(self, pair: str) -> list[str]:
        names = ["passk_grid", "accuracy_hist", "coverage"] + (["perplexity"] if self.perplexity_enabled() else [])
        return [f"results/figures/{pair}/{name}.{ext}" for name in names for ext in ("png", "pdf")]

    def targets(self) -> list[str]:
        out = [f"results/tables/passk/{b}.csv" for b in self.benchmarks]
        out += ["results/figures/passk_curves.png"]
        out += [f for p in self.pairs for f in self.analysis_figures(p["name"])]
        out += [f for m in self.models_of_kind("rlvr") for f in self.checkpoint_series_files(m)]
        if len(self.compare_graders()) >= 2:
            out += [f"results/grader_agreement/{m}/{b}/summary.md" for m in self.models for b in self.benchmarks]
        return out
