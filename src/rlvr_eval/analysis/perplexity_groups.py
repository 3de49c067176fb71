"""One perplexity job for many response sets: the scoring model is loaded (its engine started) once per job.

A job scores a group of response sets of one scoring model (analysis.perplexity.group_by; rlvr_eval.planning.grid
names the groups). Snakemake deletes a job's outputs before running it and after it fails, so the tables of the
sets are not the job's outputs:

- archive: each set's table, as soon as it is scored, goes to `<output dir>/.archive/<response model>/<key>.parquet`
  beside the set's table (as sample shards do: rlvr_eval.sampling.shards), keyed by everything that determines it
  (`set_key`: the set, the job's parameters, the stage's logic version, and the content of the scoring model's
  manifest, the problems and the samples). A job killed after some sets keeps them: the rerun restores them without
  loading the model and scores the rest. A set whose samples, problems, scorer, template or settings changed has
  another key and is scored again; adding a model to the grid leaves the other sets' keys as they were.
- the job's output is a manifest (Grid.perplexity_group_file): for each set, its archived table.
- rule perplexity_set copies each set's archived table to the set's own file, the same file (schema, metadata)
  as when one job scored one set (rlvr_eval.analysis.perplexity_publish).

The table's Parquet metadata records the scoring model's manifest, template, subsample and backend, as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from rlvr_eval.analysis.perplexity import load_text_scorer, score_responses, select_responses
from rlvr_eval.analysis.perplexity_vl import load_vl_scorer, score_responses_vl
from rlvr_eval.io import read_parquet, read_parquet_metadata, sha256_file, write_json, write_parquet

SAMPLE_COLUMNS = ["problem_id", "sample_index", "text", "finish_reason"]


def set_key(response_set: dict, job_params: dict, files: list[str]) -> str:
    """A digest of everything that determines a set's table: the set (benchmark, models, template), the job's
    parameters (subsample, seed, backend, engine options, logic version) and the content of `files`."""
    key = {"set": {k: v for k, v in response_set.items() if k != "output"}, "job": job_params,
           "files": {f: sha256_file(f) for f in files}}
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:24]


def archive_path(output: str | Path, key: str) -> Path:
    output = Path(output)
    return output.parent / ".archive" / output.stem / f"{key}.parquet"


def _intact(path: Path) -> bool:
    """An archived table is written atomically; one that does not read (a truncated copy) is scored again."""
    try:
        read_parquet_metadata(path)
        return True
    except Exception as e:  # noqa: BLE001 -- any unreadable file is as good as none
        print(f"{path}: unreadable ({e}); scored again")
        return False


class ScoringModel:
    """The job's scoring model, loaded at its first use and closed by `close`: a job whose sets are all archived
    never loads it."""

    def __init__(self, manifest: dict, backend: str, batch_size: int, engine_kwargs: dict):
        self.manifest, self.backend, self.batch_size, self.engine_kwargs = manifest, backend, batch_size, engine_kwargs
        self._text = self._vl = None
        self.loads = 0

    def score(self, chosen: pd.DataFrame, problems: pd.DataFrame, template: str, scored_model: str,
              response_model: str, labels: dict, strip_questions: bool = True) -> pd.DataFrame:
        path = self.manifest["path"]
        if "image" in problems:  # a visual benchmark: scored with each problem's image in the prompt
            if self._vl is None:
                self._vl, self.loads = load_vl_scorer(path, self.backend, self.engine_kwargs), self.loads + 1
            return score_responses_vl(path, chosen, problems, template, scored_model, response_model,
                                      backend=self.backend, labels=labels, scorer=self._vl)
        if self._text is None:
            self._text = load_text_scorer(path, self.backend, engine_kwargs=self.engine_kwargs)
            self.loads += 1
        return score_responses(path, chosen, problems, template, scored_model, response_model, backend=self.backend,
                               batch_size=self.batch_size, labels=labels, strip_questions=strip_questions,
                               scorer=self._text)

    def close(self) -> None:
        for scorer in (self._text, self._vl):
            if scorer is not None:
                scorer.close()
        self._text = self._vl = None


def score_group(sets: list[dict], job_params: dict, model_manifest: str, model: ScoringModel,
                before_write: Callable[[], None] = lambda: None) -> list[dict]:
    """Score (or restore from the archive) every set of a group; return the manifest's entries.

    sets: {benchmark, scored_model, response_model, output, template, strip_questions, samples (files), problems
    (file)}.
    job_params: num_problems, responses_per_problem, seed, backend, ... (all in the key; the first three choose
    the subsample). before_write: called before each archive write (the job's hold on its output: an orphan
    superseded by a newer job stops there)."""
    entries = []
    for s in sets:
        key = set_key(s, job_params, [model_manifest, s["problems"], *s["samples"]])
        archived = archive_path(s["output"], key)
        name = f"{s['benchmark']}/{s['scored_model']}/{s['response_model']}"
        restored = archived.is_file() and _intact(archived)
        if restored:
            print(f"{name}: restored from {archived}")
        else:
            samples = pd.concat([read_parquet(f, columns=SAMPLE_COLUMNS) for f in s["samples"]], ignore_index=True)
            chosen = select_responses(samples, job_params["num_problems"], job_params["responses_per_problem"],
                                      job_params["seed"])
            table = model.score(chosen, read_parquet(s["problems"]), s["template"], s["scored_model"],
                                s["response_model"], {"benchmark": s["benchmark"]}, s["strip_questions"])
            before_write()
            write_parquet(archived, table, {
                "scored_model_manifest": model.manifest, "template": s["template"],
                "num_problems": job_params["num_problems"], "responses_per_problem": job_params["responses_per_problem"],
                "seed": job_params["seed"], "backend": job_params["backend"],
                "status_counts": table["status"].value_counts().to_dict()})
            print(f"{name}: scored, {archived}")
            print(table["perplexity"].describe().to_string())
            print("responses by status (too_long: beyond the scoring model's context, skipped):",
                  table["status"].value_counts().to_dict())
        entries.append({"output": s["output"], "archive": str(archived), "key": key, "restored": restored})
    return entries


def write_manifest(path: str | Path, entries: list[dict]) -> None:
    write_json(path, {"sets": entries})
