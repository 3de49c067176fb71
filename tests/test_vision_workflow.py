"""MATH-V free-form problems with their real images through two tiny Qwen2.5-VL models, end to end with the real
Snakemake (config/vision-demo.yaml): samples, verdicts, pass@k, tables, analyses and figures, as for math."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from rlvr_eval.io import read_parquet, read_parquet_metadata, sha256_file
from workflow_helpers import MIRROR, REPO, copy_workflow, snakemake

pytestmark = pytest.mark.slow
MODELS = ("tiny-vl-base", "tiny-vl-rl")


@pytest.fixture(scope="module")
def vision_run(tmp_path_factory):
    config = yaml.safe_load((REPO / "config" / "vision-demo.yaml").read_text())
    config["benchmark_source"]["mirror_dir"] = str(MIRROR)
    workdir = copy_workflow(tmp_path_factory.mktemp("vision"), config)
    snakemake(workdir)
    return workdir


def test_samples_carry_images_and_pixel_limits(vision_run):
    problems = read_parquet(vision_run / "results/data/mathvision.parquet")
    assert problems["problem_id"].tolist() == ["4", "5", "7", "8", "10", "11"]  # the first six free-form problems
    assert all(sha256_file(p) == h for p, h in zip(problems["image"], problems["image_sha256"]))
    for model in MODELS:
        shard = vision_run / f"results/samples/{model}/mathvision/shard-0001.parquet"
        samples, meta = read_parquet(shard), read_parquet_metadata(shard)
        assert len(samples) == 6 * 4 and set(samples["finish_reason"]) <= {"stop", "length"}
        assert meta["images"] == problems["image_sha256"].tolist()
        assert (meta["backend"]["backend"], meta["backend"]["min_pixels"], meta["backend"]["max_pixels"]) == (
            "transformers-vl", 4 * 28 * 28, 16 * 28 * 28)
        assert meta["template"] == "qwen25-vl-think"


def test_verdicts_passk_and_figures(vision_run):
    for model in MODELS:
        verdicts = pd.concat(read_parquet(vision_run / f"results/verdicts/{model}/mathvision/math_verify/shard-{s}.parquet")
                             for s in ("0000", "0001"))
        assert len(verdicts) == 6 * 8 and set(verdicts["reference"]) == {"6", "61", "2", "10", "7"}
        assert set(verdicts["status"]) <= {"correct", "wrong", "no_answer"}
        assert verdicts["correct"].any()  # trained to box answers: math-verify reads them off the real responses
    table = pd.read_csv(vision_run / "results/tables/passk/mathvision.csv")
    assert list(table.columns) == ["k", *MODELS] and table["k"].tolist() == [1, 2, 4, 8]
    assert all(table[m].is_monotonic_increasing for m in MODELS)
    assert (vision_run / "results/figures/passk_curves.png").stat().st_size > 10_000
    for name in ("passk_grid", "accuracy_hist", "coverage", "perplexity"):
        assert (vision_run / f"results/figures/tiny-vl/{name}.png").stat().st_size > 5_000
    for scorer in MODELS:  # image-conditioned perplexity of each model on each model's responses
        for responder in MODELS:
            ppl = read_parquet(vision_run / f"results/analysis/perplexity/mathvision/{scorer}/{responder}.parquet")
            assert len(ppl) == 6 * 2 and (ppl["status"] == "scored").all() and (ppl["perplexity"] >= 1).all()
    coverage = json.loads((vision_run / "results/analysis/coverage/tiny-vl/mathvision.json").read_text())
    print(table.to_string(index=False), json.dumps(coverage)[:400])


def test_data_provenance_hashes_every_image(vision_run):
    record = json.loads((vision_run / "results/data/mathvision.parquet.prov.json").read_text())
    images = sorted(p for p in record["inputs"] if p.endswith(".jpg"))
    assert [Path(p).name for p in images] == sorted(f"{i}.jpg" for i in (4, 5, 7, 8, 10, 11))
    assert all(record["inputs"][p]["sha256"] == sha256_file(p) for p in images)
    audit = subprocess.run([str(Path(sys.executable).with_name("rlvr-eval")), "audit"], cwd=vision_run,
                           capture_output=True, text=True, timeout=600)
    assert audit.returncode == 0, audit.stdout + audit.stderr
