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
WORKFLOW_FILES = ("Snakefile", "config.yaml", "config", "workflow")


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
    return dest


def demo_config() -> dict:
    config = yaml.safe_load((REPO / "config" / "demo.yaml").read_text())
    config["benchmark_source"]["mirror_dir"] = str(MIRROR)
    return config


def write_config(workdir: Path, config: dict) -> None:
    (workdir / "config" / "demo.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run the real Snakemake CLI of this interpreter's environment in `workdir` on config/demo.yaml."""
    cmd = [str(Path(sys.executable).with_name("snakemake")), "--configfile", "config/demo.yaml", "--cores", "2", *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


_JOB_RE = re.compile(r"^(?:local)?rule (\w+):\s*$")


def planned_jobs(workdir: Path, *args: str) -> list[tuple[str, list[str]]]:
    """(rule, outputs) of every job a dry run would execute."""
    proc = snakemake(workdir, "--dry-run", *args)
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


def planned_rules(workdir: Path, *args: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rule, _ in planned_jobs(workdir, *args):
        counts[rule] = counts.get(rule, 0) + 1
    return counts
