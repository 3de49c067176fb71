"""Helpers to run the real workflow in a scratch copy and to read what Snakemake plans."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MIRROR = SHARED / "data" / "benchmarks"
WORKFLOW_FILES = ("Snakefile", "config.yaml", "config", "workflow", "envs", "profiles")


def copy_workflow(dest: Path, config: dict | None = None) -> Path:
    """Copy the workflow (not results) to `dest`; write `config` (default: the demo) as config/demo.yaml."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    write_config(dest, config if config is not None else demo_config())
    # config.yaml reads the paper's files from ../shared beside the repository: the same files, from the copy
    paper = dest / "config.yaml"
    paper.write_text(paper.read_text().replace("mirror_dir: ../shared/data/benchmarks", f"mirror_dir: {MIRROR}"))
    return dest


def demo_config() -> dict:
    config = yaml.safe_load((REPO / "config" / "demo.yaml").read_text())
    config["benchmark_source"]["mirror_dir"] = str(MIRROR)
    return config


def write_config(workdir: Path, config: dict) -> None:
    (workdir / "config" / "demo.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: float = 1800,
              configfile: str | tuple[str, ...] = "config/demo.yaml") -> subprocess.CompletedProcess:
    """Run the real Snakemake CLI of this interpreter's environment in `workdir` (default: on the demo config;
    several config files are merged, later ones on top)."""
    configfiles = (configfile,) if isinstance(configfile, str) else configfile
    cmd = [str(Path(sys.executable).with_name("snakemake")), "--configfile", *configfiles, "--cores", "2", *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{failed_jobs(workdir, proc.stderr)}\n"
                             f"--- stdout (end) ---\n{proc.stdout[-3000:]}\n--- stderr (end) ---\n{proc.stderr[-5000:]}")
    return proc


def failed_jobs(workdir: Path, stderr: str) -> str:
    """Snakemake's 'Error in rule' blocks, each followed by the end of the failed job's log: first in a failure
    message, where a long output's tail would hide them."""
    blocks = re.findall(r"^Error in rule .*?(?=^\S|\Z)", stderr, flags=re.M | re.S)
    out = []
    for block in blocks:
        out.append(block.rstrip())
        for log in re.findall(r"^\s+log: (\S+)", block, flags=re.M):
            path = Path(workdir) / log
            text = path.read_text(errors="replace")[-3000:] if path.is_file() else "(no log file)"
            out.append(f"--- {log} (end) ---\n{text}")
    return "\n".join(out) or "(no 'Error in rule' in Snakemake's output)"


_JOB_RE = re.compile(r"^(?:local)?rule (\w+):\s*$")


def planned_jobs(workdir: Path, *args: str, configfile: str | tuple[str, ...] = "config/demo.yaml") -> list[tuple[str, list[str]]]:
    """(rule, outputs) of every job a dry run would execute."""
    proc = snakemake(workdir, "--dry-run", *args, configfile=configfile)
    jobs, rule = [], None
    for line in (proc.stdout + proc.stderr).splitlines():
        m = _JOB_RE.match(line.strip())
        if m:
            rule = m.group(1)
            continue
        if rule and line.strip().startswith("output:"):
            jobs.append((rule, [o.strip() for o in line.strip()[len("output:"):].split(",")]))
            rule = None
    return jobs


def planned_rules(workdir: Path, *args: str, configfile: str = "config/demo.yaml") -> dict[str, int]:
    counts: dict[str, int] = {}
    for rule, _ in planned_jobs(workdir, *args, configfile=configfile):
        counts[rule] = counts.get(rule, 0) + 1
    return counts


# --- provenance and incremental reruns (tests/test_invalidation.py, tests/test_audit.py) ---------------------
def copy_run(src: Path, dest: Path, package: bool = False) -> Path:
    """Copy a finished run (workflow files, config, results, logs and Snakemake's .snakemake metadata), keeping
    modification times, so that Snakemake sees the same state there. package=True also copies src/rlvr_eval to
    dest/src: edit the code there and put it first on the path with `package_env(dest)` (or PYTHONPATH)."""
    shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "locks", "shadow"))
    if package:
        shutil.copytree(REPO / "src" / "rlvr_eval", dest / "src" / "rlvr_eval",
                        ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def package_env(workdir: Path) -> dict:
    """Environment variables that make Snakemake and its jobs import the copy of the package in `workdir`/src."""
    return {"PYTHONPATH": str(workdir / "src")}


def read_config(workdir: Path) -> dict:
    return yaml.safe_load((workdir / "config" / "demo.yaml").read_text())


def planned_outputs(workdir: Path, *args: str, configfile: str = "config/demo.yaml") -> dict[str, list[str]]:
    """rule -> sorted outputs (all outputs of every job) that a dry run would produce."""
    out: dict[str, list[str]] = {}
    for rule, outputs in planned_jobs(workdir, *args, configfile=configfile):
        out.setdefault(rule, []).extend(outputs)
    return {rule: sorted(outputs) for rule, outputs in sorted(out.items())}


_RAN_RE = re.compile(r"^(?:local)?rule (\w+):\s*$")


def executed_rules(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """rule -> jobs that a (real) Snakemake run executed, from its output."""
    counts: dict[str, int] = {}
    for line in (proc.stdout + proc.stderr).splitlines():
        m = _RAN_RE.match(line.strip())
        if m:
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts


def kill_when(cmd: list[str], cwd: Path, condition, log: Path, timeout: float = 600) -> None:
    """Run `cmd` in its own process group and SIGKILL the whole group (no cleanup runs) as soon as `condition()`
    holds; fail if the process ends first or `timeout` passes."""
    import signal
    import time

    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, cwd=cwd, start_new_session=True, stdout=f, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + timeout
        while not condition():
            assert proc.poll() is None, f"the process ended before the condition held:\n{log.read_text()[-3000:]}"
            assert time.time() < deadline, f"condition not met after {timeout:.0f} s"
            time.sleep(0.005)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def kill_after_first_checkpoint(cmd: list[str], cwd: Path, partial: Path, log: Path, timeout: float = 600) -> None:
    """kill_when the sampling job's first checkpoint exists (`partial/chunk-00000.parquet`, or a first finished
    problem in `partial/finished.jsonl` from a streaming backend)."""
    def checkpointed() -> bool:
        finished = partial / "finished.jsonl"
        return (partial / "chunk-00000.parquet").exists() or (finished.exists() and b"\n" in finished.read_bytes())

    kill_when(cmd, cwd, checkpointed, log, timeout)
