"""Responses generated elsewhere (another evaluation harness, an API model such as o1) as ordinary sample shards.

A model entry `responses: {<benchmark>: <file>}` (or `responses: <file>`, its rows naming their benchmark) has no
weights: rule import_samples reads each file and writes
the model's sample shards (`rlvr_eval.sampling.shards` schema, `shard_size` samples per shard), so verification,
pass@k, coverage, histograms and perplexity (as responses scored by another model) run on them unchanged.

Accepted files (JSONL, or Parquet with the same columns):
- the paper's evaluation code output (Qwen2.5-Math harness): one row per problem, its responses in a list
  `code` (or `responses`), the problem as `question` (exact text) or `problem_id`; an optional list
  `finish_reason` is kept;
- one row per response: `response` (or `text`), `problem_id` or `question`, optional `sample_index`
  (else the order of the rows), optional `finish_reason`;
- evalplus's `samples.jsonl` (code): one row per response, `task_id` and `solution` (the whole program) or
  `completion` (the code that continues the prompt; the verifier runs HumanEval+ programs after the prompt, as
  evalplus does);
- `rlvr-eval export`'s output: one row per response with `benchmark`, `problem_id`, `sample_index`, `text`.

A row with a `benchmark` field belongs to that benchmark only: one file may hold several benchmarks
(`responses: FILE`), and `response_counts` reads which ones, and n, from the rows (rlvr_eval.planning.imported).

Every problem of the benchmark table must have exactly n responses, numbered 0 … n-1; an unknown problem, a
duplicate sample index or a wrong count is an error naming the file and row, and so is what cannot be read
without guessing: per-response lists of different lengths in one row (`code` and `finish_reason`, `pred`,
`score`, `report`), or a `sample_index` that is not a non-negative integer (`"abc"`, `0.5`). Samples carry
`num_tokens` -1, `max_tokens` -1 and `logprob_sum` NaN (not known), and `finish_reason` "imported" unless the
file says.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from pathlib import Path

import pandas as pd

from rlvr_eval.data.benchmarks import read_jsonl
from rlvr_eval.io import read_parquet, sha256_file
from rlvr_eval.sampling.shards import SAMPLE_COLUMNS, shard_sizes

LIST_FIELDS = ("code", "responses")
TEXT_FIELDS = ("response", "text", "solution", "completion")  # the first present wins
ID_FIELDS = ("problem_id", "task_id")  # task_id: evalplus
# Lists the paper's harness writes with one entry per response, beside `code` (and ours, `finish_reason`).
PER_RESPONSE_FIELDS = ("finish_reason", "pred", "score", "report")


class ResponseImportError(ValueError):
    """A response file that does not fit the benchmark (named after the row)."""


def read_rows(path: str | Path) -> list[dict]:
    path = Path(path)
    if path.suffix == ".parquet":
        return read_parquet(path).to_dict("records")
    return read_jsonl(path)


def _problem_key(row: dict, i: int, where: str, by_id: dict, by_question: dict) -> str:
    id_field = next((f for f in ID_FIELDS if row.get(f) is not None), None)
    if id_field is not None:
        pid = str(row[id_field])
        if pid not in by_id:
            raise ResponseImportError(f"{where} row {i}: {id_field} {pid!r} is not in the benchmark")
        return pid
    question = row.get("question")
    if question is None:
        raise ResponseImportError(f"{where} row {i}: needs a `problem_id`, `task_id` or `question` field (has {sorted(row)})")
    pid = by_question.get(str(question).strip())
    if pid is None:
        raise ResponseImportError(f"{where} row {i}: no problem of the benchmark has this exact question text: "
                           f"{str(question)[:80]!r}")
    return pid


def _is_list(value) -> bool:
    # Parquet hands lists back as numpy arrays
    return isinstance(value, (list, tuple)) or (hasattr(value, "ndim") and getattr(value, "ndim", 0) == 1)


def _check_list_lengths(row: dict, listed: str, where: str) -> None:
    """Per-response lists of one row must align: zip() would silently drop the responses past the shorter one."""
    count = len(row[listed])
    for field in PER_RESPONSE_FIELDS:
        if _is_list(row.get(field)) and len(row[field]) != count:
            raise ResponseImportError(f"{where}: `{listed}` has {count} responses but `{field}` has "
                                      f"{len(row[field])} entries; the lists must be of equal length")


_INTEGER_TEXT = re.compile(r"^\s*\d+\s*$")


def _sample_index(value, where: str) -> int | None:
    """The row's sample index; None when it has none. int() would truncate 0.5 to 0 and read True as 1."""
    if value is None or (isinstance(value, float) and math.isnan(value)):  # NaN: missing in a Parquet column
        return None
    # 3.0 also counts: an integer column that pandas widened to float (a missing value elsewhere)
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.match(value):
        return int(value)
    shown = value.item() if hasattr(value, "item") else value  # numpy scalars from Parquet, shown as Python's
    raise ResponseImportError(f"{where}: sample_index {shown!r} is not a non-negative integer")


def read_responses(path: str | Path, problems: pd.DataFrame, benchmark: str | None = None) -> pd.DataFrame:
    """(problem_id, sample_index, text, finish_reason) of every response in `path` (of `benchmark` only, where rows
    name theirs)."""
    where = str(path)
    by_id = {str(p): p for p in problems["problem_id"].astype(str)}
    by_question = {}
    for pid, q in zip(problems["problem_id"].astype(str), problems["question"]):
        by_question.setdefault(str(q).strip(), pid)
    records, next_index = [], {}
    for i, row in enumerate(read_rows(path)):
        if benchmark is not None and row.get("benchmark") not in (None, benchmark):
            continue
        pid = _problem_key(row, i, where, by_id, by_question)
        listed = next((f for f in LIST_FIELDS if _is_list(row.get(f))), None)
        if listed is not None:
            _check_list_lengths(row, listed, f"{where} row {i}")
            finish = row.get("finish_reason")
            finish = list(finish) if _is_list(finish) else [None] * len(row[listed])
            for j, (text, reason) in enumerate(zip(row[listed], finish)):
                records.append((i, pid, next_index.get(pid, 0) + j, text, reason))
            next_index[pid] = next_index.get(pid, 0) + len(row[listed])
            continue
        field = next((f for f in TEXT_FIELDS if f in row), None)
        if field is None:
            raise ResponseImportError(f"{where} row {i}: no response: needs `response`, `text`, `solution` or "
                                      "`completion`, or a list `code`/`responses`")
        index = _sample_index(row.get("sample_index"), f"{where} row {i}")
        index = next_index.get(pid, 0) if index is None else index
        next_index[pid] = max(next_index.get(pid, 0), index + 1)
        records.append((i, pid, index, row[field], row.get("finish_reason")))
    df = pd.DataFrame(records, columns=["row", "problem_id", "sample_index", "text", "finish_reason"])
    duplicated = df[df.duplicated(["problem_id", "sample_index"], keep="first")]
    if len(duplicated):
        r = duplicated.iloc[0]
        raise ResponseImportError(f"{where} row {r.row}: problem {r.problem_id} has sample index {r.sample_index} twice")
    return df


def import_shards(path: str | Path, problems: pd.DataFrame, n: int, shard_size: int,
                  benchmark: str | None = None) -> list[pd.DataFrame]:
    """The sample shards (SAMPLE_COLUMNS) of the responses in `path` (of `benchmark`, where rows name theirs), for n
    samples per problem."""
    df = read_responses(path, problems, benchmark)
    counts = df.groupby("problem_id")["sample_index"].agg(["count", "max"])
    for pid in problems["problem_id"].astype(str):
        if pid not in counts.index:
            raise ResponseImportError(f"{path}: problem {pid} has no response (n = {n} expected)")
        count, top = counts.loc[pid]
        if count != n or top != n - 1:
            first = int(df.loc[df["problem_id"] == pid, "row"].iloc[0])
            raise ResponseImportError(f"{path} row {first}: problem {pid} has {count} responses numbered up to {top}; "
                               f"the config asks for n = {n} (sample indices 0 … {n - 1})")
    df = df.assign(text=df["text"].fillna("").astype(str), num_tokens=-1, max_tokens=-1, logprob_sum=float("nan"),
                   finish_reason=df["finish_reason"].fillna("imported").astype(str))
    order = {pid: i for i, pid in enumerate(problems["problem_id"].astype(str))}
    df = df.sort_values(["problem_id", "sample_index"], key=lambda c: c.map(order) if c.name == "problem_id" else c)
    shards, start = [], 0
    for size in shard_sizes(n, shard_size):
        part = df[(df["sample_index"] >= start) & (df["sample_index"] < start + size)]
        shards.append(part[SAMPLE_COLUMNS].reset_index(drop=True))
        start += size
    return shards


_KEY_FIELDS = ("benchmark", *ID_FIELDS, "question")


def _jsonl_key_table(path: Path):
    """The key columns of a JSONL file as strings (and the listed responses), parsed by Arrow, which skips the other
    fields (a few times faster than json.loads on every row); None where the fields do not fit these types (integer
    ids) or the file is compressed: then every row is read."""
    import pyarrow as pa
    import pyarrow.json as pj

    if path.suffix == ".gz":
        return None
    schema = pa.schema([(f, pa.string()) for f in _KEY_FIELDS] + [(f, pa.list_(pa.string())) for f in LIST_FIELDS])
    try:
        table = pj.read_json(path, parse_options=pj.ParseOptions(explicit_schema=schema,
                                                                 unexpected_field_behavior="ignore"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table


def _key_columns(path: Path) -> list[dict]:
    """Each row's benchmark, problem key and response count, reading only these columns (and a listed column of
    responses, for its lengths)."""
    import pyarrow.compute as pc

    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
        table = pq.read_table(path, columns=[c for c in (*_KEY_FIELDS, *LIST_FIELDS) if c in names])
    else:
        table = _jsonl_key_table(path)
        if table is None:
            return [{**{f: row.get(f) for f in _KEY_FIELDS},
                     "count": next((len(row[f]) for f in LIST_FIELDS if _is_list(row.get(f))), 1)}
                    for row in read_rows(path)]
        names = table.column_names
    columns = {f: table.column(f).to_pylist() for f in _KEY_FIELDS if f in names}
    lengths = [pc.list_value_length(table.column(f)).to_pylist() for f in LIST_FIELDS if f in names]
    rows = []
    for i in range(table.num_rows):
        row = {f: values[i] for f, values in columns.items()}
        row["count"] = next((length[i] for length in lengths if length[i] is not None), 1)
        rows.append(row)
    return rows


def response_counts(path: str | Path) -> dict[str | None, int]:
    """n of each benchmark in `path` (responses per problem; key None: rows that name no benchmark), in the order
    the rows first name them. A benchmark whose problems have different counts is an error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    stat = path.stat()
    return dict(_response_counts(str(path.resolve()), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=64)
def _response_counts(path: str, mtime_ns: int, size: int) -> tuple[tuple[str | None, int], ...]:
    per_problem: dict[str | None, dict[str, int]] = {}
    for row in _key_columns(Path(path)):
        key = next((str(row[f]) for f in ID_FIELDS if row.get(f) is not None), None)
        key = key if key is not None else str(row.get("question") or "").strip()
        counts = per_problem.setdefault(row.get("benchmark"), {})
        counts[key] = counts.get(key, 0) + row["count"]
    out = []
    for benchmark, counts in per_problem.items():
        ns = sorted(set(counts.values()))
        if len(ns) > 1:
            raise ResponseImportError(f"{path}: the problems{'' if benchmark is None else ' of ' + benchmark} have "
                                      f"{ns[0]} to {ns[-1]} responses each; every problem needs the same n")
        out.append((benchmark, ns[0]))
    return tuple(out)


def source_metadata(path: str | Path) -> dict:
    return {"imported_from": str(path), "imported_sha256": sha256_file(path)}
