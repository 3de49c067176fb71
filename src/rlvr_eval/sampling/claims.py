"""The newest job owns its output: a job that a newer one has superseded never writes it.

When Snakemake is killed, its running jobs live on as orphans; after `--unlock` a rerun (perhaps with another
config: another seed) starts a new job for the same output. A lock keeps the two from writing at once, but not
the orphan from writing last: its stale result would then stand, unrecorded by Snakemake, and look up to date.
So each job, as it starts and before anything else, claims the output (`.<name>.claim` beside it, replaced
atomically: the last job started owns it), and checks the claim just before its final write:

    claim = claim_output(out_path)   # first thing in the job
    ...
    claim.check()                    # raises SupersededError if a newer job has claimed the output since
    write(out_path)
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from rlvr_eval.io import write_text
from rlvr_eval.sampling.locks import Owner


class SupersededError(RuntimeError):
    """A newer job has claimed this job's output: this job's result must not replace it."""


def claim_path(out_path: str | os.PathLike) -> Path:
    out_path = Path(out_path)
    return out_path.with_name(f".{out_path.name}.claim")


@dataclass(frozen=True)
class Claim:
    out_path: Path
    token: str

    def current(self) -> dict:
        try:
            return json.loads(claim_path(self.out_path).read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def owned(self) -> bool:
        return self.current().get("token") == self.token

    def check(self) -> None:
        now = self.current()
        if now.get("token") == self.token:
            return
        owner = Owner.parse(json.dumps(now.get("owner") or {}))
        newer = owner.describe() if owner else "an unknown job"
        raise SupersededError(f"{self.out_path}: a newer job ({newer}) has claimed this output since this job "
                              "started (this one is an orphan of an earlier run); its result is not written")


def claim_output(out_path: str | os.PathLike) -> Claim:
    """Make the calling job the owner of `out_path`, superseding any job that claimed it before."""
    token = uuid.uuid4().hex
    owner = json.loads(Owner.current().to_text())
    write_text(claim_path(out_path), json.dumps({"token": token, "owner": owner}) + "\n")
    return Claim(Path(out_path), token)
