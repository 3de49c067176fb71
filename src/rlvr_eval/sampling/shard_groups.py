"""Several shards of one model x benchmark in one job, with one engine start (rule sample_group;
sampling.shards_per_job, planned by rlvr_eval.planning.sample_groups), and each shard's file linked from there
(rule sample_from_group).

The group's job samples each member shard into that shard's archive entry (`sample_to_archive`: the same key,
checkpoints and lock as the shard's own job, so a killed group job resumes each shard where it stopped, and one
job per shard later finds the same entries). Its output, the manifest
(`results/samples/_groups/<model>/<benchmark>/<first>-<last>.json`):

    {"shards": [{"shard": "0002", "output": "results/samples/<model>/<benchmark>/shard-0002.parquet",
                 "archive": "<the entry>", "sha256": "<its content's>", "restored": false}, ...],
     "engine_starts": 1}
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from rlvr_eval.io import read_json, sha256_file, write_json
from rlvr_eval.sampling.backends import Backend, SamplingParams
from rlvr_eval.sampling.shards import ShardSpec, link_or_copy, sample_to_archive


class SharedBackend:
    """The group's backend, built at its first use: a group whose shards are all archived starts no engine."""

    def __init__(self, open_backend: Callable[[], Backend]):
        self._open, self._backend = open_backend, None
        self.starts = 0

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._backend is None:
            self._backend = self._open()
            self.starts += 1
        return getattr(self._backend, name)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None


def sample_group(problems: pd.DataFrame, open_backend: Callable[[], Backend], members: list[tuple[ShardSpec, str]],
                 template: str, params: SamplingParams, job_params: dict, extra_metadata: dict,
                 checkpoint_samples: int, strip_questions: bool, progress: bool = True) -> dict:
    """Sample each (spec, output) of `members` into its archive entry with one backend; the manifest (above).
    job_params: the sample rule's params of the shards but num_samples, which is each spec's."""
    backend = SharedBackend(open_backend)
    entries = []
    try:
        for spec, output in members:
            archived, restored = sample_to_archive(
                problems, backend, spec, template, params, output, checkpoint_samples, extra_metadata, progress,
                {**job_params, "num_samples": spec.num_samples}, strip_questions)
            entries.append({"shard": f"{spec.shard:04d}", "output": str(output), "archive": str(archived),
                            "sha256": archived.with_suffix(".sha256").read_text().strip(), "restored": restored})
    finally:
        backend.close()
    return {"shards": entries, "engine_starts": backend.starts}


class GroupArchiveError(RuntimeError):
    """A member's archived samples are gone or changed since its group's job wrote them."""


def link_member(manifest: str | Path, output: str | Path) -> Path:
    """Place shard file `output` from its group's archive entry (hard link); the entry must still hold the samples
    the group's job archived."""
    entries = {e["output"]: e for e in read_json(manifest)["shards"]}
    if str(output) not in entries:
        raise GroupArchiveError(f"{manifest} has no shard {output}: delete it and rerun (the groups changed)")
    archive = Path(entries[str(output)]["archive"])
    if not archive.is_file() or sha256_file(archive) != entries[str(output)]["sha256"]:
        raise GroupArchiveError(f"{output}: its samples in {archive}, archived by the job of {manifest}, are missing "
                                f"or changed; delete {manifest} and rerun to sample them again")
    link_or_copy(archive, Path(output))
    return archive


def write_manifest(path: str | Path, manifest: dict) -> None:
    write_json(path, manifest)
