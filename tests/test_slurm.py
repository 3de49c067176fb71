"""The demo DAG on a real SLURM cluster (../shared/slurm: one node, two fake GPUs, sacct accounting).

Runs `snakemake --profile slurm --configfile config/demo.yaml` in a scratch copy of the workflow, with
the repository's profile adapted to the local cluster (account root, partition debug, fast polling),
then checks every final output and that every job the run submitted is COMPLETED in sacct, sampling
jobs with a GPU allocated. CI starts the cluster (.ci/run); elsewhere the test starts it when it can.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from workflow_helpers import REPO, SHARED, copy_workflow, demo_config, snakemake

START_SCRIPT = SHARED / "slurm" / "start-slurm.sh"


def _slurm_ready() -> bool:
    if not (shutil.which("sbatch") and shutil.which("sacct") and shutil.which("sinfo")):
        return False
    try:
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=15)
        acct = subprocess.run(["sacct", "-X", "-n", "-P", "-o", "JobID", "-S", "now"], capture_output=True,
                              text=True, timeout=15)
    except (subprocess.TimeoutExpired, OSError):
        return False
    return "is UP" in ping.stdout and acct.returncode == 0


@pytest.fixture(scope="module")
def slurm_cluster():
    if _slurm_ready():
        return
    if os.geteuid() != 0 or not START_SCRIPT.is_file():
        pytest.skip(f"no SLURM cluster answers here, and it cannot be started ({START_SCRIPT} needs root)")
    proc = subprocess.run(["bash", str(START_SCRIPT), "start"], capture_output=True, text=True, timeout=900)
    if proc.returncode != 0 or not _slurm_ready():
        pytest.fail(f"could not start the local SLURM cluster:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


# --- resources (no cluster needed) ----------------------------------------------------------
def test_sampling_jobs_ask_for_the_models_tensor_parallel_gpus():
    from rlvr_eval.planning.config import load_config
    from rlvr_eval.planning.resources import JobResources

    paper = JobResources(load_config(REPO / "config.yaml"))
    assert paper.sampling("qwen2.5-7b") == {"gpu": 1, "cpus_per_gpu": 8, "mem_mb": 64000, "runtime": 1440, "nodes": 1}
    # runtime: estimate, so a model's jobs ask for at most max_runtime (each shard: its estimate, planning.shard_time)
    assert paper.sampling("dapo-qwen-32b") == {"gpu": 2, "cpus_per_gpu": 8, "mem_mb": 128000, "runtime": 1440, "nodes": 1}
    assert paper.perplexity("dapo-qwen-32b") == {**paper.sampling("dapo-qwen-32b"), "runtime": 120}
    assert paper.cpu("verify") == {"mem_mb": 8000, "runtime": 240}
    demo = JobResources(load_config(REPO / "config" / "demo.yaml"))
    assert demo.sampling("tiny-base")["gpu"] == 1 and demo.sampling("tiny-base")["mem_mb"] == 2000


def test_a_listed_checkpoint_asks_for_what_its_series_model_asks_for():
    import yaml

    from rlvr_eval.planning.config import validate_config
    from rlvr_eval.planning.resources import JobResources

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["models"]["dapo-qwen-32b"]["checkpoints"] = [{"step": 100, "revision": "a" * 40}]
    config["resources"]["sampling"]["models"]["dapo-qwen-32b"] = {"expected_length": 0.9}
    paper = JobResources(validate_config(config))
    assert paper.setting("dapo-qwen-32b-step100", "expected_length") == 0.9
    assert paper.sampling("dapo-qwen-32b-step100") == paper.sampling("dapo-qwen-32b") == {
        "gpu": 2, "cpus_per_gpu": 8, "mem_mb": 128000, "runtime": 1440, "nodes": 1}


def test_resource_settings_are_checked():
    from rlvr_eval.planning.resources import JobResources, ResourceConfigError

    models = {"m": {"tensor_parallel_size": 4}}
    assert JobResources({"models": models}).sampling("m")["gpu"] == 4
    cpu_only = JobResources({"models": {"m": {"backend": "transformers"}},
                             "resources": {"sampling": {"gpus_per_job": 0, "mem_mb": 3000}}})
    assert cpu_only.sampling("m")["gpu"] == 0 and cpu_only.sampling("m")["mem_mb"] == 3000
    for bad, message in [({"sampling": {"gpus": 1}}, "unknown key 'gpus' in resources.sampling"),
                         ({"verify": {"runtime": -1}}, "resources.verify.runtime: expected a non-negative integer"),
                         ({"sampling": {"models": {"x": {"runtime": 1}}}}, "resources.sampling.models.x: not a model"),
                         ({"tables": {}}, "unknown key 'tables' in resources"),
                         ({"sampling": {"gpus_per_job": 2}}, "model m runs vLLM with tensor_parallel_size 4")]:
        with pytest.raises(ResourceConfigError, match=re.escape(message)):
            JobResources({"models": models, "resources": bad})


def test_rules_declare_the_resources(tmp_path):
    workdir = copy_workflow(tmp_path, demo_config())
    proc = snakemake(workdir, "--dry-run", "results/samples/tiny-rl/gsm8k/shard-0001.parquet")
    resources = dict(re.findall(r"rule (\w+):.*?resources: ([^\n]+)", proc.stdout + proc.stderr, flags=re.S))
    assert "gpu=1" in resources["sample"] and "cpus_per_gpu=1" in resources["sample"]
    assert "mem_mb=2000" in resources["sample"] and "runtime=30" in resources["sample"]
    assert "gpu" not in resources["build_tiny_model"] and "mem_mb=2000" in resources["build_tiny_model"]


def test_paper_grid_jobs_ask_for_their_own_models_resources(tmp_path):
    """The paper's models differ (the 32B ones: two GPUs) and so do their shards' estimated runtimes, so each job
    looks its model x benchmark up; the demo's models all get the same, which the rules pass as plain values
    (planning speed)."""
    workdir = copy_workflow(tmp_path)
    targets = ["results/samples/dapo-qwen-32b/aime24/shard-0000.parquet",
               "results/samples/qwen2.5-7b/aime24/shard-0000.parquet"]
    proc = snakemake(workdir, "--dry-run", *targets, configfile="config.yaml")
    jobs = re.findall(r"rule sample:.*?output: (\S+).*?resources: ([^\n]+)", proc.stdout + proc.stderr, flags=re.S)
    resources = {out.split("/")[2]: res for out, res in jobs}
    assert "gpu=2" in resources["dapo-qwen-32b"] and "mem_mb=128000" in resources["dapo-qwen-32b"]
    # 30 problems x 64 samples x 16384 tokens x 0.5 at 500 tokens/s (32B) or 1500 (7B), + 15 min, in half hours
    assert "runtime=540" in resources["dapo-qwen-32b"] and "nodes=1" in resources["dapo-qwen-32b"]
    assert "gpu=1" in resources["qwen2.5-7b"] and "mem_mb=64000" in resources["qwen2.5-7b"]
    assert "runtime=210" in resources["qwen2.5-7b"] and "cpus_per_gpu=8" in resources["qwen2.5-7b"]


def test_every_gpu_rule_is_routed_by_the_profiles_gpu_partition_template(tmp_path):
    """The profile's (commented) set-resources block must name every rule whose jobs ask for a GPU, else a site
    that uncomments it sends the others to the CPU partition; GPU jobs stay on one node."""
    text = (REPO / "slurm" / "config.yaml").read_text()
    block = text[text.index("# set-resources:"):]
    template = yaml.safe_load("\n".join(line[2:] for line in block.splitlines() if line.startswith("# ")))
    config = demo_config()
    config["analysis"]["entropy"] = {"pairs": ["tiny-zero"]}  # (config.yaml measures entropy; the demo does not)
    config["sampling"]["shards_per_job"] = 2  # two shards per job, and HumanEval+'s third shard alone
    config["benchmarks"]["humanevalplus"]["n"] = 12
    workdir = copy_workflow(tmp_path, config)
    proc = snakemake(workdir, "--dry-run", "--forceall")
    resources = re.findall(r"rule (\w+):.*?resources: ([^\n]+)", proc.stdout + proc.stderr, flags=re.S)
    gpu_rules = {rule for rule, res in resources if "gpu=" in res}
    assert gpu_rules == {"sample", "sample_group", "perplexity", "entropy"}
    assert set(template["set-resources"]) == gpu_rules
    assert all("nodes=1" in res for rule, res in resources if rule in gpu_rules)


def test_profile_is_found_from_the_repository_root_and_is_site_neutral():
    profile = yaml.safe_load((REPO / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert {"runtime", "mem_mb"} <= set(profile["default-resources"])
    assert profile["slurm-init-seconds-before-status-checks"] >= 10  # production polling; tests override it


def write_test_profile(workdir: Path) -> None:
    """The repository's profile, for the local cluster: its account and partition, fast status checks."""
    profile = yaml.safe_load((REPO / "slurm" / "config.yaml").read_text())
    profile["default-resources"].update({"slurm_account": "root", "slurm_partition": "debug"})
    profile.update({"slurm-init-seconds-before-status-checks": 2, "latency-wait": 5, "retries": 0})
    (workdir / "slurm").mkdir(exist_ok=True)
    (workdir / "slurm" / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))


def sacct_states(run_id: str, job_ids: set[str], timeout: float = 60) -> dict[str, tuple[str, str]]:
    """{slurm job id: (state, AllocTRES)} of the run's jobs, once sacct has recorded all of them."""
    deadline = time.time() + timeout
    while True:
        out = subprocess.run(["sacct", "-X", "-n", "-P", "--name", run_id, "-S", "now-1days",
                              "-o", "JobID,JobName,State,AllocTRES"], capture_output=True, text=True, check=True).stdout
        rows = {}
        for line in out.splitlines():
            jobid, name, state, tres = line.split("|")
            assert name == run_id
            rows[jobid] = (state.split()[0], tres)
        final = all(rows.get(j, ("PENDING",))[0] not in ("PENDING", "RUNNING", "COMPLETING") for j in job_ids)
        if (job_ids <= set(rows) and final) or time.time() > deadline:
            return rows
        time.sleep(1)


@pytest.mark.slurm
@pytest.mark.slow
def test_demo_dag_on_slurm(slurm_cluster, tmp_path):
    from rlvr_eval.planning.config import validate_config
    from rlvr_eval.planning.grid import Grid

    config = demo_config()
    for model in config["models"].values():  # the demo's DAG, with less tiny-model training (minutes on 1 CPU)
        model["tiny"]["train_steps"] = min(model["tiny"].get("train_steps", 0), 20)
    # Every rule of the demo, with fewer jobs of each (each SLURM job starts its own Snakemake: about 10 s here):
    # one math and one code benchmark, one shard per model x benchmark. 45 jobs instead of 78.
    del config["benchmarks"]["math500"]
    for model in config["models"].values():
        model["tiny"]["train_benchmarks"] = ["gsm8k"]
    config["sampling"]["shard_size"] = max(b["n"] for b in config["benchmarks"].values())
    workdir = copy_workflow(tmp_path / "wf", config)
    write_test_profile(workdir)
    grid = Grid(validate_config(config))
    samples = [grid.sample_file(m, b, s) for m in grid.models for b in grid.benchmarks for s in grid.shards(m, b)]
    expected = samples + grid.targets()

    started = time.time()
    proc = snakemake(workdir, "--profile", "slurm", check=False, timeout=1800)
    elapsed = time.time() - started
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"snakemake --profile slurm failed after {elapsed:.0f} s:\n{log[-6000:]}"
    print(f"SLURM demo run: {elapsed:.0f} s")

    for path in expected:
        assert (workdir / path).exists(), f"missing output {path}"

    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    submitted = dict(re.findall(r"has been submitted with SLURM jobid (\d+) \(log: .*?/rule_(\w+)/", log))
    assert submitted, f"no job was submitted to SLURM:\n{log[-3000:]}"
    rules = set(submitted.values())
    assert "sample" in rules and "build_tiny_model" in rules
    assert not rules & {"prepare_benchmark", "stage_model"}  # local rules stay on the login node
    states = sacct_states(run_id, set(submitted))
    assert set(states) == set(submitted), f"sacct knows jobs {sorted(states)}, the run submitted {sorted(submitted)}"
    not_completed = {j: (submitted[j], states[j][0]) for j in submitted if states[j][0] != "COMPLETED"}
    assert not not_completed, f"jobs not COMPLETED in sacct: {not_completed}"
    for jobid, rule in submitted.items():
        has_gpu = "gres/gpu=1" in states[jobid][1]
        # model jobs (sampling, the base model's perplexity) ask for a GPU; CPU stages do not
        assert has_gpu == (rule in ("sample", "perplexity")), f"job {jobid} ({rule}) AllocTRES {states[jobid][1]}"
    assert sum(r == "sample" for r in submitted.values()) == len(samples)
