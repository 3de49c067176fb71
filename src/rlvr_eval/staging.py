"""Stage a model for air-gapped compute nodes: download it at a pinned revision, or register a local copy.

The manifest (`results/models/{model}.json`) is the interface to the sampling stage:
{"path": local directory, "revision": resolved commit hash or null, "hf_id", "requested_revision",
 "files": {name: sha256} for the small config/tokenizer files}.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from .io import sha256_file

log = logging.getLogger(__name__)
COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
FINGERPRINT_FILES = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json")


def fingerprint_dir(path: str | Path) -> dict[str, str]:
    path = Path(path)
    return {f: sha256_file(path / f) for f in FINGERPRINT_FILES if (path / f).is_file()}


def stage_model(spec: dict, local_dir: str | Path) -> dict:
    """spec: a `models` entry of the config with `hf_id` (+ `revision`) or `path`."""
    if "path" in spec:
        path = Path(spec["path"])
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"model path {path} has no config.json: not a Hugging Face model directory")
        return {"path": str(path), "revision": spec.get("revision"), "hf_id": spec.get("hf_id"),
                "requested_revision": spec.get("revision"), "files": fingerprint_dir(path)}
    from huggingface_hub import snapshot_download

    requested = spec.get("revision")
    if not requested or not COMMIT_RE.match(requested):
        log.warning("model %s: revision %r is not a commit hash; the resolved commit is recorded, pin it in the config",
                    spec["hf_id"], requested)
    local = snapshot_download(spec["hf_id"], revision=requested, local_dir=str(local_dir))
    resolved = _resolved_commit(spec["hf_id"], requested, Path(local))
    return {"path": str(local_dir), "revision": resolved, "hf_id": spec["hf_id"], "requested_revision": requested,
            "files": fingerprint_dir(local)}


def _resolved_commit(hf_id: str, requested: str | None, local: Path) -> str:
    if requested and COMMIT_RE.match(requested):
        return requested
    from huggingface_hub import HfApi

    return HfApi().model_info(hf_id, revision=requested).sha
