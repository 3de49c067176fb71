"""Progress lines for whoever watches a run: long jobs (sampling, training) say how far they are.

A rule script's prints go to its log (rlvr_eval.provenance.scriptlog sends file descriptors 1 and 2 there);
`progress` also writes to the stderr the job started with, which scriptlog registers here: the console of
`snakemake --cores N`, or a SLURM job's output file. Outside a job it is a plain print. It reports and never
computes, so its edits change no logic stamp (rlvr_eval.provenance.closure)."""

from __future__ import annotations

import os

_consoles: list[int] = []  # the job's own stderr while its output goes to the log (innermost last)


def progress(message: str) -> None:
    print(message, flush=True)
    if _consoles:
        os.write(_consoles[-1], (message + "\n").encode("utf-8", "replace"))


def register(fd: int) -> None:
    _consoles.append(fd)


def unregister(fd: int) -> None:
    _consoles.remove(fd)
