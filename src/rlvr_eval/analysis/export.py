"""Samples and their verdicts as JSON Lines, one object per sample, for tools outside the workflow.

Each line: `model`, `benchmark`, `problem_id`, `sample_index`, `text`, `num_tokens`, `finish_reason`, and
`verdicts` ({grader: {status, correct, extracted}} for every grader that has judged the sample). Code samples
also carry evalplus's `samples.jsonl` keys: `task_id` and `solution`, the program as it was run (the last fenced
block of the response; for HumanEval+ after the problem's prompt), so `evalplus.evaluate --samples` can
re-check them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

import pandas as pd

from rlvr_eval.code import evalplus_tests
from rlvr_eval.code.extract import extract_code
from rlvr_eval.io import read_parquet, read_parquet_metadata

SAMPLE_KEYS = ["problem_id", "sample_index", "text", "num_tokens", "finish_reason"]
VERDICT_KEYS = ["status", "correct", "extracted"]


def _shards(directory: Path) -> list[Path]:
    return sorted(directory.glob("shard-*.parquet"))


def _programs(workdir: Path, benchmark: str, samples: pd.DataFrame, code_prefix: str) -> list[str]:
    codes = [extract_code("" if t is None else str(t), code_prefix) for t in samples["text"]]
    dataset = evalplus_tests.DATASETS.get(benchmark)
    if dataset != "humaneval":
        return codes
    prompts = read_parquet(workdir / "results" / "data" / f"{benchmark}.parquet", ["problem_id", "question"])
    prompt_of = dict(zip(prompts["problem_id"].astype(str), prompts["question"]))
    return [evalplus_tests.program_of(dataset, {"prompt": prompt_of[str(pid)]}, code)
            for pid, code in zip(samples["problem_id"], codes)]


def export_samples(workdir: str | Path, model: str, benchmark: str, out: IO[str]) -> int:
    """Write every sample of `model` on `benchmark` under `workdir`/results to `out`; return how many."""
    workdir = Path(workdir)
    sample_dir = workdir / "results" / "samples" / model / benchmark
    shards = _shards(sample_dir)
    if not shards:
        raise FileNotFoundError(f"no samples in {sample_dir} (shard-*.parquet): run the workflow for "
                                f"{model} on {benchmark} first")
    samples = pd.concat([read_parquet(p) for p in shards], ignore_index=True)
    for column in SAMPLE_KEYS:  # (imported responses may lack token counts)
        if column not in samples:
            samples[column] = None
    samples = samples.sort_values(["problem_id", "sample_index"], kind="stable", ignore_index=True)
    key = list(zip(samples["problem_id"].astype(str), samples["sample_index"].astype(int)))
    verdicts: dict[str, dict] = {}
    code_prefix = None
    for grader_dir in sorted(p for p in (workdir / "results" / "verdicts" / model / benchmark).glob("*") if p.is_dir()):
        parts = [read_parquet(p, ["problem_id", "sample_index", *VERDICT_KEYS]) for p in _shards(grader_dir)]
        if not parts:
            continue
        table = pd.concat(parts, ignore_index=True)
        verdicts[grader_dir.name] = {(str(r.problem_id), int(r.sample_index)):
                                     {"status": r.status, "correct": bool(r.correct),
                                      "extracted": None if pd.isna(r.extracted) else str(r.extracted)}
                                     for r in table.itertuples(index=False)}
        if grader_dir.name == "code_exec":
            code_prefix = read_parquet_metadata(_shards(grader_dir)[0]).get("code_prefix", "")
    programs = _programs(workdir, benchmark, samples, code_prefix) if code_prefix is not None else None
    for i, (row, k) in enumerate(zip(samples.itertuples(index=False), key)):
        line = {"model": model, "benchmark": benchmark, "problem_id": k[0], "sample_index": k[1], "text": row.text,
                "num_tokens": None if pd.isna(row.num_tokens) else int(row.num_tokens),
                "finish_reason": row.finish_reason, "verdicts": {g: v[k] for g, v in verdicts.items() if k in v}}
        if programs is not None:
            line.update(task_id=k[0], solution=programs[i])
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return len(samples)
