"""The cost of per-request seeds: vLLM's sampling throughput with a seed on every request (the workflow's
scheme: each problem's samples are reproducible on their own) against one engine seed (seed=None per request).

In vLLM V1 a request with its own seed gets its own torch.Generator, and the sampler draws that request's noise
on its own (a loop over the requests), where unseeded requests share one draw (and, on GPUs, FlashInfer's
sampling kernels). The cost grows with the vocabulary and the batch, not with the model's training, so the model
here is randomly initialised with a real vocabulary (Qwen2.5's 151,936 tokens) and a tiny body; samples run to
--max-new-tokens (EOS ignored) from random prompt tokens. Runs alternate between the two schemes; the figures are
medians.

    .venv-vllm/bin/python bench/sampling_seeding.py                    # vLLM's CPU build, CPU options
    python bench/sampling_seeding.py --engine '{"gpu_memory_utilization": 0.5}' --prompts 64 --n 16 --hidden 1536
"""

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def build_model(directory: Path, vocab: int, hidden: int, layers: int) -> None:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=vocab, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                         num_attention_heads=max(2, hidden // 64), num_key_value_heads=max(1, hidden // 128),
                         max_position_embeddings=4096, tie_word_embeddings=True, torch_dtype="float32")
    Qwen2ForCausalLM(config).save_pretrained(directory)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vocab", type=int, default=151_936, help="Qwen2.5's vocabulary")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--prompt-tokens", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5, help="runs of each scheme, alternating")
    parser.add_argument("--engine", default=None, help="vllm.LLM options as JSON (default: CPU options on CPU)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    import vllm
    from vllm.inputs import TokensPrompt
    from vllm.platforms import current_platform

    scratch = Path(tempfile.mkdtemp(prefix="seeding-"))
    build_model(scratch / "model", args.vocab, args.hidden, args.layers)
    engine = json.loads(args.engine) if args.engine else (
        {"gpu_memory_utilization": 0.1, "enforce_eager": True, "dtype": "float32", "enable_chunked_prefill": False}
        if current_platform.is_cpu() else {})
    llm = vllm.LLM(str(scratch / "model"), skip_tokenizer_init=True, seed=0,
                   max_model_len=args.prompt_tokens + args.max_new_tokens, **engine)
    rng = random.Random(0)
    prompts = [TokensPrompt(prompt_token_ids=[rng.randrange(args.vocab) for _ in range(args.prompt_tokens)])
               for _ in range(args.prompts)]

    def params(seed):
        return vllm.SamplingParams(n=args.n, temperature=0.6, top_p=0.95, max_tokens=args.max_new_tokens,
                                   ignore_eos=True, detokenize=False, seed=seed)

    schemes = {"per_request": [params(1000 + i) for i in range(args.prompts)],
               "engine": [params(None) for _ in range(args.prompts)]}

    def run(scheme: str) -> tuple[int, float]:
        start = time.monotonic()
        outs = llm.generate(prompts, schemes[scheme], use_tqdm=False)
        return sum(len(o.token_ids) for out in outs for o in out.outputs), time.monotonic() - start

    run("per_request"), run("engine")  # warm-up
    runs = {s: [] for s in schemes}
    for _ in range(args.repeats):
        for s in schemes:
            runs[s].append(run(s))
    report = {"vocab": args.vocab, "hidden": args.hidden, "layers": args.layers, "prompts": args.prompts, "n": args.n,
              "max_new_tokens": args.max_new_tokens, "engine_options": engine, "vllm": vllm.__version__,
              "device": current_platform.device_type, "host": platform.node(), "load_before": os.getloadavg()}
    for s, label in (("per_request", "a seed per request"), ("engine", "one engine seed")):
        tokens = runs[s][0][0]
        median = statistics.median(sec for _, sec in runs[s])
        report[s] = {"tokens": tokens, "seconds": [sec for _, sec in runs[s]], "tokens_per_s": tokens / median}
        print(f"{label}: {tokens} tokens, median of {args.repeats} runs {median:.2f} s = {tokens / median:.0f} tokens/s")
    ratio = report["per_request"]["tokens_per_s"] / report["engine"]["tokens_per_s"]
    report["per_request_over_engine"] = ratio
    report["load_after"] = os.getloadavg()
    print(f"per-request seeds / engine seed throughput: {ratio:.3f} (load {report['load_before'][0]:.1f} -> "
          f"{report['load_after'][0]:.1f})")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":  # vLLM starts its engine in a spawned process, which imports this module again
    main()
