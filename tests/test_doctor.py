"""`rlvr-eval doctor` (rlvr_eval.planning.doctor): before anything is submitted, each thing that would stop the run
is one line naming the setting and its fix. The cluster checks read the real local SLURM cluster (../shared/slurm:
partition debug with two GPUs on its node, account root); they skip when it cannot run here."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from rlvr_eval.planning.config import validate_config
from rlvr_eval.planning.doctor import diagnose
from rlvr_eval.planning.profile import load_profile
from test_slurm import slurm_cluster  # noqa: F401  (a fixture: the local cluster, started if it can be, else a skip)
from workflow_helpers import MIRROR, REPO, demo_config

VLLM_MISSING = importlib.util.find_spec("vllm") is None


def hub_config(**model) -> dict:
    """One 7B hub model (Qwen2.5-7B's shape, resources.model_shapes.7B) on AIME24, on 80 GiB GPUs."""
    spec = {"hf_id": "Qwen/Qwen2.5-7B", "revision": "a" * 40, "role": "base", "prompt_template": "qwen-boxed",
            "backend": "transformers", "max_model_len": 20480, **model}
    return validate_config({
        "benchmark_source": {"mirror_dir": str(MIRROR)},
        "models": {"m": spec}, "pairs": [{"name": "p", "base": "m", "rl": "m"}],
        "benchmarks": {"aime24": {"n": 64}},
        "sampling": {"temperature": 0.6, "top_p": 0.95, "max_new_tokens": 16384, "seed": 0, "fit_shard_size": True},
        "resources": {"sampling": {"runtime": "estimate", "gpu_mem_gb": 80}},
    })


def write_profile(path: Path, **site) -> Path:
    """The repository's profile with this site's settings (default-resources; `set-resources` as given)."""
    profile = yaml.safe_load((REPO / "slurm" / "config.yaml").read_text())
    profile["default-resources"].update(site.pop("default", {}))
    profile.update(site)
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return path / "config.yaml"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working directory (nothing staged) and a logged-in hub user."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    return tmp_path


@pytest.fixture
def short_partition(slurm_cluster):  # noqa: F811
    """A partition of the local node with a one-hour MaxTime, for this test only."""
    name = f"doctor{os.getpid()}"
    made = subprocess.run(["scontrol", "create", f"PartitionName={name}", "Nodes=localhost", "MaxTime=60", "State=UP"],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot create a SLURM partition here: {made.stderr.strip()}")
    yield name
    subprocess.run(["scontrol", "delete", f"PartitionName={name}"], capture_output=True)


def test_a_sane_tiny_config_passes_in_seconds(slurm_cluster, tmp_path):  # noqa: F811
    config = tmp_path / "demo.yaml"
    config.write_text(yaml.safe_dump(demo_config()))
    profile = write_profile(tmp_path / "slurm", default={"slurm_account": "root", "slurm_partition": "debug"})
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "rlvr_eval.cli", "doctor", "--configfile", str(config),
                           "--profile", str(profile), "-d", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr
    assert "doctor: 0 problem(s)" in proc.stderr
    assert time.monotonic() - started < 30  # measured: about 2 s, most of it importing the package


def test_an_account_that_is_not_yours(slurm_cluster, workdir):  # noqa: F811
    profile = load_profile(write_profile(workdir / "slurm", default={"slurm_account": "no-such-account"}))
    report = diagnose(hub_config(), profile)
    assert report.problems == [f"default-resources.slurm_account: account 'no-such-account' is not one of root's "
                               f"(root): set one of them in {profile.path}"]


def test_a_runtime_over_the_partitions_maxtime(short_partition, workdir):
    """AIME24's 30 problems x 64 samples at 1,500 tokens/s: a 210-minute job, on a partition of at most 60."""
    profile = load_profile(write_profile(workdir / "slurm", **{"set-resources": {"sample": {
        "slurm_partition": short_partition}}}))
    report = diagnose(hub_config(), profile)
    assert report.problems == [f"resources.sampling.max_runtime: sample jobs ask for up to 210 min (m), partition "
                               f"'{short_partition}' allows 60 (MaxTime 1:00:00): set it to 60 or less "
                               f"(fit_shard_size then makes shards smaller)"]
    fixed = hub_config()
    fixed["resources"]["sampling"]["max_runtime"] = 60  # the fix: shards of 16 samples (59 min) instead of 64
    assert diagnose(fixed, profile).problems == []


def test_more_gpus_than_a_node_has(slurm_cluster, workdir):  # noqa: F811
    profile = load_profile(write_profile(workdir / "slurm"))
    report = diagnose(hub_config(tensor_parallel_size=4), profile)
    assert report.problems == ["models.m.tensor_parallel_size: m's jobs need 4 GPUs on one node, partition 'debug' "
                               "has at most 2 per node: set 2 or fewer (a smaller max_model_len may then be needed), "
                               "or a partition with larger nodes"]


def test_gpu_memory_too_small_for_a_models_context(workdir):
    """A 7B model at its own 131,072-token context on a 24 GiB GPU: 14.2 GiB of weights and 7.0 GiB of KV cache."""
    config = hub_config(max_model_len=131072)
    config["resources"]["sampling"]["gpu_mem_gb"] = 24
    assert diagnose(config, None).problems == [
        "models.m.max_model_len: 131072 tokens need 14.2 GiB weights + 7.0 GiB KV cache (57344 B/token = 2 x 28 "
        "layers x 4 KV heads x 128 x 2 B; resources.model_shapes.7B) + 2 GiB overhead = 23.2 GiB > 1 GPU x 24 GiB x "
        "0.9 = 21.6 GiB: set it to at most 101237 (samples need 16384 new tokens + the prompt)"]
    config["models"]["m"]["max_model_len"] = 20480  # what the samples need
    assert diagnose(config, None).problems == []


def test_a_staged_model_is_measured_by_its_own_config(workdir):
    """Qwen2.5-7B-Instruct-1M staged, without max_model_len: vLLM would reserve its own 1,010,000-token context,
    a 54 GiB KV cache beside 14 GiB of weights, on a 40 GiB GPU."""
    weights = workdir / "resources" / "models" / "m"
    weights.mkdir(parents=True)
    (weights / "config.json").write_text(json.dumps({
        "num_hidden_layers": 28, "num_attention_heads": 28, "num_key_value_heads": 4, "hidden_size": 3584,
        "max_position_embeddings": 1010000, "torch_dtype": "bfloat16"}))
    with open(weights / "model.safetensors", "wb") as f:  # sparse: 15.2 GB of weights that take no disk
        f.truncate(15_231_233_024)
    (workdir / "results" / "models").mkdir(parents=True)
    (workdir / "results" / "models" / "m.json").write_text(json.dumps({"path": str(weights)}))
    config = hub_config(hf_id="Qwen/Qwen2.5-7B-Instruct-1M")
    del config["models"]["m"]["max_model_len"]
    config["resources"]["sampling"]["gpu_mem_gb"] = 40
    (line,) = diagnose(config, None).problems
    assert line == ("models.m.max_model_len: 1010000 tokens (the model's own context) need 14.2 GiB weights + "
                           "53.9 GiB KV cache (57344 B/token = 2 x 28 layers x 4 KV heads x 128 x 2 B; "
                           f"{weights}/config.json) + 2 GiB overhead = 70.1 GiB > 1 GPU x 40 GiB x 0.9 = 36.0 GiB: set it to at most "
                           "371023 (samples need 16384 new tokens + the prompt)")


def test_a_gated_model_needs_a_token(workdir, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.delenv("HF_TOKEN_PATH", raising=False)
    monkeypatch.setenv("HF_HOME", str(workdir / "hf"))
    config = hub_config(hf_id="meta-llama/Llama-3.1-8B")
    (line,) = diagnose(config, None).problems
    assert line == ("models.m.hf_id: meta-llama/Llama-3.1-8B is gated and no HF token is set (HF_TOKEN, or "
                    "huggingface_hub's token file): accept its licence on the hub, then run `hf auth login` here, "
                    "where staging downloads")
    (workdir / "hf").mkdir()
    (workdir / "hf" / "token").write_text("hf_saved_by_login\n")  # what `hf auth login` writes
    assert diagnose(config, None).problems == []
    other = hub_config(hf_id="example/Private-7B", gated=True)
    (workdir / "hf" / "token").unlink()
    assert [line.split(":")[0] for line in diagnose(other, None).problems] == ["models.m.hf_id"]


def test_a_missing_or_different_benchmark_mirror(workdir):
    config = hub_config()
    config["benchmark_source"]["mirror_dir"] = "no-mirror-here"
    assert diagnose(config, None).problems == [
        f"benchmark_source.mirror_dir: no-mirror-here does not exist (from {workdir}): copy the paper's benchmark files "
        f"there (<benchmark>/test.jsonl ...), or set it to null to read the hub at pinned benchmark_source.hub_revisions"]
    (workdir / "mirror" / "aime24").mkdir(parents=True)
    config["benchmark_source"]["mirror_dir"] = "mirror"
    assert diagnose(config, None).problems[0].startswith("benchmark_source.mirror_dir: mirror/aime24/test.jsonl is "
                                                         "missing: copy it there (QwenLM/Qwen2.5-Math@a45202bd")
    lines = (MIRROR / "aime24" / "test.jsonl").read_text().splitlines(keepends=True)
    (workdir / "mirror" / "aime24" / "test.jsonl").write_text("".join(lines[:-1]))  # one problem short
    (line,) = diagnose(config, None).problems
    assert "is not the paper's file" in line and line.endswith("replace it, or set benchmark_source.check_known_files: false")


def test_too_little_disk_for_the_weights_to_stage(workdir):
    config = hub_config(hf_id="example/Giant-100000B")  # 100,000 B parameters: 200 TB in bfloat16
    config["resources"]["sampling"]["gpu_mem_gb"] = None  # not what this test is about
    (line,) = diagnose(config, None).problems
    free = shutil.disk_usage(workdir).free / 1e9
    assert line == (f"resources/models: the 1 hub models to stage need about 200000 GB (parameters x 2 bytes), "
                    f"{workdir} has {free:.0f} GB free: free space, or make resources/models a link to a larger "
                    f"filesystem")


def test_a_shard_estimated_over_its_runtime(workdir):
    config = hub_config()
    config["benchmarks"] = {"gsm8k": {"n": 128}}
    config["sampling"]["fit_shard_size"] = False
    (line,) = diagnose(config, None).problems
    assert line == ("sampling.shard_size: m on gsm8k: a shard of 64 samples per problem is estimated at 1319 problems "
                    "x 64 samples x 16384 tokens x 0.5 / 1500 tokens/s + 15 min = 128.3 h, over its job's 1440 min: "
                    "set sampling.fit_shard_size: true (shards shrink until they fit)")


def test_vllm_must_be_importable_by_the_jobs_python(workdir):
    report = diagnose(hub_config(backend="vllm"), None)
    expected = [f"models.m.backend: 1 model(s) sample with vllm, which {sys.executable} (the Python snakemake and its "
                f"jobs run) cannot import: run `make install-cluster`"]
    assert report.problems == (expected if VLLM_MISSING else [])


def test_the_paper_grid_has_no_problem_the_cluster_does_not_decide(workdir, monkeypatch):
    """config.yaml as shipped, with its benchmark mirror and a token: only vLLM (absent from the test virtualenv)
    and the disk of this machine may stand in its way."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["benchmark_source"]["mirror_dir"] = str(MIRROR)
    problems = diagnose(validate_config(copy.deepcopy(config)), None).problems
    assert [p for p in problems if not p.startswith(("sampling.backend:", "resources/models:"))] == []
