"""Memory of the entropy stage's per-position computation, against the positions of one chunk.

The entropy job (rlvr_eval.analysis.entropy) runs the perplexity stage's forward pass (whose logits, batch tokens x
vocabulary in the model's dtype, `analysis.entropy.max_batch_tokens` bounds) and then, at most `chunk_tokens`
response positions at a time, computes in float32 the token log-prob and three entropies (T = 1, at T, after top-p:
`chunk_quantities`). This script measures what that second step adds: in a fresh process per chunk size, the peak
resident memory (VmHWM) after allocating the chunk's logits and warming torch up, then after `chunk_quantities`,
on logits of Qwen2.5's vocabulary width (152,064), in float32 (CPU) or bfloat16 (`--dtype`, the GPU's).

    python bench/entropy_memory.py                   # chunks of 256, 1024 and 2048 positions
    python bench/entropy_memory.py --dtype bfloat16 --json out.json

docs/configuration.md ("Output entropy") quotes the bytes per position over the vocabulary.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import sys
from pathlib import Path
import torch
from rlvr_eval.analysis.entropy import chunk_quantities

def peak():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

positions, vocab, dtype = int(sys.argv[1]), int(sys.argv[2]), getattr(torch, sys.argv[3])
torch.set_num_threads(1)
g = torch.Generator().manual_seed(0)
logits = (torch.randn(positions, vocab, generator=g) * 4).to(dtype)
ids = torch.randint(0, vocab, (positions,), generator=g).tolist()
chunk_quantities(logits[:2], ids[:2], 0.6, 0.95)  # warm-up: torch's own buffers
before = peak()
out = chunk_quantities(logits, ids, 0.6, 0.95)
print(before, peak(), float(out["entropy"].mean()))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vocab-size", type=int, default=152_064, help="Qwen2.5's padded vocabulary")
    parser.add_argument("--chunks", default="256,1024,2048", help="positions per chunk")
    parser.add_argument("--dtype", default="float32", help="the logits' dtype: float32 (CPU) or bfloat16 (GPU)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    rows = []
    for positions in sorted(int(x) for x in args.chunks.split(",")):
        out = subprocess.run([sys.executable, "-c", CHILD, str(positions), str(args.vocab_size), args.dtype],
                             check=True, capture_output=True, text=True).stdout.split()
        before, after = int(out[0]), int(out[1])
        extra = after - before
        rows.append({"positions": positions, "extra_gib": extra / 2**30,
                     "bytes_per_position_over_vocab": extra / positions / args.vocab_size})
    print(f"vocabulary {args.vocab_size}, logits in {args.dtype}")
    print("| positions | extra peak memory | bytes per position / vocabulary |\n|---:|---:|---:|")
    for r in rows:
        print(f"| {r['positions']:,} | {r['extra_gib']:.2f} GiB | {r['bytes_per_position_over_vocab']:.1f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
