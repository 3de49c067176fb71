"""The environment a job ran in, for its record: package versions, the code's git commit and digest, the host."""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from rlvr_eval.io import sha256_file
from rlvr_eval.provenance.closure import PACKAGE_ROOT

PACKAGES = ("rlvr-eval", "torch", "transformers", "vllm", "math-verify", "snakemake", "numpy", "pandas", "pyarrow",
            "sympy", "matplotlib", "tokenizers", "accelerate")


@functools.lru_cache(maxsize=None)
def package_versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _git(args: list[str], cwd: Path) -> str | None:
    if shutil.which("git") is None:
        return None
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


@functools.lru_cache(maxsize=None)
def package_digest() -> str:
    """sha256 over the package's Python sources (identifies the code where git cannot)."""
    h = hashlib.sha256()
    for f in sorted(PACKAGE_ROOT.rglob("*.py")):
        if "__pycache__" not in f.parts:
            h.update(f"{f.relative_to(PACKAGE_ROOT).as_posix()}\0{sha256_file(f)}\n".encode())
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def code_version(where: str | None = None) -> dict:
    """Git commit and dirty flag (tracked files only) of the checkout holding the workflow scripts `where`,
    else of the one holding the package; the package's version and source digest in any case."""
    from rlvr_eval import __version__

    out = {"package_version": __version__, "package_sha256": package_digest(),
           "git_root": None, "git_commit": None, "git_dirty": None}
    for cwd in filter(None, (Path(where) if where else None, PACKAGE_ROOT)):
        commit = _git(["rev-parse", "HEAD"], cwd) if cwd.is_dir() else None
        if commit:
            status = _git(["--no-optional-locks", "status", "--porcelain", "--untracked-files=no"], cwd)
            out.update(git_root=_git(["rev-parse", "--show-toplevel"], cwd), git_commit=commit,
                       git_dirty=None if status is None else bool(status))
            break
    return out


@functools.lru_cache(maxsize=None)
def host_info() -> dict:
    out = {"hostname": socket.gethostname(), "platform": platform.platform(), "cpus": os.cpu_count(),
           "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
           "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"), "gpus": _gpus()}
    return out


def _gpus() -> list[str]:
    torch = sys.modules.get("torch")  # never import torch just for this
    if torch is not None:
        try:
            if torch.cuda.is_available():
                return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        except Exception:  # noqa: BLE001 - a broken CUDA set-up must not fail the job's bookkeeping
            pass
    if shutil.which("nvidia-smi"):
        try:
            proc = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                                  capture_output=True, text=True, timeout=10)
            if proc.returncode == 0:
                return [line.strip() for line in proc.stdout.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
    return []
