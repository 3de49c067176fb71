"""Where each file of the benchmark mirror comes from, and how to rebuild the mirror from there (`rlvr-eval data`).

The workflow reads benchmarks from a local mirror (`benchmark_source.mirror_dir`, laid out as
`<benchmark>/<file>`): compute nodes often have no internet, and a mirror pins every byte. This module fetches
each file from its public source at a pinned commit or release, checks its sha256 against the paper's file
(rlvr_eval.data.benchmarks.KNOWN_SOURCES and the evalplus releases), and writes it atomically into the mirror. A
file already there with the right hash is kept; a download with another hash is refused and nothing is written.

Not covered: LiveCodeBench (the mirror's file joins rllm's public tests with LiveCodeBench's metadata; with
network access the workflow reads it from the hub instead, `benchmark_source.hub_benchmarks`), MathVista's images
(the dataset's own images/ folder, `benchmarks.mathvista.images_dir`) and MATH-V's images unless asked for
(`images=True`: the 304 images testmini names, from the same commit, checked against nothing but their count).
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from rlvr_eval.data.benchmarks import KNOWN_SOURCES, BenchmarkError
from rlvr_eval.io import atomic_path, sha256_file

RAW = "https://raw.githubusercontent.com"
RELEASES = "https://github.com"
URL_MAP_ENV = "RLVR_EVAL_MIRROR_URL_MAP"  # "FROM=TO,FROM=TO": fetch from another host (a local copy, a proxy)

QWEN_MATH = ("QwenLM/Qwen2.5-Math", "a45202bd16f1ec06f433442dc1152d0074773465")
MATH_V = ("mathllm/MATH-V", "a1f5cc3add200c0cd080fad463e500f44ef1fb41")


@dataclass(frozen=True)
class MirrorFile:
    benchmark: str
    path: str  # in the mirror
    url: str
    sha256: str


def _raw(repo_commit: tuple[str, str], path: str) -> str:
    return f"{RAW}/{repo_commit[0]}/{repo_commit[1]}/{path}"


MIRROR_FILES = [
    MirrorFile("gsm8k", "gsm8k/test.jsonl",
               _raw(("openai/grade-school-math", "3101c7d5072418e28b9008a6636bde82a006892c"),
                    "grade_school_math/data/test.jsonl"), KNOWN_SOURCES["gsm8k"].sha256),
    MirrorFile("math500", "math500/test.jsonl",
               _raw(("hkust-nlp/simpleRL-reason", "cf1c7858bfc145a27aa733e75d930d34f0d318a6"),
                    "examples/simplelr_math_eval/data/math500/test.jsonl"), KNOWN_SOURCES["math500"].sha256),
    *[MirrorFile(b, f"{b}/test.jsonl", _raw(QWEN_MATH, f"evaluation/data/{b}/test.jsonl"), KNOWN_SOURCES[b].sha256)
      for b in ("minerva_math", "olympiadbench", "aime24", "amc23")],
    MirrorFile("humaneval", "humaneval/HumanEval.jsonl.gz",
               _raw(("openai/human-eval", "6d43fb980f9fee3c892a914eda09951f772ad10d"), "data/HumanEval.jsonl.gz"),
               "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef"),
    MirrorFile("humanevalplus", "humanevalplus/HumanEvalPlus-v0.1.10.jsonl.gz",
               f"{RELEASES}/evalplus/humanevalplus_release/releases/download/v0.1.10/HumanEvalPlus-v0.1.10.jsonl.gz",
               "272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101"),
    MirrorFile("mbppplus", "mbppplus/MbppPlus-v0.2.0.jsonl.gz",
               f"{RELEASES}/evalplus/mbppplus_release/releases/download/v0.2.0/MbppPlus-v0.2.0.jsonl.gz",
               "af43697e8791c4c149bdfd6b489d8b5412507551ac20e28a439f650b8225db63"),
    MirrorFile("mathvision", "mathvision/testmini.jsonl", _raw(MATH_V, "data/testmini.jsonl"),
               KNOWN_SOURCES["mathvision"].sha256),
    # Omni-MATH-Rule, both splits of the paper's VeRL runs in one file (rlvr_eval.data.omni_math.omni_math_split).
    MirrorFile("omni_math_rule", "omni_math_rule/omni_math_rule.jsonl",
               _raw(("KbsdJames/omni-math-rule", "4793415ef37d31c9cdb4e5b82dbe172f76f8cf08"), "omni_math_rule.jsonl"),
               KNOWN_SOURCES["omni_math_test"].sha256),
    MirrorFile("mathvista", "mathvista/testmini.json",
               _raw(("lupantech/MathVista", "53d525874bdde205128e6b160b7357a88277d479"), "data/testmini.json"),
               KNOWN_SOURCES["mathvista"].sha256),
]


def _mapped(url: str) -> str:
    """The URL after RLVR_EVAL_MIRROR_URL_MAP's first matching prefix rewrite."""
    for rule in filter(None, os.environ.get(URL_MAP_ENV, "").split(",")):
        source, _, target = rule.partition("=")
        if url.startswith(source):
            return target + url[len(source):]
    return url


def _download(url: str, dest: Path, sha256: str | None) -> None:
    """url -> dest, written (atomically) only if its sha256 is the expected one (None: any)."""
    actual_url = _mapped(url)
    with atomic_path(dest) as tmp, open(tmp, "wb") as out, urllib.request.urlopen(actual_url, timeout=60) as response:
        digest = hashlib.sha256()
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
        if sha256 is not None and digest.hexdigest() != sha256:
            raise BenchmarkError(f"{actual_url}: sha256 {digest.hexdigest()}, expected {sha256} (the paper's file); "
                                 f"{dest} was not written")


# Benchmarks read from another benchmark's file: their name on the command line fetches that file.
FILE_OF = {"omni_math_train": "omni_math_rule", "omni_math_test": "omni_math_rule"}


def fetch_mirror(mirror_dir: str | Path, benchmarks: list[str] | None = None, images: bool = False,
                 log=print) -> dict[str, str]:
    """Fill `mirror_dir` with the benchmarks' files ({mirror path: "kept" | "fetched"}); every benchmark by default."""
    mirror_dir = Path(mirror_dir)
    benchmarks = [FILE_OF.get(b, b) for b in benchmarks] if benchmarks else benchmarks
    known = sorted({f.benchmark for f in MIRROR_FILES} | set(FILE_OF))
    unknown = sorted(set(benchmarks or []) - set(known))
    if unknown:
        raise BenchmarkError(f"no public source known for {', '.join(unknown)} (known: {', '.join(known)})")
    done = {}
    for f in MIRROR_FILES:
        if benchmarks and f.benchmark not in benchmarks:
            continue
        dest = mirror_dir / f.path
        if dest.is_file() and sha256_file(dest) == f.sha256:
            done[f.path] = "kept"
        else:
            _download(f.url, dest, f.sha256)
            done[f.path] = "fetched"
        log(f"{done[f.path]:8s} {f.path}  ({f.url})")
    if images and (not benchmarks or "mathvision" in benchmarks):
        rows = [json.loads(line) for line in (mirror_dir / "mathvision/testmini.jsonl").read_text().splitlines() if line]
        for row in rows:
            dest = mirror_dir / "mathvision" / row["image"]
            if not dest.is_file():
                _download(_raw(MATH_V, row["image"]), dest, None)
        log(f"images   mathvision/images: {len(rows)} ({_raw(MATH_V, 'images/')})")
    return done

