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
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from rlvr_eval.data.columns import CANONICAL_COLUMNS
from rlvr_eval.data.livecodebench import LIVECODEBENCH_RELEASE_FILES, LIVECODEBENCH_WINDOWS, in_window
from rlvr_eval.data.omni_math import OMNI_MATH_SPLIT_SEED, OMNI_MATH_SPLITS, normalise_omni_math, omni_math_split
from rlvr_eval.data.visual import VISUAL_BENCHMARKS, load_visual, options_for
from rlvr_eval.io import sha256_file

log = logging.getLogger(__name__)


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


def _evalplus(row: dict, i: int) -> dict:
    """HumanEval+ and MBPP+: the prompt is the question; the tests (inputs, atol, entry point) stay in metadata.

    `reference` holds the entry point; expected outputs come from running the canonical solution
    (rlvr_eval.code.evalplus_tests, rule code_expected_outputs).
    """
    return dict(problem_id=row["task_id"], question=row["prompt"], reference=row["entry_point"],
                solution=row["canonical_solution"], metadata=_rest(row, ["task_id", "prompt", "canonical_solution"]))


def _livecodebench(row: dict, i: int) -> dict | None:
    """LiveCodeBench; tests in metadata. load_benchmark keeps the contest window's problems (`window`, by default
    the benchmark's own, LIVECODEBENCH_WINDOWS: livecodebench's is the paper's 2024-08 to 2025-01, 279 problems).

    The question is LiveCodeBench's own user turn for chat models (lcb_runner's generic question template: the
    problem, the format instruction with the starter code or a stdin/stdout placeholder block, the answer cue).
    Rows come as the mirror has them (`func_name` a field) or as the hub's JSONL files (`func_name` inside the
    JSON string `metadata`, as lcb_runner reads it).
    The metadata keeps question_content and starter_code, from which the lcb-codeqwen template builds its own turn.
    """
    if isinstance(row.get("metadata"), str):
        row = {**row, "func_name": row.get("func_name") or json.loads(row["metadata"] or "{}").get("func_name")}
    starter = row.get("starter_code") or ""
    question = f"### Question:\n{row['question_content']}\n\n"
    if starter:
        question += ("### Format: You will use the following starter code to write the solution to the problem and "
                     f"enclose your code within delimiters.\n```python\n{starter}\n```\n\n")
    else:
        question += ("### Format: Read the inputs from stdin solve the problem and write the answer to stdout (do not "
                     "directly test on the sample inputs). Enclose your code within delimiters as follows.\n"
                     "```python\n# YOUR CODE HERE\n```\n\n")
    question += "### Answer: (use the provided format with backticks)\n\n"
    return dict(problem_id=str(row["question_id"]), question=question,
                reference=row.get("func_name") or "stdin", solution="",
                metadata=_rest(row, ["question_id"]))


def _visual_only(row: dict, i: int) -> dict:
    raise ValueError("visual benchmarks are read by rlvr_eval.visual_benchmarks.load_visual")


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    mirror_file: str  # path relative to the mirror directory
    hub_path: str
    hub_name: str | None
    hub_split: str
    normalise: Callable[[dict, int], dict | None]


BENCHMARKS: dict[str, BenchmarkSpec] = {
    s.name: s
    for s in [
        BenchmarkSpec("gsm8k", "gsm8k/test.jsonl", "openai/gsm8k", "main", "test", _gsm8k),
        BenchmarkSpec("math500", "math500/test.jsonl", "HuggingFaceH4/MATH-500", None, "test", _math500),
        BenchmarkSpec("minerva_math", "minerva_math/test.jsonl", "math-ai/minervamath", None, "test", _minerva),
        BenchmarkSpec("olympiadbench", "olympiadbench/test.jsonl", "Hothan/OlympiadBench", "OE_TO_maths_en_COMP", "train", _olympiadbench),
        BenchmarkSpec("aime24", "aime24/test.jsonl", "HuggingFaceH4/aime_2024", None, "train", _answer_field),
        BenchmarkSpec("amc23", "amc23/test.jsonl", "math-ai/amc23", None, "test", _answer_field),
        BenchmarkSpec("humanevalplus", "humanevalplus/HumanEvalPlus-v0.1.10.jsonl.gz", "evalplus/humanevalplus",
                      None, "test", _evalplus),
        BenchmarkSpec("mbppplus", "mbppplus/MbppPlus-v0.2.0.jsonl.gz", "evalplus/mbppplus", None, "test", _evalplus),
        *(BenchmarkSpec(b, "livecodebench/test_public.jsonl", "livecodebench/code_generation_lite", "release_v5",
                        "test", _livecodebench) for b in LIVECODEBENCH_WINDOWS),  # one file, two windows
        BenchmarkSpec("omni_math_train", "omni_math_rule/omni_math_rule.jsonl", "", None, "train", normalise_omni_math),  # no hub
        BenchmarkSpec("omni_math_test", "omni_math_rule/omni_math_rule.jsonl", "", None, "test", normalise_omni_math),
        # Visual benchmarks: one image per problem; loaded by rlvr_eval.data.visual (options, images).
        BenchmarkSpec("mathvision", "mathvision/testmini.jsonl", "MathLLMs/MathVision", None, "testmini", _visual_only),
        BenchmarkSpec("mathvista", "mathvista/testmini.json", "AI4Math/MathVista", None, "testmini", _visual_only),
    ]
}
# Benchmarks verified by running programs (rlvr_eval.code) rather than by comparing answers.
CODE_BENCHMARKS = frozenset({"humanevalplus", "mbppplus", *LIVECODEBENCH_WINDOWS})


class BenchmarkError(ValueError):
    pass


@dataclass(frozen=True)
class KnownSource:
    """The file the paper evaluated on (the Qwen2.5-Math evaluation data its repository ships, and the
    benchmarks' own releases), to tell a truncated or different copy from the real one."""

    sha256: str
    rows: int
    origin: str


KNOWN_SOURCES: dict[str, KnownSource] = {
    "gsm8k": KnownSource("3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14", 1319,
                         "openai/grade-school-math@3101c7d5 grade_school_math/data/test.jsonl"),
    "math500": KnownSource("35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132", 500,
                           "hkust-nlp/simpleRL-reason@cf1c7858 examples/simplelr_math_eval/data/math500/test.jsonl"),
    "minerva_math": KnownSource("0e656b430d3a0a1dab6aa853f453ba3805e28e2cabe4fc72486a897cc09d8ba2", 272,
                                "QwenLM/Qwen2.5-Math@a45202bd evaluation/data/minerva_math/test.jsonl"),
    "olympiadbench": KnownSource("bb8c1e38a16ea9eacb77530315a674d883f267fbff79183effc53681b4fcc416", 675,
                                 "QwenLM/Qwen2.5-Math@a45202bd evaluation/data/olympiadbench/test.jsonl"),
    "aime24": KnownSource("af2b8bd2aa911b6333ad0df32f3ca05c7ae8ed10f1731f4372c8ae26990bf7ac", 30,
                          "QwenLM/Qwen2.5-Math@a45202bd evaluation/data/aime24/test.jsonl"),
    "amc23": KnownSource("43707e1ca784602d8479de24ee8ce36609dbebc46dd152b0b12a46611aa898a4", 40,
                         "QwenLM/Qwen2.5-Math@a45202bd evaluation/data/amc23/test.jsonl"),
    **{b: KnownSource("d566d5b5a9865a04b507fdc4c0669cf0ff391748e13f190ecc925e78b584b172", 2821,  # one file, 2 splits
                      "KbsdJames/omni-math-rule@4793415e omni_math_rule.jsonl") for b in OMNI_MATH_SPLITS},
    "mathvision": KnownSource("449e238b768f702e2659543495f2c87ee1f41a9e9c013d174daf12029756227a", 304,
                              "mathllm/MATH-V@a1f5cc3a data/testmini.jsonl"),
    "mathvista": KnownSource("ab0148dca9d401c31cc47f29b3826eec28a76ff155a1c0878d81e8daf0413480", 1000,
                             "lupantech/MathVista@53d52587 data/testmini.json"),
}


def check_against_known(name: str, rows: int, sha256: str | list | None, where: str) -> str | None:
    """Raise BenchmarkError if the source has fewer problems than the paper's file (a truncated copy); return a
    warning if its content differs from it (None if it is the paper's file or none is known)."""
    known = KNOWN_SOURCES.get(name)
    if known is None:
        return None
    if rows < known.rows:
        raise BenchmarkError(f"benchmark {name!r}: {where} has {rows} problems, the paper's file has {known.rows} "
                             f"({known.origin}, sha256 {known.sha256[:12]}…): a truncated copy? Replace it, or set "
                             "benchmark_source.check_known_files: false to use it as it is")
    if sha256 != known.sha256:
        return (f"benchmark {name!r}: {where} differs from the paper's file ({known.origin}, sha256 "
                f"{known.sha256[:12]}…; {known.rows} problems, this source has {rows})")
    return None


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
            record = spec.normalise(row, i)
        except (KeyError, ValueError) as e:
            raise BenchmarkError(f"{source}: row {i}: {e}") from None
        if record is not None:  # None: outside the benchmark's selection (LiveCodeBench's contest window)
            records.append(record)
    df = pd.DataFrame.from_records(records, columns=CANONICAL_COLUMNS)
    dupes = df["problem_id"][df["problem_id"].duplicated()].tolist()
    if dupes:
        raise BenchmarkError(f"{source}: duplicate problem ids {dupes[:5]}")
    return df


def load_benchmark(name: str, mirror_dir: str | Path | None = None, hub_revision: str | None = None,
                   limit: int | None = None, check_known_files: bool = True, synthetic: dict | None = None,
                   split: str = "test", problem_ids: list | None = None, visual: dict | None = None,
                   hub_images_dir: str | Path | None = None,
                   window: list[str] | None = None) -> tuple[pd.DataFrame, dict]:
    """Return (canonical table, provenance) from `mirror_dir` if given, else from the hub.

    check_known_files: refuse a source with fewer problems than the paper's file, and warn (in the log and
    the provenance, key `warning`) when its content differs from it.
    `problem_ids` keeps only those problems (in the benchmark's order; an unknown id is an error naming it).
    `synthetic` ({seed, difficulty, problems, train_problems}; see synthetic_task.py) generates the
    project's own task instead, `split` "test" (the benchmark) or "train" (for training only).
    `visual`: the options of a visual benchmark (rlvr_eval.data.visual.options_for; defaults if None);
    from the hub, its images are written under `hub_images_dir`.
    `window` ([first, last] contest month, "YYYY-MM"): LiveCodeBench's problems kept (default: the benchmark's own,
    LIVECODEBENCH_WINDOWS), in the source's order.
    """
    if synthetic is not None:
        from rlvr_eval.data.synthetic import generate_split

        count = synthetic["problems"] if split == "test" else synthetic["train_problems"]
        df = generate_split(split, count, synthetic["seed"], synthetic["difficulty"])
        source = {"kind": "synthetic", "task": "arith", "split": split, "seed": synthetic["seed"],
                  "difficulty": synthetic["difficulty"], "rows": len(df)}
        if limit is not None:
            df = df.head(limit).reset_index(drop=True)
        return df, {"benchmark": name, "source": source, "limit": limit, "problems": len(df)}
    spec = get_spec(name)
    if name in VISUAL_BENCHMARKS:
        df, prov, rows, sha = load_visual(name, mirror_dir, options_for(name, visual or {}), limit, hub_revision,
                                          hub_images_dir)
        where = f"{prov['source']['kind']} {prov['source']['path']}"
        warning = check_against_known(name, rows, sha, where) if check_known_files else None
        if warning:
            log.warning(warning)
        if problem_ids is not None:
            df = select_problems(df, problem_ids, f"benchmarks.{name}.problem_ids", prov["source"]["path"])
            prov = {**prov, "problem_ids": [str(i) for i in problem_ids], "problems": len(df)}
        return df, {**prov, "warning": warning}
    if mirror_dir is None and not spec.hub_path:
        raise BenchmarkError(f"benchmark {name!r} has no copy on the Hugging Face hub: read it from "
                             "benchmark_source.mirror_dir (`make data` fetches it there)")
    if name in LIVECODEBENCH_WINDOWS and mirror_dir is None:
        df, source = _livecodebench_from_hub(spec, hub_revision)
    elif mirror_dir is not None:
        path = mirror_path(name, mirror_dir)
        if not path.is_file():
            raise BenchmarkError(f"benchmark {name!r}: mirror file {path} does not exist (`make data MIRROR_DIR={mirror_dir}`)")
        df = normalise_rows(name, read_jsonl(path), str(path))
        source = {"kind": "mirror", "path": str(path), "sha256": sha256_file(path), "rows": len(df)}
    else:
        import datasets  # heavy; only needed for hub loading

        ds = datasets.load_dataset(spec.hub_path, spec.hub_name, split=spec.hub_split, revision=hub_revision)
        df = normalise_rows(name, [dict(r) for r in ds], f"hub:{spec.hub_path}")
        source = {"kind": "hub", "path": spec.hub_path, "config": spec.hub_name, "split": spec.hub_split,
                  "revision": hub_revision, "fingerprint": ds._fingerprint, "rows": len(df),
                  "sha256": [sha256_file(f["filename"]) for f in ds.cache_files]}
    if name in LIVECODEBENCH_WINDOWS:
        window = tuple(window or LIVECODEBENCH_WINDOWS[name])
        df = df[[in_window(str(json.loads(m)["contest_date"]), window) for m in df["metadata"]]].reset_index(drop=True)
        source = {**source, "window": list(window)}
    warning = check_against_known(name, len(df), source["sha256"], f"{source['kind']} {source['path']}") \
        if check_known_files else None
    if warning:
        log.warning(warning)
    if name in OMNI_MATH_SPLITS:  # after the check: the paper's file is the whole file
        df, source = omni_math_split(df, OMNI_MATH_SPLITS[name]), {**source, "split": OMNI_MATH_SPLITS[name],
                                                                     "split_seed": OMNI_MATH_SPLIT_SEED}
    if limit is not None:
        if limit > len(df):
            raise BenchmarkError(f"benchmarks.{name}.limit: {limit} is more than the {len(df)} problems of "
                                 f"{source['path']}; leave `limit` out to use them all")
        df = df.head(limit).reset_index(drop=True)
    subset = {}
    if problem_ids is not None:
        df = select_problems(df, problem_ids, f"benchmarks.{name}.problem_ids", source["path"])
        subset = {"problem_ids": [str(i) for i in problem_ids]}
    return df, {"benchmark": name, "source": source, "limit": limit, **subset, "problems": len(df), "warning": warning}


def _livecodebench_from_hub(spec: BenchmarkSpec, revision: str | None) -> tuple[pd.DataFrame, dict]:
    """LiveCodeBench's release files at `revision` (public and hidden tests), downloaded with huggingface_hub."""
    from huggingface_hub import hf_hub_download

    files = LIVECODEBENCH_RELEASE_FILES[spec.hub_name]
    paths = [hf_hub_download(spec.hub_path, f, repo_type="dataset", revision=revision) for f in files]
    df = normalise_rows(spec.name, [row for path in paths for row in read_jsonl(path)], f"hub:{spec.hub_path}")
    return df, {"kind": "hub", "path": spec.hub_path, "config": spec.hub_name, "files": files, "revision": revision,
                "rows": len(df), "sha256": [sha256_file(p) for p in paths]}


def select_problems(df: pd.DataFrame, problem_ids: list, key: str, source: str) -> pd.DataFrame:
    """The rows of `df` whose problem_id is listed (ids compared as strings), in the table's order."""
    wanted = [str(i) for i in problem_ids]
    repeated = sorted({i for i in wanted if wanted.count(i) > 1})
    if repeated:
        raise BenchmarkError(f"{key}: ids {repeated} are listed twice")
    unknown = [i for i in wanted if i not in set(df["problem_id"])]
    if unknown:
        raise BenchmarkError(f"{key}: no problem {unknown[:5]} in {source} ({len(df)} problems, ids such as "
                             f"{df['problem_id'].head(3).tolist()})")
    return df[df["problem_id"].isin(wanted)].reset_index(drop=True)
