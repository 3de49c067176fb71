"""Rule perplexity_set: a response set's perplexity table, copied from the archive its group's job wrote it to
(rlvr_eval.analysis.perplexity_groups). Its own module: the copy's logic stamp does not follow the scoring code."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from rlvr_eval.io import read_json


def publish_set(manifest: str | Path, output: str | Path) -> None:
    """Copy the archived table of the set `output` (named in the group's `manifest`) to `output`, atomically. A copy,
    not a link: the output gets its own modification time, and an output edited in place leaves the archive as is."""
    entry = next((e for e in read_json(manifest)["sets"] if e["output"] == str(output)), None)
    if entry is None:
        raise ValueError(f"{manifest} has no entry for {output}")
    if not Path(entry["archive"]).is_file():
        raise FileNotFoundError(f"{entry['archive']}, the table {manifest} names for {output}, is gone: delete {manifest} "
                                f"and rerun (its job scores the set again)")
    tmp = Path(output).with_name(f".{Path(output).name}.{os.getpid()}.tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(entry["archive"], tmp)
    os.replace(tmp, output)
