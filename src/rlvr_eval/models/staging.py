"""Stage a model for air-gapped compute nodes: download it at a pinned revision, or register a local copy.

Staging runs as a local rule (on the login node, where the network is); compute jobs read only the
local directory named in the manifest (`results/models/{model}.json`), the interface to sampling:

    {"path": local directory, "source": "hub" | "path", "hf_id", "requested_revision",
     "revision": the commit hash actually downloaded (null for a `path:` model without one),
     "warning": why the revision is not reproducible (or null),
     "files": {name: sha256} of the small config/tokenizer files}

A hub model is resolved to a commit hash first and downloaded at that commit, so the recorded hash is
exactly what was fetched even when an unpinned branch moves meanwhile.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from pathlib import Path

from rlvr_eval.io import sha256_file

log = logging.getLogger(__name__)
COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
FINGERPRINT_FILES = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json")
WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pt", "*.pth")
# What sampling needs: config, tokenizer, weights (safetensors when the repository has them).
ALLOW_PATTERNS = ("*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken", "tokenizer*", "*.py")
LEGACY_WEIGHT_PATTERNS = ("*.bin", "*.pt", "*.pth")


# An hf_id that only holds a place in the config (docs/vision.md); staging it stops with what to do.
PLACEHOLDER = "REPLACE-ME/"


def is_pinned(revision: str | None) -> bool:
    """A revision is reproducible only as a full commit hash (branches and tags move)."""
    return bool(revision) and COMMIT_RE.match(revision) is not None


def revision_warning(model: str, hf_id: str, revision: str | None) -> str | None:
    """The warning for an unpinned hub revision, or None when it is a commit hash."""
    if is_pinned(revision):
        return None
    what = "no revision" if not revision else f"revision {revision!r} (a branch or tag, not a commit hash)"
    return (f"model {model} ({hf_id}): {what} pinned; staging the current head"
            f"{'' if not revision else f' of {revision!r}'} and recording its commit in the manifest. "
            f"Pin it in the config (models.{model}.revision: <40-hex commit>) to make the run reproducible.")


def download_patterns(repo_files: list[str]) -> list[str]:
    """allow_patterns for snapshot_download: config + tokenizer + one copy of the weights.

    Repositories often ship the same weights twice (safetensors and pytorch .bin): take safetensors
    when present, the legacy formats only otherwise.
    """
    has_safetensors = any(fnmatch.fnmatch(f, "*.safetensors") for f in repo_files)
    return list(ALLOW_PATTERNS) + ([] if has_safetensors else list(LEGACY_WEIGHT_PATTERNS))


def fingerprint_dir(path: str | Path) -> dict[str, str]:
    path = Path(path)
    return {f: sha256_file(path / f) for f in FINGERPRINT_FILES if (path / f).is_file()}


def check_model_dir(path: str | Path, what: str) -> None:
    """A usable Hugging Face model directory: config.json and weights."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{what}: {path} has no config.json: not a Hugging Face model directory")
    if not any(any(path.glob(p)) for p in WEIGHT_PATTERNS):
        raise FileNotFoundError(f"{what}: {path} has no weights ({', '.join(WEIGHT_PATTERNS)})")


def stage_model(spec: dict, local_dir: str | Path, name: str | None = None) -> dict:
    """spec: a `models` entry of the config with `hf_id` (+ `revision`) or `path`; name: the model's key."""
    name = name or spec.get("hf_id") or str(spec.get("path"))
    if "path" in spec:  # already on disk (shared filesystem): nothing is downloaded
        path = Path(spec["path"])
        check_model_dir(path, f"model {name}")
        return {"path": str(path), "source": "path", "hf_id": spec.get("hf_id"),
                "requested_revision": spec.get("revision"), "revision": spec.get("revision"), "warning": None,
                "files": fingerprint_dir(path)}

    from huggingface_hub import HfApi, snapshot_download

    hf_id, requested = spec["hf_id"], spec.get("revision")
    if hf_id.startswith(PLACEHOLDER):  # config.yaml's stand-in for a model that is not public
        raise ValueError(f"model {name}: hf_id {hf_id!r} is a placeholder (the paper's model is not public); set "
                         "`path:` to your own checkpoint's Hugging Face directory or `hf_id:` to a published one")
    warning = revision_warning(name, hf_id, requested)
    if warning:
        log.warning(warning)
    info = HfApi().model_info(hf_id, revision=requested or None)
    commit = info.sha  # resolve once, then download exactly that commit
    files = [s.rfilename for s in (info.siblings or [])]
    snapshot_download(hf_id, revision=commit, local_dir=str(local_dir), allow_patterns=download_patterns(files))
    check_model_dir(local_dir, f"model {name} ({hf_id}@{commit})")
    return {"path": str(local_dir), "source": "hub", "hf_id": hf_id, "requested_revision": requested,
            "revision": commit, "warning": warning, "files": fingerprint_dir(local_dir)}
