"""What a model weighs on a GPU and on disk, staged or not: weights, KV cache per token, context.

A vLLM engine starts only if one sequence of max_model_len fits in its KV cache, so a job needs

    weights  = parameters x dtype bytes
    KV cache = max_model_len x 2 (K and V) x layers x kv_heads x head_dim x dtype bytes
    need     = weights + KV cache + OVERHEAD_GIB per GPU (activations, CUDA graphs, NCCL buffers)

within tensor_parallel_size x gpu_mem_gb x gpu_memory_utilization. A staged model's config.json and weight files
give its shape and bytes; else the row of its size class in resources.model_shapes (the paper's models); else
nothing can be said. A model's size class is `models.<m>.size`, else the "<number>B" in its hub id or path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from rlvr_eval.planning.resources import resolve

SIZE_RE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)B(?![A-Za-z0-9])")
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
HUB_DTYPE_BYTES = 2  # the paper's models are stored in bfloat16 on the hub
OVERHEAD_GIB = 2.0
GIB = 2 ** 30


@dataclass(frozen=True)
class Shape:
    weight_bytes: float
    layers: int
    kv_heads: int
    head_dim: int
    context: int  # the model's own maximum (max_position_embeddings)
    dtype_bytes: int
    source: str  # where the numbers come from, for messages

    @property
    def kv_bytes_per_token(self) -> int:
        return 2 * self.layers * self.kv_heads * self.head_dim * self.dtype_bytes

    def gpu_bytes(self, max_model_len: int, gpus: int) -> float:
        return self.weight_bytes + self.kv_bytes_per_token * max_model_len + OVERHEAD_GIB * GIB * max(gpus, 1)

    def longest_context(self, available_bytes: float, gpus: int) -> int:
        """The largest max_model_len whose KV cache fits beside the weights in `available_bytes`."""
        room = available_bytes - self.weight_bytes - OVERHEAD_GIB * GIB * max(gpus, 1)
        return max(0, int(room // self.kv_bytes_per_token))


def size_class(config: dict, model: str) -> str | None:
    """"7B" for Qwen/Qwen2.5-7B (models.<m>.size wins; a variant has its source's); None for tiny, trained or
    imported models and names without a size."""
    spec = config["models"][model]
    if "size" in spec:
        return spec["size"]
    if "variant_of" in spec:
        return size_class(config, spec["variant_of"])
    for name in (spec.get("hf_id"), spec.get("path")):
        match = SIZE_RE.search(str(name or ""))
        if match:
            return f"{match.group(1)}B"
    return None


def size_billions(size: str) -> float:
    return float(size[:-1])


def staged_dir(model: str, manifests_dir: str | Path = "results/models") -> Path | None:
    """The weights directory of a staged (or built) model: the manifest's path, if it holds a config.json."""
    try:
        path = Path(json.loads((Path(manifests_dir) / f"{model}.json").read_text())["path"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return path if (path / "config.json").is_file() else None


def _text_config(model_dir: Path) -> dict:
    data = json.loads((model_dir / "config.json").read_text())
    return {**data, **(data.get("text_config") or {})}  # vision-language models: the language model's shape


def _dtype_bytes(config: dict, model: str, declared: str | None) -> int:
    chosen = config["models"][model].get("dtype", "auto")
    return DTYPE_BYTES.get(chosen if chosen != "auto" else str(declared), HUB_DTYPE_BYTES)


def _weight_bytes(model_dir: Path) -> int:
    files = list(model_dir.glob("*.safetensors")) or list(model_dir.glob("*.bin"))
    return sum(f.stat().st_size for f in files)


def shape_of(config: dict, model: str, manifests_dir: str | Path = "results/models") -> Shape | None:
    """The model's shape: from its staged directory, else its size class's row of resources.model_shapes."""
    staged = staged_dir(model, manifests_dir)
    if staged is not None:
        c = _text_config(staged)
        heads = c.get("num_attention_heads")
        try:
            return Shape(weight_bytes=_weight_bytes(staged), layers=c["num_hidden_layers"],
                         kv_heads=c.get("num_key_value_heads") or heads,
                         head_dim=c.get("head_dim") or c["hidden_size"] // heads,
                         context=c.get("max_position_embeddings") or 0,
                         dtype_bytes=_dtype_bytes(config, model, c.get("torch_dtype") or c.get("dtype")),
                         source=f"{staged}/config.json")
        except (KeyError, TypeError, ZeroDivisionError):
            return None
    size = size_class(config, model)
    row = resolve(config)["model_shapes"].get(size) if size else None
    if row is None:
        return None
    dtype_bytes = _dtype_bytes(config, model, None)
    return Shape(weight_bytes=row["params_b"] * 1e9 * dtype_bytes, layers=row["layers"], kv_heads=row["kv_heads"],
                 head_dim=row["head_dim"], context=row["context"], dtype_bytes=dtype_bytes,
                 source=f"resources.model_shapes.{size}")


def download_bytes(config: dict, model: str) -> float | None:
    """What staging a hub model writes to disk: parameters x 2 bytes (bfloat16); None if its size is unknown."""
    size = size_class(config, model)
    if size is None:
        return None
    row = resolve(config)["model_shapes"].get(size)
    return (row["params_b"] if row else size_billions(size)) * 1e9 * HUB_DTYPE_BYTES
