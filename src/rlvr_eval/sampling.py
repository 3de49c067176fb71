"""Generation driver: one shard of samples for one (model, benchmark), resumable.

Sample file schema (`results/samples/{model}/{benchmark}/shard-XXXX.parquet`), one row per sample:

| column        | type  | meaning                                                   |
|---------------|-------|-----------------------------------------------------------|
| problem_id    | str   | id from the canonical benchmark table                     |
| sample_index  | int   | global index of the sample for this problem (0 … n-1)     |
| text          | str   | the response (prompt excluded, stop string excluded)      |
| num_tokens    | int   | generated tokens, EOS included                             |
| finish_reason | str   | "stop" or "length"                                        |

The file's Parquet metadata (key `rlvr_eval`) records model, benchmark, shard, seeds, sampling
parameters, prompt template and backend versions/hardware.

Samples `shard * shard_size … shard * shard_size + m - 1` of every problem form shard `shard`.
A problem's seed derives from (global seed, model, benchmark, shard, problem id), so raising n adds
shards without touching existing ones, and a resumed job reproduces an uninterrupted one.
Finished chunks of problems are checkpointed in `<output>.partial/`; a rerun after a kill
continues from them and the final file appears (atomically) only when every problem is done.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .backends import Backend, SamplingParams
from .io import derive_seed, read_json, read_parquet, write_json, write_parquet
from .prompts import render_prompt, stop_strings

SAMPLE_COLUMNS = ["problem_id", "sample_index", "text", "num_tokens", "finish_reason"]


@dataclass(frozen=True)
class ShardSpec:
    model: str
    benchmark: str
    shard: int
    shard_size: int  # nominal samples per shard: sample indices start at shard * shard_size
    num_samples: int  # samples in this shard (the last shard of n may be smaller)
    seed: int  # global seed

    @property
    def first_index(self) -> int:
        return self.shard * self.shard_size

    def problem_seed(self, problem_id: str) -> int:
        return derive_seed(self.seed, self.model, self.benchmark, self.shard, problem_id)


def shard_sizes(n: int, shard_size: int) -> list[int]:
    """Samples per shard for n samples per problem: [m, m, …, remainder]."""
    full, rest = divmod(n, shard_size)
    return [shard_size] * full + ([rest] if rest else [])


def sample_shard(problems: pd.DataFrame, backend: Backend, spec: ShardSpec, template: str, params: SamplingParams,
                 out_path: str | Path, chunk_size: int = 8, extra_metadata: dict | None = None,
                 progress: bool = True) -> pd.DataFrame:
    out_path = Path(out_path)
    partial = out_path.with_name(out_path.name + ".partial")
    params = SamplingParams(params.temperature, params.top_p, params.max_new_tokens,
                            tuple(params.stop) or tuple(stop_strings(template)))
    fingerprint = {"spec": spec.__dict__, "template": template, "params": params.to_dict(),
                   "problem_ids": problems["problem_id"].tolist(), "chunk_size": chunk_size,
                   "extra": extra_metadata or {}}  # e.g. the model manifest: re-staged weights are not resumed
    fingerprint = json.loads(json.dumps(fingerprint, sort_keys=True, default=str))  # as read back (tuples -> lists)
    fp_file = partial / "fingerprint.json"
    if partial.exists() and (not fp_file.exists() or read_json(fp_file) != fingerprint):
        shutil.rmtree(partial)  # checkpoints of a different configuration: not resumable
    partial.mkdir(parents=True, exist_ok=True)
    write_json(fp_file, fingerprint)

    # fail before generating anything: every prompt + max_new_tokens must fit the model's context
    backend.check_prompts([render_prompt(template, q, backend.tokenizer) for q in problems["question"]], params)

    started = time.time()
    chunks = [problems.iloc[i : i + chunk_size] for i in range(0, len(problems), chunk_size)]
    done = sum((partial / f"chunk-{c:05d}.parquet").exists() for c in range(len(chunks)))
    bar = _progress(len(problems), f"{spec.model}/{spec.benchmark}/shard-{spec.shard}", progress)
    for c, chunk in enumerate(chunks):
        chunk_file = partial / f"chunk-{c:05d}.parquet"
        if chunk_file.exists():
            bar.update(len(chunk))
            continue
        prompts = [render_prompt(template, q, backend.tokenizer) for q in chunk["question"]]
        seeds = [spec.problem_seed(pid) for pid in chunk["problem_id"]]
        results = backend.generate(prompts, spec.num_samples, seeds, params)
        rows = [
            (pid, spec.first_index + j, comp.text, comp.num_tokens, comp.finish_reason)
            for pid, comps in zip(chunk["problem_id"], results)
            for j, comp in enumerate(comps)
        ]
        write_parquet(chunk_file, pd.DataFrame(rows, columns=SAMPLE_COLUMNS))
        bar.update(len(chunk))
    bar.close()

    parts = [read_parquet(partial / f"chunk-{c:05d}.parquet") for c in range(len(chunks))]
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SAMPLE_COLUMNS)
    metadata = {
        **{k: v for k, v in fingerprint.items() if k != "extra"}, "problem_ids": None, "problems": len(problems), "resumed_chunks": done,
        "backend": backend.info(), "started": started, "finished": time.time(), **(extra_metadata or {}),
    }
    write_parquet(out_path, df, metadata)
    shutil.rmtree(partial)
    return df


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="problem", disable=not enabled)
