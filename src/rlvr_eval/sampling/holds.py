"""A job's hold on its one output (a sample shard, a perplexity table): an orphan of a killed Snakemake never
overwrites or unrecords the result of a newer job, and two jobs never compute the same output at once.

The job claims the output as it starts (rlvr_eval.sampling.claims: the newest job owns it). Before it touches
anything of the output (its old provenance record, checkpoints) or loads a model, it locks it (locks: while
another job holds it, this one fails at once, naming the holder) and checks the claim: a job that a newer one
superseded while it waited to run (paused, or slow to start) stops there. Just before its final write it checks
both again. The lock is released after the job's provenance record is written:

    hold = OutputHold(out_path, config["sampling"]["lock"])   # first thing in the job: the claim
    with logged(snakemake, hold=hold) as prov:                # lock + claim check, then the record is cleared
        ...
        hold.check()                                          # SupersededError / LockLostError: nothing written
        write_parquet(out_path, ...)
    # the record is written as `logged` ends, still under the lock

Why fail rather than wait for the holder: the holder is superseded by the newer job's claim and will not write
its result, so waiting would only keep a GPU idle; the message says to kill it or let it end, then rerun.
"""

from __future__ import annotations

import os
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

from rlvr_eval.sampling.claims import SupersededError, claim_output
from rlvr_eval.sampling.locks import LockHeldError, exclusive_lock

BUSY = ("another job is computing this output ({holder}), e.g. an orphan of a killed Snakemake: it will not write "
        "its result now that a newer job has claimed the output; kill it or let it end, then rerun.")


class OutputHeldError(RuntimeError):
    """Another job holds the output."""


@contextmanager
def locked(out_path: str | os.PathLike, scheme: str = "flock", busy: str = BUSY,
           error: type[OutputHeldError] = OutputHeldError) -> Iterator:
    """The output's lock (rlvr_eval.sampling.locks) for the block; if held, `error` at once: `busy` with {holder}
    filled in, and how to clear a lock file of another host."""
    with ExitStack() as stack:
        try:
            held = stack.enter_context(exclusive_lock(out_path, scheme))
        except LockHeldError as e:
            raise error(f"{out_path}: {busy.format(holder=e.holder)}" + (f" {e.advice}" if e.advice else "")) from None
        yield held


class OutputHold:
    def __init__(self, out_path: str | os.PathLike, scheme: str = "flock", busy: str = BUSY,
                 error: type[OutputHeldError] = OutputHeldError):
        self.out_path = Path(out_path)
        self._lock_args = (scheme, busy, error)
        self.claim = claim_output(self.out_path)
        self._stack = ExitStack()
        self._lock = None

    def __enter__(self) -> "OutputHold":
        self._lock = self._stack.enter_context(locked(self.out_path, *self._lock_args))
        try:
            self.claim.check()  # superseded before it could start: touch nothing
        except SupersededError:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()
        self._lock = None

    def check(self) -> None:
        """Raise if this job no longer owns the output (LockLostError, SupersededError): call before writing it."""
        if self._lock is None:
            raise RuntimeError("OutputHold.check() outside its `with` block")
        self._lock.verify()
        self.claim.check()

    def owned(self) -> bool:
        return self.claim.owned()
