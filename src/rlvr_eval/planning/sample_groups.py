"""Sampling jobs that take several shards (sampling.shards_per_job): one GPU allocation and one engine start for up
to that many consecutive shards of one model x benchmark, as many as the job's runtime cap holds by the shard
estimate (planning.shard_time). The group's job (rule sample_group) samples each member shard into that shard's
archive (rlvr_eval.sampling.shards), exactly as the shard's own job would, and writes a manifest; each shard's file
is then linked from there (rule sample_from_group, no GPU). Per-shard files, their resumability and their archive
keys are those of one job per shard, so changing shards_per_job resamples nothing."""

from __future__ import annotations

import math
from functools import cached_property

from rlvr_eval.planning.resources import ESTIMATE
from rlvr_eval.planning.shard_time import ROUND_MINUTES


class SampleGroupPlan:
    """Mixed into rlvr_eval.planning.grid.Grid, whose models, shards and shard estimates it reads."""

    def shards_per_job(self) -> int:
        return self.config["sampling"].get("shards_per_job", 1)

    def sample_group_size(self, model: str, benchmark: str) -> int:
        """Shards per job of `model` on `benchmark`: shards_per_job, fewer where the estimate of that many shards
        would pass the job's runtime cap (resources.sampling.max_runtime, or a fixed runtime)."""
        size = self.shards_per_job()
        while size > 1 and self._group_minutes(model, benchmark, size) > self.shard_times.resources.sampling(model)["runtime"]:
            size -= 1
        return size

    def _group_minutes(self, model: str, benchmark: str, shards: int) -> float:
        """The estimate of `shards` full shards in one job (one start-up); 0 where nothing can be estimated."""
        minutes, _ = self.shard_times.estimate(model, benchmark, shards * self.shard_size_of(model, benchmark),
                                               self.sampling_params(model, benchmark).max_new_tokens)
        return minutes or 0.0

    @cached_property
    def sample_groups(self) -> dict[str, dict]:
        """group -> {model, benchmark, shards}: every group of two or more shards (a shard alone keeps its own job,
        rule sample). Named `<model>/<benchmark>/<first shard>-<last shard>`."""
        groups = {}
        if self.shards_per_job() <= 1:
            return groups
        for model in self.sampled_models:
            for benchmark in self.benchmarks_of(model):
                shards, size = self.shards(model, benchmark), self.sample_group_size(model, benchmark)
                for start in range(0, len(shards), size):
                    members = shards[start:start + size]
                    if len(members) > 1:
                        groups[f"{model}/{benchmark}/{members[0]}-{members[-1]}"] = {
                            "model": model, "benchmark": benchmark, "shards": members}
        return groups

    @cached_property
    def _group_of_shard(self) -> dict[str, str]:
        return {self.sample_file(g["model"], g["benchmark"], s): name
                for name, g in self.sample_groups.items() for s in g["shards"]}

    def sample_group_of(self, sample_file: str) -> str | None:
        """The group whose job samples this shard file (None: the shard has its own job)."""
        return self._group_of_shard.get(sample_file)

    def grouped_sample_files(self) -> list[str]:
        return list(self._group_of_shard)

    def sample_group_file(self, group: str) -> str:
        """The group job's output: where each member's samples are archived (rlvr_eval.sampling.shard_groups)."""
        return f"results/samples/_groups/{group}.json"

    def sample_group_resources(self, group: str) -> dict:
        """The Snakemake resources of a group's job: its model's (planning.resources), the runtime of its shards
        together (resources.sampling.runtime: estimate), at most the cap."""
        g = self.sample_groups[group]
        resources = self.shard_times.resources
        r = resources.sampling(g["model"])
        minutes = self._group_minutes(g["model"], g["benchmark"], len(g["shards"]))
        if resources.setting(g["model"], "runtime") == ESTIMATE and minutes:
            r["runtime"] = min(r["runtime"], ROUND_MINUTES * math.ceil(minutes / ROUND_MINUTES))
        return r
