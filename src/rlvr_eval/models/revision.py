"""The revision of a local model directory: a digest of its weights, as a hub commit names a hub model's."""

from __future__ import annotations

from pathlib import Path


def weights_revision(model_dir: str | Path) -> str:
    """A model directory's revision: the sha256 of its weight files (name and content), like a commit hash."""
    import hashlib

    from rlvr_eval.io import sha256_file

    files = sorted(Path(model_dir).glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"{model_dir}: no *.safetensors weights")
    return hashlib.sha256("".join(f"{f.name}:{sha256_file(f)}\n" for f in files).encode()).hexdigest()
