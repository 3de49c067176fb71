"""The visual pair in the paper grid, which models run which benchmarks, the placeholder RL model, and a bad
MathVista image stopping the plan."""

from __future__ import annotations

import json

import pytest
import yaml

from rlvr_eval.planning.config import validate_config
from rlvr_eval.planning.grid import Grid
from rlvr_eval.models.staging import stage_model
from workflow_helpers import REPO


@pytest.fixture(scope="module")
def grid():
    """The paper grid with the VL RL model enabled, as once `path:` or `hf_id:` names a real checkpoint."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    del config["models"]["qwen2.5-vl-7b-rl"]["enabled"]
    return Grid(validate_config(config))


def test_models_run_the_benchmarks_of_their_modality(grid):
    assert grid.benchmarks_of("qwen2.5-vl-7b-instruct") == ["mathvision", "mathvista"]
    assert "mathvision" not in grid.benchmarks_of("qwen2.5-7b") and "gsm8k" in grid.benchmarks_of("qwen2.5-7b")
    assert grid.models_on("mathvista") == ["qwen2.5-vl-7b-instruct", "qwen2.5-vl-7b-rl"]
    assert grid.pair_benchmarks("easyr1-vl-7b") == ["mathvision", "mathvista"]
    assert grid.grader("mathvista") == "mathvista" and grid.grader("mathvision") == "math_verify"
    assert grid.perplexity_files("easyr1-vl-7b") == [  # image-conditioned, on the visual benchmarks only
        f"results/analysis/perplexity/{b}/{s}/{r}.parquet" for b in ("mathvision", "mathvista")
        for s in ("qwen2.5-vl-7b-instruct", "qwen2.5-vl-7b-rl") for r in ("qwen2.5-vl-7b-instruct", "qwen2.5-vl-7b-rl")]
    assert grid.backend_options("qwen2.5-vl-7b-rl")["max_pixels"] == 2048 * 2048


def test_the_placeholder_rl_model_refuses_to_stage(grid, tmp_path):
    spec = grid.model("qwen2.5-vl-7b-rl")
    with pytest.raises(ValueError, match="is a placeholder .* set `path:` to your own checkpoint"):
        stage_model(spec, tmp_path / "model", "qwen2.5-vl-7b-rl")


def test_a_bad_mathvista_image_stops_the_plan(tmp_path, mirror):
    """`snakemake -n` refuses the config, naming the image, before any job (and before any output is deleted)."""
    from PIL import Image

    from workflow_helpers import MIRROR, copy_workflow, snakemake

    rows = [r for r in json.loads((mirror / "mathvista/testmini.json").read_text()).values()
            if r["question_type"] == "free_form"][:2]
    images = tmp_path / "images"
    images.mkdir()
    for r, grow in zip(rows, (0, 3)):  # the second image is 3 pixels too wide
        Image.new("RGB", (r["metadata"]["img_width"] + grow, r["metadata"]["img_height"])).save(images / f"{r['pid']}.jpg")
    config = {
        "benchmark_source": {"mirror_dir": str(MIRROR)},
        "models": {"vl": {"tiny": {"vision": True}, "role": "base", "prompt_template": "qwen25-vl-think",
                          "backend": "transformers"}},
        "pairs": [{"name": "p", "base": "vl", "rl": "vl"}],
        "benchmarks": {"mathvista": {"n": 1, "limit": 2, "grader": "mathvista", "images_dir": str(images)}},
        "sampling": {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": 4, "seed": 0, "backend": "transformers"},
    }
    workdir = copy_workflow(tmp_path / "wf", config)
    proc = snakemake(workdir, "-n", check=False)
    w, h = rows[1]["metadata"]["img_width"], rows[1]["metadata"]["img_height"]
    assert proc.returncode != 0
    assert (f"Config error: benchmark 'mathvista', problem {rows[1]['pid']}: image {images / (rows[1]['pid'] + '.jpg')} "
            f"is {w + 3}x{h}, the annotation says {w}x{h}") in proc.stderr + proc.stdout
    assert not (workdir / "results").exists()


def test_a_benchmark_of_the_other_modality_is_refused():
    from rlvr_eval.planning.config import ConfigError, validate_config

    config = {"models": {"m": {"tiny": {}, "role": "base", "prompt_template": "qwen-boxed",
                               "benchmarks": ["gsm8k", "mathvision"]}},
              "pairs": [{"name": "p", "base": "m", "rl": "m"}],
              "benchmarks": {"gsm8k": {"n": 1}, "mathvision": {"n": 1}},
              "sampling": {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": 4, "seed": 0}}
    with pytest.raises(ConfigError, match="models.m.benchmarks: 'mathvision' is a visual benchmark and the model's "
                                          "template 'qwen-boxed' takes no images"):
        validate_config(config)
    del config["models"]["m"]["benchmarks"]  # without a list: the benchmarks of its template's modality
    assert Grid(validate_config(config)).benchmarks_of("m") == ["gsm8k"]
