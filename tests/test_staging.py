"""Model staging: `path:` models are registered as they are, hub models are resolved to a commit and downloaded."""

from __future__ import annotations

import json
import shutil
import types

import pytest

from rlvr_eval.models import staging
from rlvr_eval.models.staging import download_patterns, is_pinned, revision_warning, stage_model
from workflow_helpers import copy_workflow, demo_config, snakemake

COMMIT = "d149729398750b98c0af14eb82c78cfe92750796"


@pytest.fixture
def no_hub(monkeypatch):
    """Any hub access fails the test."""
    import huggingface_hub

    def refuse(*args, **kwargs):
        raise AssertionError("the hub was contacted")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", refuse)
    monkeypatch.setattr(huggingface_hub, "HfApi", refuse)


def test_a_path_model_is_registered_without_downloading(tiny_model_dir, tmp_path, no_hub):
    manifest = stage_model({"path": str(tiny_model_dir), "role": "base", "prompt_template": "qwen-boxed"},
                           tmp_path / "unused", name="local")
    assert manifest["path"] == str(tiny_model_dir) and manifest["source"] == "path"
    assert manifest["revision"] is None and manifest["warning"] is None
    assert set(manifest["files"]) >= {"config.json", "tokenizer.json"}
    assert not (tmp_path / "unused").exists()


def test_a_path_without_a_model_is_refused(tiny_model_dir, tmp_path, no_hub):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        stage_model({"path": str(tmp_path)}, tmp_path / "x", name="empty")
    partial = tmp_path / "config-only"
    partial.mkdir()
    shutil.copy(tiny_model_dir / "config.json", partial)
    with pytest.raises(FileNotFoundError, match="model broken: .* has no weights"):
        stage_model({"path": str(partial)}, tmp_path / "x", name="broken")


def test_only_commit_hashes_count_as_pinned():
    assert is_pinned(COMMIT)
    for revision in (None, "", "main", "v1.0", COMMIT[:7], COMMIT.upper()):
        assert not is_pinned(revision)
    assert revision_warning("qwen2.5-7b", "Qwen/Qwen2.5-7B", COMMIT) is None
    unpinned = revision_warning("qwen2.5-math-7b", "Qwen/Qwen2.5-Math-7B", None)
    assert "qwen2.5-math-7b (Qwen/Qwen2.5-Math-7B): no revision pinned" in unpinned
    assert "models.qwen2.5-math-7b.revision" in unpinned
    branch = revision_warning("m", "org/m", "main")
    assert "revision 'main' (a branch or tag, not a commit hash)" in branch


def test_download_takes_one_copy_of_the_weights():
    both = download_patterns(["config.json", "model-00001-of-00002.safetensors", "pytorch_model.bin"])
    assert "*.safetensors" in both and "*.bin" not in both
    legacy = download_patterns(["config.json", "pytorch_model.bin"])
    assert "*.bin" in legacy


def test_an_unpinned_hub_model_is_downloaded_at_its_resolved_commit(tiny_model_dir, tmp_path, monkeypatch, caplog):
    """The hub calls against stand-ins: resolve the head once, download exactly that commit, record it."""
    import huggingface_hub

    calls = []

    class FakeApi:
        def model_info(self, repo_id, revision=None):
            calls.append(("model_info", repo_id, revision))
            return types.SimpleNamespace(sha=COMMIT, siblings=[types.SimpleNamespace(rfilename=f)
                                                               for f in ("config.json", "model.safetensors")])

    def fake_download(repo_id, revision=None, local_dir=None, allow_patterns=None):
        calls.append(("snapshot_download", repo_id, revision, allow_patterns))
        shutil.copytree(tiny_model_dir, local_dir, dirs_exist_ok=True)
        return local_dir

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    with caplog.at_level("WARNING", logger=staging.__name__):
        manifest = stage_model({"hf_id": "Qwen/Qwen2.5-Math-7B", "revision": None}, tmp_path / "m", name="math")
    assert calls[0] == ("model_info", "Qwen/Qwen2.5-Math-7B", None)
    assert calls[1][:3] == ("snapshot_download", "Qwen/Qwen2.5-Math-7B", COMMIT)
    assert "*.bin" not in calls[1][3]
    assert manifest["revision"] == COMMIT and manifest["requested_revision"] is None
    assert manifest["path"] == str(tmp_path / "m") and manifest["source"] == "hub"
    assert "no revision pinned" in manifest["warning"] and "no revision pinned" in caplog.text


def test_stage_model_rule_registers_a_path_model(tiny_model_dir, tmp_path):
    config = demo_config()
    config["models"]["local-copy"] = {"path": str(tiny_model_dir), "role": "base", "prompt_template": "qwen-boxed",
                                      "backend": "transformers"}
    workdir = copy_workflow(tmp_path / "wf", config)
    snakemake(workdir, "results/models/local-copy.json")
    manifest = json.loads((workdir / "results/models/local-copy.json").read_text())
    assert manifest["path"] == str(tiny_model_dir) and manifest["source"] == "path"
    assert not (workdir / "resources").exists()  # nothing downloaded
