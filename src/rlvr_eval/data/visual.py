"""Visual math benchmarks: MATH-V (MathVision) and MathVista testmini, each problem with one image.

The canonical table (rlvr_eval.data.benchmarks) gets two more columns:

| column       | type | meaning                                                      |
|--------------|------|--------------------------------------------------------------|
| image        | str  | absolute path of the problem's image (read at sampling time) |
| image_sha256 | str  | sha256 of that image file                                    |

Options (`benchmarks.<name>` in the config), recorded in the table's provenance:

- `free_form_only` (default true, the paper's filter): MATH-V keeps `options == []` (114 of 304), MathVista
  keeps `question_type == "free_form"` (460 of 1,000).
- `strip_image_markers` (MATH-V, default true): remove the `<image1>` markers from the question; the image
  itself goes first in the user turn (rlvr_eval.sampling.prompts, template `qwen25-vl-think`).
- `question_field` (MathVista, default `question`): `question` (the bare question, as the paper's prompt
  asks) or `query` (the hub release's question with MathVista's own answer-format hint; the annotation file
  `data/testmini.json` has no `query`).
- `images_dir` (MathVista): the dataset's `images/` folder, which the mirror does not hold. Each image must
  exist and have the `metadata.img_width` x `img_height` the annotation records; `check_images` says which
  is first to fail, before any job starts (rlvr_eval.planning.preflight).

MathVista's `reference` is its `answer`; its grading conventions (`answer_type`, `precision`) stay in
`metadata` and are implied by the answer's own form (rlvr_eval.verify.mathvista_grader).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd

from rlvr_eval.io import sha256_file

VISUAL_BENCHMARKS = ("mathvision", "mathvista")
VISUAL_COLUMNS = ["image", "image_sha256"]
DEFAULT_OPTIONS = {"free_form_only": True, "strip_image_markers": True, "question_field": "question",
                   "images_dir": None}
# The datasets' own hub repositories (images decoded from the `decoded_image` column).
HUB = {"mathvision": ("MathLLMs/MathVision", None, "testmini"),
       "mathvista": ("AI4Math/MathVista", None, "testmini")}
# The options that shape each benchmark's table, recorded in its provenance.
RECORDED_OPTIONS = {"mathvision": ("free_form_only", "strip_image_markers"),
                    "mathvista": ("free_form_only", "question_field")}
MIRROR_FILES = {"mathvision": "mathvision/testmini.jsonl", "mathvista": "mathvista/testmini.json"}
_MARKER = re.compile(r"\s*<image\d+>\s*")


class VisualBenchmarkError(ValueError):
    pass


def options_for(name: str, spec: dict) -> dict:
    """The visual options of benchmark `name` from its config entry, defaults filled in."""
    return {**DEFAULT_OPTIONS, **{k: spec[k] for k in DEFAULT_OPTIONS if k in spec}}


def strip_markers(question: str) -> str:
    """`<image1>` … markers out, the text around them kept on separate lines."""
    return "\n".join(p.strip() for p in _MARKER.split(question) if p.strip())


def read_rows(name: str, path: Path) -> list[dict]:
    """The annotation rows of the mirror file, in the file's order."""
    try:
        if name == "mathvista":
            data = json.loads(path.read_text(encoding="utf-8"))
            return list(data.values()) if isinstance(data, dict) else list(data)
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except json.JSONDecodeError as e:
        raise VisualBenchmarkError(f"{path}: not valid JSON ({e.msg}, line {e.lineno})") from None


def is_free_form(name: str, row: dict) -> bool:
    if name == "mathvista":
        return row.get("question_type") == "free_form"
    return not row.get("options")


def image_path(name: str, row: dict, mirror_file: Path | None, images_dir: str | Path | None) -> Path:
    """Where a row's image is: MATH-V's beside its annotation file; MathVista's in the user's images_dir."""
    if name == "mathvista":
        if images_dir is None:
            raise VisualBenchmarkError("benchmarks.mathvista.images_dir: not set; MathVista's images are not in the "
                                       "mirror: point it at the dataset's images/ folder")
        return (Path(images_dir) / Path(row["image"]).name).resolve()
    return (mirror_file.parent / row["image"]).resolve()


def check_images(name: str, rows: list[dict], paths: list[Path]) -> None:
    """Every image exists and, where the annotation records it (MathVista), has the recorded size; the first
    that fails is named."""
    from PIL import Image

    for row, path in zip(rows, paths):
        pid = row.get("pid", row.get("id"))
        if not path.is_file():
            raise VisualBenchmarkError(f"benchmark {name!r}, problem {pid}: image {path} does not exist")
        meta = row.get("metadata") or {}
        want = (meta.get("img_width"), meta.get("img_height"))
        try:
            with Image.open(path) as im:
                size = im.size
        except OSError as e:
            raise VisualBenchmarkError(f"benchmark {name!r}, problem {pid}: image {path} cannot be read ({e})") from None
        if None not in want and tuple(size) != tuple(want):
            raise VisualBenchmarkError(f"benchmark {name!r}, problem {pid}: image {path} is {size[0]}x{size[1]}, the "
                                       f"annotation says {want[0]}x{want[1]}: not the dataset's image")


def select(name: str, rows: list[dict], options: dict, limit: int | None) -> list[dict]:
    kept = [r for r in rows if is_free_form(name, r)] if options["free_form_only"] else list(rows)
    if limit is not None:
        if limit > len(kept):
            raise VisualBenchmarkError(f"benchmarks.{name}.limit: {limit} is more than the {len(kept)} problems "
                                       f"selected (free_form_only: {options['free_form_only']})")
        kept = kept[:limit]
    return kept


def selected_images(name: str, mirror_dir: str | Path, options: dict, limit: int | None = None,
                    check: bool = True) -> list[Path]:
    """The images of the problems a mirror's run uses (checked: present and of the recorded size)."""
    path = Path(mirror_dir) / MIRROR_FILES[name]
    if not path.is_file():
        raise VisualBenchmarkError(f"benchmark {name!r}: mirror file {path} does not exist")
    kept = select(name, read_rows(name, path), options, limit)
    paths = [image_path(name, r, path, options["images_dir"]) for r in kept]
    if check:
        check_images(name, kept, paths)
    return paths


def _record(name: str, row: dict, options: dict, path: Path) -> dict:
    if name == "mathvista":
        field = options["question_field"]
        if field not in row:
            raise VisualBenchmarkError(f"benchmarks.mathvista.question_field: {field!r} is not a field of problem "
                                       f"{row['pid']} (fields: {sorted(row)})")
        question, pid, used = row[field], str(row["pid"]), ["pid", "answer", "image", field]
    else:
        question = strip_markers(row["question"]) if options["strip_image_markers"] else row["question"]
        pid, used = str(row["id"]), ["id", "question", "answer", "image", "solution"]
    rest = {k: v for k, v in row.items() if k not in used}
    return dict(problem_id=pid, question=question, reference=str(row["answer"]).strip(),
                solution=row.get("solution") or "", metadata=json.dumps(rest, default=str, sort_keys=True),
                image=str(path), image_sha256=sha256_file(path))


def images_digest(table: pd.DataFrame) -> str:
    """One digest of every (problem, image sha256) of the table: the images in the provenance."""
    payload = "".join(f"{p}:{h}\n" for p, h in zip(table["problem_id"], table["image_sha256"]))
    return hashlib.sha256(payload.encode()).hexdigest()


def load_visual(name: str, mirror_dir: str | Path | None, options: dict, limit: int | None = None,
                hub_revision: str | None = None, hub_images_dir: str | Path | None = None) -> tuple[pd.DataFrame, dict, int, str | list]:
    """(canonical table with images, provenance, rows in the source, source sha256) from the mirror or the hub.

    Hub: the rows' decoded images are written under `hub_images_dir` (then read like a mirror's).
    """
    from rlvr_eval.data.columns import CANONICAL_COLUMNS

    if mirror_dir is not None:
        path = Path(mirror_dir) / MIRROR_FILES[name]
        if not path.is_file():
            raise VisualBenchmarkError(f"benchmark {name!r}: mirror file {path} does not exist")
        rows = read_rows(name, path)
        source = {"kind": "mirror", "path": str(path), "sha256": sha256_file(path), "rows": len(rows)}
        kept = select(name, rows, options, limit)
        paths = [image_path(name, r, path, options["images_dir"]) for r in kept]
        if name == "mathvista":
            source["images_dir"] = str(Path(options["images_dir"]).resolve())
    else:
        rows, kept, paths, source = _from_hub(name, options, limit, hub_revision, hub_images_dir)
    check_images(name, kept, paths)
    table = pd.DataFrame.from_records([_record(name, r, options, p) for r, p in zip(kept, paths)],
                                      columns=CANONICAL_COLUMNS + VISUAL_COLUMNS)
    dupes = table["problem_id"][table["problem_id"].duplicated()].tolist()
    if dupes:
        raise VisualBenchmarkError(f"{source['path']}: duplicate problem ids {dupes[:5]}")
    provenance = {
        "benchmark": name, "source": source, "limit": limit, "problems": len(table),
        "visual": {**{k: options[k] for k in RECORDED_OPTIONS[name]}, "selected": len(kept), "images": len(table),
                   "images_sha256": images_digest(table)},
    }
    return table, provenance, len(rows), source["sha256"]


def _from_hub(name, options, limit, revision, images_dir):
    import datasets  # heavy; only needed for hub loading

    repo, config, split = HUB[name]
    ds = datasets.load_dataset(repo, config, split=split, revision=revision)
    ds = ds.cast_column("decoded_image", datasets.Image(decode=False))  # the published bytes, not re-encoded
    rows = [dict(r) for r in ds]
    kept = select(name, rows, options, limit)
    out = Path(images_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for r in kept:
        target = out / Path(r["image"]).name
        target.write_bytes(r["decoded_image"]["bytes"])
        paths.append(target.resolve())
    source = {"kind": "hub", "path": repo, "config": config, "split": split, "revision": revision,
              "fingerprint": ds._fingerprint, "rows": len(rows), "images_dir": str(out),
              "sha256": [sha256_file(f["filename"]) for f in ds.cache_files]}
    for r in kept:
        r.pop("decoded_image", None)
    return rows, kept, paths, source
