"""Run a rule script's body with its output (prints, warnings, logging, tracebacks) in the rule's log file,
and, given the `snakemake` object, record the provenance of its outputs when the body succeeds.

In a rule script:

    with logged(snakemake) as prov:   # log to snakemake.log[0]; on success write <output>.prov.json
        ...

    with logged(snakemake, hold=OutputHold(...)) as prov:   # the same, holding the output (sampling, perplexity)

`prov` is a `rlvr_eval.provenance.records.JobRecorder` (scripts may add to it, e.g. `prov.add_input(path)`).
`logged(path)` with a plain path only redirects to that log (no provenance).

Scripts that start a vLLM engine end with `end_process()` after the block. Inside the block,
`rlvr_eval.console.progress(message)` also shows a line on the console.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import NoReturn

from rlvr_eval import console


@contextlib.contextmanager
def _redirected(path: str | os.PathLike | None):
    if path is None:
        yield None
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("")
    # Never closed: libraries keep the stream they saw at import (vLLM's logger) and write to it at exit.
    log = open(path, "a", buffering=1)
    # The file descriptors too, so that processes the body starts (vLLM's engine) log to the job's log as well.
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    console.register(saved[1])
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    handler = logging.StreamHandler(log)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            try:
                yield log
            except BaseException:
                traceback.print_exc(file=log)
                raise
    finally:
        logging.getLogger().removeHandler(handler)
        log.flush()
        console.unregister(saved[1])
        for fd, original in zip((1, 2), saved):
            os.dup2(original, fd)
            os.close(original)


@contextlib.contextmanager
def step(smk, hold=None):
    """Log to the job's log file and, after the body succeeds, write the provenance record of every output.

    hold: a context manager entered (in the log) before the outputs' old records are removed and left after the
    new ones are written: the job's lock on its output (rlvr_eval.sampling.holds), so that a job that does not
    hold its output never touches its record."""
    from rlvr_eval.provenance.records import JobRecorder

    log = smk.log[0] if len(smk.log) else None
    with _redirected(log), (hold if hold is not None else contextlib.nullcontext()):
        recorder = JobRecorder.from_snakemake(smk)
        recorder.start()
        yield recorder
        recorder.finish()


@contextlib.contextmanager
def logged(target, hold=None):
    """`logged(snakemake)`: see `step`. `logged(path)`: redirect output to the log file `path` only."""
    if isinstance(target, (str, os.PathLike)):
        with _redirected(target):
            yield None
    else:
        with step(target, hold) as recorder:
            yield recorder


def end_process() -> NoReturn:
    """End a rule script's process now that its outputs and records are written, skipping the interpreter's
    teardown: there vLLM's CPU build aborts at random ("terminate called without an active exception", SIGABRT;
    two runs in three of one perplexity job here), which would fail a job whose work is done. vLLM's engine
    processes end with their parent."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
