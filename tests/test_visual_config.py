"""The visual pair in the paper grid: which models run which benchmarks, and the placeholder RL model."""

from __future__ import annotations

import pytest

from rlvr_eval.config import load_config
from rlvr_eval.grid import Grid
from rlvr_eval.staging import stage_model
from workflow_helpers import REPO


@pytest.fixture(scope="module")
def grid():
    return Grid(load_config(REPO / "config.yaml"))


def test_models_run_the_benchmarks_of_their_modality(grid):
    assert grid.benchmarks_of("qwen2.5-vl-7b-instruct") == ["mathvision", "mathvista"]
    assert "mathvision" not in grid.benchmarks_of("qwen2.5-7b") and "gsm8k" in grid.benchmarks_of("qwen2.5-7b")
    assert grid.models_on("mathvista") == ["qwen2.5-vl-7b-instruct", "qwen2.5-vl-7b-rl"]
    assert grid.pair_benchmarks("easyr1-vl-7b") == ["mathvision", "mathvista"]
    assert grid.grader("mathvista") == "mathvista" and grid.grader("mathvision") == "math_verify"
    assert grid.perplexity_files("easyr1-vl-7b") == []  # not image-conditioned yet
    assert grid.backend_options("qwen2.5-vl-7b-rl")["max_pixels"] == 2048 * 2048


def test_the_placeholder_rl_model_refuses_to_stage(grid, tmp_path):
    spec = grid.model("qwen2.5-vl-7b-rl")
    with pytest.raises(ValueError, match="is a placeholder .* set `path:` to your own checkpoint"):
        stage_model(spec, tmp_path / "model", "qwen2.5-vl-7b-rl")
