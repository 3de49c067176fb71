"""Benchmark loaders: one normaliser per benchmark, reading a local mirror or the Hugging Face hub.

Every benchmark becomes the same canonical table (the interface to the sampling stage):

| column     | type | meaning                                                     |
|------------|------|-------------------------------------------------------------|
| problem_id | str  | stable id within the benchmark (the source's own id if any) |
| question   | str  | problem text inserted into the prompt template              |
| reference  | str  | reference final answer, in the benchmark's own convention   |
| solution   | str  | reference worked solution ("" where the source has none)    |
| metadata   | str  | JSON object with the source's remaining fields              |
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from .io import sha256_file

CANONICAL_COLUMNS = ["problem_id", "question", "reference", "solution", "metadata"]


def last_boxed_content(text: str) -> str | None:
    """Content of the last \\boxed{...} (or \\fbox{...}) in `text`, braces balanced; None if absent."""
    best = None
    for marker in ("\\boxed", "\\fbox"):
        idx = text.rfind(marker)
        if idx > (best[0] if best else -1):
            best = (idx, marker)
    if best is None or best[0] < 0:
        return None
    i = best[0] + len(best[1])
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        return None
    if text[i] != "{":  # "\boxed 5" form
        rest = text[i:].split("$")[0].strip()
        return rest or None
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
    return None


def _first(row: dict, *keys: str) -> Any:
    for k in keys:
        if k in row and row[k] is not None:
            return row[k]
    raise KeyError(f"none of the fields {keys} is present (fields: {sorted(row)})")


def _rest(row: dict, used: Iterable[str]) -> str:
    return json.dumps({k: v for k, v in row.items() if k not in set(used)}, default=str, sort_keys=True)


def _gsm8k(row: dict, i: int) -> dict:
    answer = row["answer"]
    if "####" not in answer:
        raise ValueError(f"GSM8K answer without '####': {answer[-80:]!r}")
    solution, final = answer.rsplit("####", 1)
    return dict(problem_id=str(i), question=row["question"], reference=final.strip().replace(",", ""),
                solution=solution.strip(), metadata=_rest(row, ["question", "answer"]))


def _math500(row: dict, i: int) -> dict:
    return dict(problem_id=str(row.get("unique_id", i)), question=row["problem"], reference=str(row["answer"]),
                solution=row.get("solution", ""), metadata=_rest(row, ["problem", "answer", "solution", "unique_id"]))


def _minerva(row: dict, i: int) -> dict:
    question = _first(row, "problem", "question")
    solution = row.get("solution") or ""
    reference = last_boxed_content(solution) if solution else None
    if reference is None:
        reference = str(_first(row, "answer"))
    return dict(problem_id=str(row.get("idx", i)), question=question, reference=reference.strip(),
                solution=solution, metadata=_rest(row, ["problem", "question", "solution", "idx"]))


def _olympiadbench(row: dict, i: int) -> dict:
    final = row["final_answer"]
    if isinstance(final, str):
        final = [final]
    answers = [str(a).strip().strip("$").strip() for a in final]
    solution = row.get("solution") or ""
    if isinstance(solution, list):
        solution = "\n\n".join(solution)
    return dict(problem_id=str(row.get("id", i)), question=row["question"], reference=", ".join(answers),
                solution=solution, metadata=_rest(row, ["question", "final_answer", "solution", "id"]))


def _answer_field(row: dict, i: int) -> dict:
    """AIME24 and AMC23: `problem`/`question` and `answer` (AMC23 stores floats such as 27.0)."""
    answer = _first(row, "answer")
    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)
    reference = str(answer)
    if reference.endswith(".0") and reference[:-2].lstrip("-").isdigit():
        reference = reference[:-2]
    return dict(problem_id=str(row.get("id", i)), question=_first(row, "problem", "question"), reference=reference,
                solution=row.get("solution") or "", metadata=_rest(row, ["problem", "question", "answer", "solution", "id"]))


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    mirror_file: str  # path relative to the mirror directory
    hub_path: str
    hub_name: str | None
    hub_split: str
    normalise: Callable[[dict, int], dict]


BENCHMARKS: dict[str, BenchmarkSpec] = {
    s.name: s
    for s in [
        BenchmarkSpec("gsm8k", "gsm8k/test.jsonl", "openai/gsm8k", "main", "test", _gsm8k),
        BenchmarkSpec("math500", "math500/test.jsonl", "HuggingFaceH4/MATH-500", None, "test", _math500),
        BenchmarkSpec("minerva_math", "minerva_math/test.jsonl", "math-ai/minervamath", None, "test", _minerva),
        BenchmarkSpec("olympiadbench", "olympiadbench/test.jsonl", "Hothan/OlympiadBench", "OE_TO_maths_en_COMP", "train", _olympiadbench),
        BenchmarkSpec("aime24", "aime24/test.jsonl", "HuggingFaceH4/aime_2024", None, "train", _answer_field),
        BenchmarkSpec("amc23", "amc23/test.jsonl", "math-ai/amc23", None, "test", _answer_field),
    ]
}


class BenchmarkError(ValueError):
    pass


def read_jsonl(path: str | Path) -> list[dict]:
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise BenchmarkError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None
    return rows


def mirror_path(name: str, mirror_dir: str | Path) -> Path:
    return Path(mirror_dir) / get_spec(name).mirror_file


def get_spec(name: str) -> BenchmarkSpec:
    if name not in BENCHMARKS:
        raise BenchmarkError(f"unknown benchmark {name!r}; known: {', '.join(sorted(BENCHMARKS))}")
    return BENCHMARKS[name]


def normalise_rows(name: str, rows: list[dict], source: str) -> pd.DataFrame:
    spec = get_spec(name)
    records = []
    for i, row in enumerate(rows):
        try:
            records.append(spec.normalise(row, i))
        except (KeyError, ValueError) as e:
            raise BenchmarkError(f"{source}: row {i}: {e}") from None
    df = pd.DataFrame.from_records(records, columns=CANONICAL_COLUMNS)
    dupes = df["problem_id"][df["problem_id"].duplicated()].tolist()
    if dupes:
        raise BenchmarkError(f"{source}: duplicate problem ids {dupes[:5]}")
    return df


def load_benchmark(name: str, mirror_dir: str | Path | None = None, hub_revision: str | None = None,
                   limit: int | None = None, synthetic: dict | None = None,
                   split: str = "test") -> tuple[pd.DataFrame, dict]:
    """Return (canonical table, provenance) from `mirror_dir` if given, else from the hub.

    `synthetic` ({seed, difficulty, problems, train_problems}; see synthetic_task.py) generates the
    project's own task instead, `split` "test" (the benchmark) or "train" (for training only).
    """
    if synthetic is not None:
        from .synthetic_task import generate_split

        count = synthetic["problems"] if split == "test" else synthetic["train_problems"]
        df = generate_split(split, count, synthetic["seed"], synthetic["difficulty"])
        source = {"kind": "synthetic", "task": "arith", "split": split, "seed": synthetic["seed"],
                  "difficulty": synthetic["difficulty"], "rows": len(df)}
        if limit is not None:
            df = df.head(limit).reset_index(drop=True)
        return df, {"benchmark": name, "source": source, "limit": limit, "problems": len(df)}
    spec = get_spec(name)
    if mirror_dir is not None:
        path = mirror_path(name, mirror_dir)
        if not path.is_file():
            raise BenchmarkError(f"benchmark {name!r}: mirror file {path} does not exist")
        df = normalise_rows(name, read_jsonl(path), str(path))
        source = {"kind": "mirror", "path": str(path), "sha256": sha256_file(path), "rows": len(df)}
    else:
        import datasets  # heavy; only needed for hub loading

        ds = datasets.load_dataset(spec.hub_path, spec.hub_name, split=spec.hub_split, revision=hub_revision)
        df = normalise_rows(name, [dict(r) for r in ds], f"hub:{spec.hub_path}")
        source = {"kind": "hub", "path": spec.hub_path, "config": spec.hub_name, "split": spec.hub_split,
                  "revision": hub_revision, "fingerprint": ds._fingerprint, "rows": len(df),
                  "sha256": [sha256_file(f["filename"]) for f in ds.cache_files]}
    if limit is not None:
        df = df.head(limit).reset_index(drop=True)
    return df, {"benchmark": name, "source": source, "limit": limit, "problems": len(df)}
