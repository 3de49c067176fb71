"""How long a sampling shard takes, how much time its job asks for, and how large a shard may be to fit.

    tokens  = problems x samples per problem in the shard x max_new_tokens x expected_length
    minutes = startup_minutes + tokens / throughput / 60

throughput: resources.sampling.models.<m>.throughput_tokens_per_s, else resources.throughput_tokens_per_s of the
model's size class (planning.model_shapes; a size between classes takes the next larger class: slower, so
conservative). problems: benchmarks.<b>.limit, problem_ids or synthetic.problems, else the number the paper
evaluates (PROBLEMS; LiveCodeBench: its window's months, LIVECODEBENCH_MONTHS), never the prepared table: the plan, and so the shard layout, is the same before and after the
data is prepared.

Shard size of a model x benchmark: models.<m>.shard_size.<b>, else benchmarks.<b>.shard_size, else, with
sampling.fit_shard_size, the largest of sampling.shard_size, its half, quarter, ... (at least 1) whose estimate fits
the job's runtime (resources.sampling.max_runtime, or a fixed runtime), else sampling.shard_size. n does not enter: raising n adds shards, keeps the others.
With resources.sampling.runtime: estimate, a job asks for its shard's estimate rounded up to half an hour, at most
max_runtime (max_runtime itself when nothing can be estimated, e.g. a tiny model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rlvr_eval.data.benchmarks import KNOWN_SOURCES
from rlvr_eval.data.livecodebench import LIVECODEBENCH_WINDOWS
from rlvr_eval.planning.model_shapes import size_billions, size_class
from rlvr_eval.planning.resources import ESTIMATE, JobResources

# Problems the paper evaluates where the known file holds more or none: the code benchmarks (LiveCodeBench: by its
# contest window, below) and the visual ones' free-form problems (benchmarks.<b>.free_form_only, default true).
PROBLEMS = {"humanevalplus": 164, "mbppplus": 378}
# LiveCodeBench release_v5's problems by contest month (the mirror's file, 879 problems): a LiveCodeBench benchmark
# counts those of its window (benchmarks.<b>.window, else its own: livecodebench 279, livecodebench_2023_05 879).
LIVECODEBENCH_MONTHS = {
    "2023-05": 34, "2023-06": 39, "2023-07": 54, "2023-08": 36, "2023-09": 44, "2023-10": 44, "2023-11": 35,
    "2023-12": 40, "2024-01": 36, "2024-02": 32, "2024-03": 45, "2024-04": 36, "2024-05": 36, "2024-06": 46,
    "2024-07": 43, "2024-08": 66, "2024-09": 47, "2024-10": 53, "2024-11": 57, "2024-12": 49, "2025-01": 7,
}
FREE_FORM_PROBLEMS = {"mathvision": 114, "mathvista": 460}
ROUND_MINUTES = 30


@dataclass(frozen=True)
class ShardEstimate:
    shard_size: int
    minutes: float | None  # None: no estimate (unknown size class, throughput or problem count)
    runtime: int  # minutes the job asks for
    how: str  # the formula with its numbers, for messages


class ShardTimes:
    """Estimates for one validated config (resources resolved once)."""

    def __init__(self, config: dict):
        self.config = config
        self.resources = JobResources(config)

    def problems(self, benchmark: str) -> int | None:
        spec = self.config["benchmarks"][benchmark]
        for count in (spec.get("limit"), len(spec.get("problem_ids") or []) or None,
                      (spec.get("synthetic") or {}).get("problems")):
            if count:
                return count
        if benchmark in FREE_FORM_PROBLEMS and spec.get("free_form_only", True):
            return FREE_FORM_PROBLEMS[benchmark]
        if benchmark in LIVECODEBENCH_WINDOWS:
            first, last = spec.get("window") or LIVECODEBENCH_WINDOWS[benchmark]
            return sum(count for month, count in LIVECODEBENCH_MONTHS.items() if first <= month <= last)
        known = KNOWN_SOURCES.get(benchmark)
        return PROBLEMS.get(benchmark, known.rows if known else None)

    def throughput(self, model: str) -> float | None:
        own = self.resources.setting(model, "throughput_tokens_per_s")
        if own is not None:
            return own
        size = size_class(self.config, model)
        if size is None:
            return None
        table = self.resources.settings["throughput_tokens_per_s"]
        larger = sorted((size_billions(s), rate) for s, rate in table.items() if size_billions(s) >= size_billions(size))
        return larger[0][1] if larger else None

    def estimate(self, model: str, benchmark: str, samples: int, max_new_tokens: int) -> tuple[float | None, str]:
        """(minutes, the formula with its numbers) of one shard of `samples` samples per problem."""
        problems, rate = self.problems(benchmark), self.throughput(model)
        share, startup = (self.resources.setting(model, k) for k in ("expected_length", "startup_minutes"))
        if problems is None or rate is None:
            what = "problem count" if problems is None else "throughput (size class: models.<m>.size)"
            return None, f"no estimate for {model} on {benchmark}: unknown {what}"
        minutes = startup + problems * samples * max_new_tokens * share / rate / 60
        return minutes, (f"{problems} problems x {samples} samples x {max_new_tokens} tokens x {share} / "
                         f"{rate:g} tokens/s + {startup} min = {minutes / 60:.1f} h")

    def set_shard_size(self, model: str, benchmark: str) -> int | None:
        """The shard size the config sets for this model x benchmark (None: sampling.shard_size or fitted)."""
        own = self.config["models"][model].get("shard_size", {}).get(benchmark)
        return own if own is not None else self.config["benchmarks"][benchmark].get("shard_size")

    def shard_size(self, model: str, benchmark: str, max_new_tokens: int) -> int:
        sampling = self.config["sampling"]
        size = self.set_shard_size(model, benchmark)
        if size is not None:
            return size
        size = sampling.get("shard_size", 64)
        if not sampling.get("fit_shard_size", False):
            return size
        cap = self.resources.sampling(model)["runtime"]  # max_runtime, or a fixed runtime
        while size > 1:
            minutes, _ = self.estimate(model, benchmark, size, max_new_tokens)
            if minutes is None or minutes <= cap:
                break
            size //= 2
        return size

    def job(self, model: str, benchmark: str, shard_size: int, max_new_tokens: int) -> ShardEstimate:
        """The estimate of this model x benchmark's (largest) shard and the runtime its jobs ask for."""
        minutes, how = self.estimate(model, benchmark, shard_size, max_new_tokens)
        runtime = self.resources.sampling(model)["runtime"]
        if self.resources.setting(model, "runtime") == ESTIMATE and minutes is not None:
            runtime = min(runtime, ROUND_MINUTES * math.ceil(minutes / ROUND_MINUTES))
        return ShardEstimate(shard_size, minutes, runtime, how)


def sample_job(grid, model: str, benchmark: str) -> ShardEstimate:
    """The sampling jobs of `model` on `benchmark` in a planning.grid.Grid: shard size, estimate, runtime."""
    return grid.shard_times.job(model, benchmark, grid.shard_size_of(model, benchmark),
                                grid.sampling_params(model, benchmark).max_new_tokens)


def sample_job_resources(grid, model: str, benchmark: str) -> dict:
    """The Snakemake resources of one sampling job: the model's (planning.resources), with the shard's runtime."""
    return {**grid.shard_times.resources.sampling(model), "runtime": sample_job(grid, model, benchmark).runtime}
