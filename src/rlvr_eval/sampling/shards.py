"""Generation driver: one shard of samples for one (model, benchmark), resumable and never lost.

Sample file schema (`results/samples/{model}/{benchmark}/shard-XXXX.parquet`), one row per sample:

| column        | type  | meaning                                                                       |
|---------------|-------|-------------------------------------------------------------------------------|
| problem_id    | str   | id from the canonical benchmark table                                         |
| sample_index  | int   | global index of the sample for this problem (0 … n-1)                         |
| text          | str   | the response (prompt excluded, stop string excluded; "" if not sampled)      |
| num_tokens    | int   | generated tokens, EOS included                                                |
| finish_reason | str   | "stop", "length" (hit its budget) or "prompt_too_long" (not sampled)          |
| max_tokens    | int   | this sample's budget: min(max_new_tokens, context − prompt tokens); 0 if not sampled |
| logprob_sum   | float | sum of the log-probs of the num_tokens sampled tokens under the model's own distribution (temperature 1, before top-p); 0 if not sampled, NaN if unknown (imported) |

A budget below `max_new_tokens` is a *cap*: the prompt left less room in the model's context. The file's
Parquet metadata (key `rlvr_eval`) records model, benchmark, shard, seeds, sampling parameters, prompt
template, backend versions/hardware, the context limit and the counts of capped and unsampled samples.

Samples `shard * shard_size … shard * shard_size + m - 1` of every problem form shard `shard`.
A problem's seed derives from (global seed, model, benchmark, shard, problem id), so raising n adds
shards without touching existing ones, and a resumed job reproduces an uninterrupted one.

Nothing finished is lost:
- checkpoints, in `<output>.partial/`: with a backend that streams (vLLM: every prompt of the shard goes to the
  engine at once, so no chunk waits for its slowest sample), each problem is appended to `finished.jsonl` as it
  finishes; otherwise (transformers) finished chunks of problems (about `checkpoint_samples` samples each). A
  rerun after a kill continues from them, and the shard file appears (atomically) only when every problem is
  done. How a job checkpoints is not a sampling parameter: it never changes a sample.
- archive: every finished shard is also hard-linked into `.archive/shard-XXXX/<key>.parquet` beside it, keyed by
  everything that determines its samples (`shard_key`): in the workflow, every param of the `sample` rule, the
  very set whose change makes Snakemake rerun the job (backend and engine options included), plus the problems
  and the model manifest. Snakemake deletes a job's old output before running it; if the config is then reverted
  (a typo fixed), the job restores the archived shard instead of sampling again, without building the backend.
- lock: one job at a time per shard (rlvr_eval.sampling.holds: flock or lock files): a second one, e.g. after
  `--unlock` while an orphaned job still runs, fails at once, naming the holder, instead of racing on the
  checkpoints. It is taken, and the archive looked up, before any model is loaded.
- claim: the newest job owns the shard; an older one superseded while it sampled (an orphan of a killed
  Snakemake) keeps its samples in the archive but never writes the output.
- groups: a job may sample several shards with one engine (`sample_to_archive`, sampling.shards_per_job): each
  goes to its archive entry, under the same key as its own job's, and that job links its file from there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass
from pathlib import Path

import pandas as pd

from rlvr_eval.sampling.backends import Backend, SamplingParams
from rlvr_eval.sampling.backends.base import Completion, token_budgets
from rlvr_eval.sampling.holds import OutputHeldError, OutputHold, locked
from rlvr_eval.io import derive_seed, read_json, read_parquet, sha256_file, write_json, write_parquet, write_text
from rlvr_eval.sampling.shard_progress import ShardProgress
from rlvr_eval.sampling.prompts import render_problem_prompts, stop_strings

SAMPLE_COLUMNS = ["problem_id", "sample_index", "text", "num_tokens", "finish_reason", "max_tokens", "logprob_sum"]
PROMPT_TOO_LONG = "prompt_too_long"
DEFAULT_CHECKPOINT_SAMPLES = 4096


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

    @property
    def engine_seed(self) -> int:
        """The engine's seed under `sampling.seeding: engine` (each shard draws differently)."""
        return derive_seed(self.seed, self.model, self.benchmark, self.shard)


def shard_sizes(n: int, shard_size: int) -> list[int]:
    """Samples per shard for n samples per problem: [m, m, …, remainder]."""
    full, rest = divmod(n, shard_size)
    return [shard_size] * full + ([rest] if rest else [])


def problems_per_checkpoint(checkpoint_samples: int, num_samples: int) -> int:
    """Problems per checkpoint chunk: about `checkpoint_samples` samples, at least one problem."""
    return max(1, checkpoint_samples // max(1, num_samples))


class ShardLockedError(OutputHeldError):
    """Another process is writing the same shard."""


SAMPLING_BUSY = ("another process is sampling this shard ({holder}); wait for it to finish or kill it, then rerun (its "
                 "checkpoints are kept).")


def shard_hold(out_path: str | Path, scheme: str = "flock") -> OutputHold:
    """A sampling job's hold on its shard (rlvr_eval.sampling.holds): claimed now, locked when entered."""
    return OutputHold(out_path, scheme, SAMPLING_BUSY, ShardLockedError)


def shard_lock(out_path: Path, scheme: str = "flock"):
    """Hold an exclusive lock on `out_path`'s shard for the block (ShardLockedError at once if held)."""
    return locked(out_path, scheme, SAMPLING_BUSY, ShardLockedError)


def shard_key(problems: pd.DataFrame, spec: ShardSpec, template: str, params: SamplingParams,
              extra: dict | None = None, job_params: dict | None = None) -> dict:
    """Everything that determines a shard's samples, as read back from JSON: it names the shard's archive entry
    and fingerprints its checkpoints. job_params: the job's parameters as Snakemake sees them (the `sample` rule's
    params: backend, engine options, template text, ...): whatever reruns the job also changes the key, so an
    option added to the rule is in the key without a change here."""
    key = {"spec": spec.__dict__, "template": template, "params": _with_stop(params, template).to_dict(),
           "problem_ids": problems["problem_id"].tolist(),
           "questions": hashlib.sha256(json.dumps(problems["question"].tolist()).encode()).hexdigest(),
           "extra": extra or {}, "job": job_params or {}}
    if "image_sha256" in problems:  # visual benchmarks: the images determine the samples too
        key["images"] = problems["image_sha256"].tolist()
    return json.loads(json.dumps(key, sort_keys=True, default=str))  # as read back (tuples -> lists)


def _job_key(problems, spec, template, params, extra, job_params, strip_questions: bool) -> dict:
    key = shard_key(problems, spec, template, params, extra, job_params)
    if not strip_questions:  # (keyed only when off: the default leaves the keys of direct calls as they were)
        key["strip_questions"] = False
    return key


def _with_stop(params: SamplingParams, template: str) -> SamplingParams:
    return SamplingParams(params.temperature, params.top_p, params.max_new_tokens,
                          tuple(params.stop) or tuple(stop_strings(template)))


def archive_path(out_path: Path, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:24]
    return out_path.parent / ".archive" / out_path.stem / f"{digest}.parquet"


def link_or_copy(src: Path, dest: Path) -> None:
    """Place `src` at `dest` atomically: a hard link (no extra space), or a copy across filesystems."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


def sample_shard(problems: pd.DataFrame, backend: Backend | Callable[[], Backend], spec: ShardSpec, template: str,
                 params: SamplingParams, out_path: str | Path, checkpoint_samples: int = DEFAULT_CHECKPOINT_SAMPLES,
                 extra_metadata: dict | None = None, progress: bool = True, job_params: dict | None = None,
                 hold: OutputHold | None = None, strip_questions: bool = True) -> pd.DataFrame:
    """Sample shard `spec` of every problem into `out_path` (schema above) and return it.

    backend: a Backend, or a function that builds one: called (and the backend closed after) only if the shard
    is not restored from the archive, so a restore never loads the model.
    extra_metadata: what else determines the samples (e.g. the model manifest and the stage's logic stamp) and
    job_params (the rule's params): both key the archive and the checkpoints (`shard_key`), so re-staged
    weights or another engine option are never resumed or restored.
    hold: the job's hold on the shard (`shard_hold`, entered by the caller around the job's provenance record);
    without one the shard is locked here (flock) for the call.
    strip_questions: strip each question where the template's official code does (rlvr_eval.sampling.prompts).
    """
    out_path = Path(out_path)
    with (contextlib.nullcontext(hold) if hold is not None else _LockOnly(out_path)) as guard:
        key = _job_key(problems, spec, template, params, extra_metadata, job_params, strip_questions)
        archived = archive_path(out_path, key)
        if _archive_intact(archived):  # the same samples were made before (and their output since deleted)
            guard.check()
            print(f"{out_path}: restored from {archived} (sampled before with exactly these inputs)")
            link_or_copy(archived, out_path)
            return read_parquet(out_path)
        if hasattr(backend, "generate"):
            return _sample_shard(problems, backend, spec, template, params, out_path, checkpoint_samples, key,
                                 archived, extra_metadata or {}, progress, guard, strip_questions)
        engine = backend()
        try:
            return _sample_shard(problems, engine, spec, template, params, out_path, checkpoint_samples, key,
                                 archived, extra_metadata or {}, progress, guard, strip_questions)
        finally:
            engine.close()


def sample_to_archive(problems: pd.DataFrame, backend: Backend, spec: ShardSpec, template: str,
                      params: SamplingParams, out_path: str | Path,
                      checkpoint_samples: int = DEFAULT_CHECKPOINT_SAMPLES, extra_metadata: dict | None = None,
                      progress: bool = True, job_params: dict | None = None,
                      strip_questions: bool = True) -> tuple[Path, bool]:
    """Shard `spec` as `sample_shard` makes it for `out_path`, written to its archive entry only, never to
    `out_path`: for a job that samples several shards with one backend (rlvr_eval.sampling.shard_groups), whose
    shards' own jobs link each file from there. The shard is locked and checkpointed as in `sample_shard`.
    Returns (the archive entry, whether it was there already); `backend` is not closed here."""
    out_path = Path(out_path)
    with _ArchiveOnly(out_path) as guard:
        key = _job_key(problems, spec, template, params, extra_metadata, job_params, strip_questions)
        archived = archive_path(out_path, key)
        if _archive_intact(archived):
            return archived, True
        _sample_shard(problems, backend, spec, template, params, out_path, checkpoint_samples, key, archived,
                      extra_metadata or {}, progress, guard, strip_questions)
        return archived, False


class _LockOnly(contextlib.ExitStack):
    """The guard of a call without a job's hold: the shard's lock, no claim."""

    def __init__(self, out_path: Path):
        super().__init__()
        self.out_path = out_path

    def __enter__(self):
        super().__enter__()
        self._lock = self.enter_context(shard_lock(self.out_path))
        return self

    def check(self) -> None:
        self._lock.verify()

    def owned(self) -> bool:
        return True


class _ArchiveOnly(_LockOnly):
    """The guard of `sample_to_archive`: the shard's lock; the output is not this job's to write."""

    def owned(self) -> bool:
        return False


def _sample_shard(problems, backend, spec, template, params, out_path, checkpoint_samples, key, archived, extra,
                  progress, guard, strip_questions):
    params = _with_stop(params, template)
    prompts = render_problem_prompts(template, problems, backend.tokenizer, strip_questions)
    budgets = token_budgets(backend.prompt_lengths(prompts), params.max_new_tokens, backend.context_limit)
    streaming = hasattr(backend, "generate_stream")  # vLLM: every prompt at once, each checkpointed as it finishes
    chunk_size = problems_per_checkpoint(checkpoint_samples, spec.num_samples)
    checkpoints = {"checkpoints": "each finished problem"} if streaming else {"problems_per_checkpoint": chunk_size}
    partial = out_path.with_name(out_path.name + ".partial")
    fingerprint = {**key, **checkpoints}
    fp_file = partial / "fingerprint.json"
    if partial.exists() and (not fp_file.exists() or read_json(fp_file) != fingerprint):
        shutil.rmtree(partial)  # checkpoints of a different configuration: not resumable
    partial.mkdir(parents=True, exist_ok=True)
    write_json(fp_file, fingerprint)

    started = time.time()
    problem_ids = problems["problem_id"].tolist()
    bar = ShardProgress(len(problems), f"{spec.model}/{spec.benchmark}/shard-{spec.shard}", progress)
    if streaming:
        df, resumed = _sample_streaming(backend, spec, params, problem_ids, prompts, budgets,
                                        partial / "finished.jsonl", bar)
        checkpoints["resumed_problems"] = resumed
    else:
        starts = range(0, len(problems), chunk_size)
        checkpoints["resumed_chunks"] = sum((partial / f"chunk-{c:05d}.parquet").exists() for c in range(len(starts)))
        for c, start in enumerate(starts):
            chunk_file = partial / f"chunk-{c:05d}.parquet"
            stop = start + chunk_size
            if not chunk_file.exists():
                write_parquet(chunk_file, _rows(spec, problem_ids[start:stop], budgets[start:stop],
                                                _generate(backend, spec, params, problem_ids[start:stop],
                                                          prompts[start:stop], budgets[start:stop])))
            bar.update(len(prompts[start:stop]))
        parts = [read_parquet(partial / f"chunk-{c:05d}.parquet") for c in range(len(starts))]
        df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SAMPLE_COLUMNS)
    bar.close()

    capped = [b for b in budgets if 0 < b < params.max_new_tokens]
    metadata = {
        **{k: v for k, v in key.items() if k not in ("extra", "problem_ids", "job", "questions")},
        "problems": len(problems), **checkpoints,
        "context_limit": backend.context_limit,
        "capped_samples": len(capped) * spec.num_samples,
        "prompt_too_long_samples": sum(b == 0 for b in budgets) * spec.num_samples,
        "backend": backend.info(), "started": started, "finished": time.time(), **extra,
    }
    # A job superseded by a newer one (an orphan of a killed run) keeps its samples in the archive, where a job
    # with the same key finds them, but leaves the output to the newer job.
    owned = guard.owned()
    if owned:
        guard.check()  # and the lock is still ours (LockLostError)
        write_parquet(out_path, df, metadata)
        link_or_copy(out_path, archived)
    else:
        write_parquet(archived, df, metadata)
    write_text(archived.with_suffix(".sha256"), sha256_file(archived) + "\n")
    shutil.rmtree(partial)
    if not owned:
        guard.check()  # SupersededError, the samples archived
    return df


def _archive_intact(archived: Path) -> bool:
    """An archived shard is restored only if its content still has the hash it was archived with (a hard link
    shares its content with the output it was made as: an output edited in place is no backup)."""
    digest_file = archived.with_suffix(".sha256")
    if not (archived.is_file() and digest_file.is_file()):
        return False
    if sha256_file(archived) == digest_file.read_text().strip():
        return True
    print(f"{archived}: content changed since it was archived; discarded, sampling again")
    archived.unlink()
    digest_file.unlink()
    return False


def _generate(backend: Backend, spec: ShardSpec, params: SamplingParams, problem_ids: list[str], prompts: list[str],
              budgets: list[int]) -> dict[int, list]:
    """{i: the completions of problem i} for the problems with room to sample (budget > 0)."""
    todo = [i for i, b in enumerate(budgets) if b > 0]
    results = backend.generate([prompts[i] for i in todo], spec.num_samples,
                               [spec.problem_seed(problem_ids[i]) for i in todo], params,
                               [budgets[i] for i in todo]) if todo else []
    return dict(zip(todo, results))


def _rows(spec: ShardSpec, problem_ids: list[str], budgets: list[int], completions: dict[int, list]) -> pd.DataFrame:
    rows = []
    for i, pid in enumerate(problem_ids):
        for j in range(spec.num_samples):
            if i in completions:
                comp = completions[i][j]
                rows.append((pid, spec.first_index + j, comp.text, comp.num_tokens, comp.finish_reason, budgets[i],
                             comp.logprob_sum))
            else:  # the prompt alone fills the context: recorded, never silently dropped
                rows.append((pid, spec.first_index + j, "", 0, PROMPT_TOO_LONG, 0, 0.0))
    return pd.DataFrame(rows, columns=SAMPLE_COLUMNS)


_SYNC_EVERY_S = 10.0  # each finished problem is written at once (a killed job keeps it); fsync'd this often


def _sample_streaming(backend, spec: ShardSpec, params: SamplingParams, problem_ids: list[str], prompts: list[str],
                      budgets: list[int], log_path: Path, bar) -> tuple[pd.DataFrame, int]:
    """Sample every problem not yet in the checkpoint log (one JSON line per finished problem: its position and
    completions; a line cut short by a kill is ignored), appending each as the backend finishes it. The rows come
    out in problem order, as the chunked path writes them."""
    done: dict[int, list[Completion]] = {}
    if log_path.exists():
        valid = 0  # bytes of whole lines
        with open(log_path, "rb") as f:
            for line in f:
                try:
                    if not line.endswith(b"\n"):
                        raise ValueError("a line cut short")
                    entry = json.loads(line)
                    done[entry["i"]] = [Completion(*c) for c in entry["completions"]]
                except (ValueError, KeyError, TypeError):
                    break  # the torn end of a killed write: that problem is sampled again
                valid += len(line)
        os.truncate(log_path, valid)  # appends start on a line of their own
    resumed = len(done)
    bar.update(resumed + sum(b == 0 for i, b in enumerate(budgets) if i not in done))
    todo = [i for i, b in enumerate(budgets) if b > 0 and i not in done]
    synced = time.monotonic()
    with open(log_path, "a", encoding="utf-8") as log:
        stream = backend.generate_stream([prompts[i] for i in todo], spec.num_samples,
                                         [spec.problem_seed(problem_ids[i]) for i in todo], params,
                                         [budgets[i] for i in todo])
        for k, completions in stream:
            i = todo[k]
            done[i] = completions
            log.write(json.dumps({"i": i, "completions": [list(astuple(c)) for c in completions]}) + "\n")
            log.flush()
            if time.monotonic() - synced > _SYNC_EVERY_S:
                os.fsync(log.fileno())
                synced = time.monotonic()
            bar.update(1)
    return _rows(spec, problem_ids, budgets, done), resumed
