"""Host memory of vLLM's prompt log-probs, the perplexity stage's scoring path, against the response length.

`SamplingParams(prompt_logprobs=0)` makes vLLM compute log-softmax over the whole vocabulary at every prompt
position of a scheduled batch: memory that grows with (tokens in one engine step) x (vocabulary), on top of
weights and KV cache, and that vLLM's start-up memory profile does not reserve. This script measures it with
the project's own scorer (`response_logprobs_vllm`) on a tiny model whose vocabulary is Qwen2.5's (152,064), so
the log-prob tensors have their real width:

- the engine's peak resident memory (VmHWM of the engine process tree) after start-up and a plain prefill
  of the longest sequence (baseline);
- the same after scoring responses of increasing length, one response per `generate` call;
- the extra bytes per scored token, and that figure over 4 x vocabulary (one float32 row per token).

    .venv-vllm/bin/python bench/perplexity_memory.py                      # CPU build, no chunked prefill
    .venv-vllm/bin/python bench/perplexity_memory.py --engine '{"max_num_batched_tokens": 1024}'

The README ("Perplexity: memory of the scoring engine") turns the per-token figure into the GPU setting.
"""

import argparse
import json
import os
import tempfile
from pathlib import Path


def tree_peak_rss_bytes() -> int:
    """Sum of VmHWM (peak resident set) over this process and its descendants (vLLM's engine core process)."""
    import psutil

    total = 0
    for proc in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) * 1024
    return total


def build_model(out_dir: Path, vocab_size: int, context: int, mirror: str) -> None:
    from transformers import AutoModelForCausalLM

    from rlvr_eval.data.benchmarks import load_benchmark
    from rlvr_eval.models.tiny_spec import TinyModelSpec
    from rlvr_eval.models.tiny_text import build_tiny_model

    problems, _ = load_benchmark("gsm8k", mirror, limit=16)
    # head_dim 64: the CPU build has no attention kernel for the tests' head_dim 16
    build_tiny_model(out_dir, TinyModelSpec(seed=0, hidden_size=128, heads=2, max_position_embeddings=context), problems, "plain")
    model = AutoModelForCausalLM.from_pretrained(out_dir)
    model.resize_token_embeddings(vocab_size)  # the tokenizer keeps its small vocabulary: the logits get Qwen's width
    model.save_pretrained(out_dir)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vocab-size", type=int, default=152_064, help="Qwen2.5's padded vocabulary")
    parser.add_argument("--lengths", default="512,2048,8192", help="response tokens, ascending")
    parser.add_argument("--mirror", default="../shared/data/benchmarks")
    parser.add_argument("--engine", default=None, help="vllm.LLM options as JSON, merged over the CPU defaults")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    lengths = sorted(int(x) for x in args.lengths.split(","))

    from vllm import LLM, SamplingParams
    from vllm.platforms import current_platform

    from rlvr_eval.analysis.perplexity import response_logprobs_vllm

    scratch = Path(tempfile.mkdtemp(prefix="ppl-memory-"))
    context = lengths[-1] + 64
    build_model(scratch / "model", args.vocab_size, context, args.mirror)
    engine = {"gpu_memory_utilization": 0.1, "enforce_eager": True, "dtype": "float32",
              "enable_chunked_prefill": False} if current_platform.is_cpu() else {}
    engine.update(json.loads(args.engine) if args.engine else {})
    llm = LLM(model=str(scratch / "model"), max_model_len=context, enable_prefix_caching=False, seed=0, **engine)
    tokenizer = llm.get_tokenizer()

    prompt = "Question: what is 12 + 30?\nAnswer:"
    filler = tokenizer.encode(" 1 2 3 4 5 6 7 8 9 the answer is", add_special_tokens=False)

    def response_of(tokens: int) -> str:
        ids = (filler * (tokens // len(filler) + 1))[:tokens]
        return tokenizer.decode(ids)

    # Baseline: the longest sequence prefilled once without prompt log-probs (activations, KV blocks touched).
    longest = tokenizer.encode(prompt + response_of(lengths[-1]), add_special_tokens=False)
    llm.generate([{"prompt_token_ids": longest}], SamplingParams(max_tokens=1, temperature=0.0), use_tqdm=False)
    baseline = tree_peak_rss_bytes()
    rows = []
    for tokens in lengths:
        [logprobs] = response_logprobs_vllm(llm, [prompt], [response_of(tokens)], tokenizer)
        peak = tree_peak_rss_bytes()
        extra = peak - baseline
        rows.append({"response_tokens": len(logprobs), "peak_rss_gib": peak / 2**30, "extra_gib": extra / 2**30,
                     "extra_bytes_per_token": extra / len(logprobs),
                     "float32_vocab_rows_per_token": extra / len(logprobs) / (4 * args.vocab_size)})
    report = {"vocab_size": args.vocab_size, "engine": engine, "device": current_platform.device_type,
              "baseline_peak_rss_gib": baseline / 2**30, "rows": rows, "cpus": os.cpu_count()}
    print(f"baseline peak RSS (start-up + plain prefill of {lengths[-1]} tokens): {baseline / 2**30:.2f} GiB")
    print("| response tokens | peak RSS GiB | extra GiB | extra MiB/token | float32 vocab rows/token |")
    print("|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['response_tokens']} | {r['peak_rss_gib']:.2f} | {r['extra_gib']:.2f} | "
              f"{r['extra_bytes_per_token'] / 2**20:.2f} | {r['float32_vocab_rows_per_token']:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":  # vLLM's engine starts in a spawned process that imports this file again
    main()
