"""Perplexity of one model (usually the base) on the responses of another (RL, itself, any other).

The paper's argument: if the base model's perplexity on the RL model's responses is as low as on
its own responses, RL mostly re-weights paths the base model already samples.

For a response y = y_1 … y_T to prompt x (render_prompt(template, question)):

    mean_logprob = (1/T) Σ_t log p(y_t | x, y_<t),   perplexity = exp(−mean_logprob)

Only response tokens count; the prompt is context. Prompt and response are tokenized separately
(no special tokens added: templates carry their own) and concatenated, as at generation time, so the
boundary never moves with a BPE merge across it. An empty response has num_tokens 0 and NaN
mean_logprob/perplexity.

Two backends compute the same numbers: transformers (batched forward pass, right padding, CPU or
GPU) and vLLM (prompt log-probs of prompt + response, `SamplingParams(max_tokens=1, prompt_logprobs=0)`).

A response that does not fit the scoring model's context with its prompt (e.g. a 16k-token R1-Distill
response scored by a 4k-context base model) is skipped, never truncated: its row has status "too_long" and
NaN mean_logprob/perplexity, and the job goes on. Samples that were never generated (finish_reason
prompt_too_long) are not selected at all.

Output schema, one row per selected response (PERPLEXITY_COLUMNS): problem_id, sample_index, scored_model,
response_model, status ("scored", "too_long", or for an image-conditioned scorer "vision_token": the response
holds the scorer's image/video placeholder token, which its forward pass would take for an image), num_tokens
(response tokens), mean_logprob, perplexity (plus any label columns).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from rlvr_eval.sampling.backends.vllm_backend import shutdown_engine
from rlvr_eval.io import derive_seed
from rlvr_eval.sampling.prompts import render_problem_prompts

PERPLEXITY_COLUMNS = ["problem_id", "sample_index", "scored_model", "response_model", "status", "num_tokens",
                      "mean_logprob", "perplexity"]
SCORED, TOO_LONG, VISION_TOKEN = "scored", "too_long", "vision_token"


def select_responses(samples: pd.DataFrame, num_problems: int | None = None, responses_per_problem: int | None = None,
                     seed: int = 0) -> pd.DataFrame:
    """A seeded subsample: at most `num_problems` problems, at most `responses_per_problem` samples each.

    The choice ranks problems by a hash of (seed, problem_id) and samples by a hash of (seed, problem_id,
    sample_index) (rlvr_eval.io.derive_seed): it does not depend on the model that wrote the samples, so the responses of the base and
    the RL model are subsampled on the same problems (and sample indices), and it is stable across machines.
    """
    for name, value in (("num_problems", num_problems), ("responses_per_problem", responses_per_problem)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be >= 1 or None, got {value}")
    missing = {"problem_id", "sample_index", "text"} - set(samples.columns)
    if missing:
        raise ValueError(f"samples lack columns {sorted(missing)}")
    df = samples.astype({"problem_id": str, "sample_index": int})
    if "finish_reason" in df:  # never generated: nothing to score
        df = df[df["finish_reason"] != "prompt_too_long"]
    problems = sorted(df["problem_id"].unique(), key=lambda p: (derive_seed(seed, "problem", p), p))
    chosen = set(problems[:num_problems] if num_problems is not None else problems)
    df = df[df["problem_id"].isin(chosen)]
    rank = [derive_seed(seed, "response", p, i) for p, i in zip(df["problem_id"], df["sample_index"])]
    df = df.assign(_rank=rank).sort_values(["problem_id", "_rank", "sample_index"], kind="stable")
    if responses_per_problem is not None:
        df = df.groupby("problem_id", sort=False).head(responses_per_problem)
    return df.drop(columns="_rank").sort_values(["problem_id", "sample_index"], kind="stable").reset_index(drop=True)


def encode_prompt_response(tokenizer, prompt: str, response: str) -> tuple[list[int], list[int]]:
    """(prompt token ids, response token ids), each tokenized on its own without added special tokens."""
    prompt_ids = list(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    response_ids = list(tokenizer(response, add_special_tokens=False)["input_ids"]) if response else []
    if not prompt_ids:
        raise ValueError("empty prompt: the first response token would have no context")
    return prompt_ids, response_ids


def _batches(lengths: Sequence[int], batch_size: int, max_batch_tokens: int | None) -> list[list[int]]:
    """Indices grouped longest first, at most batch_size sequences and max_batch_tokens padded tokens a batch."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        if batches:
            current = batches[-1]
            width = lengths[current[0]]  # longest first: the first member sets the padded width
            if len(current) < batch_size and (max_batch_tokens is None or (len(current) + 1) * width <= max_batch_tokens):
                current.append(i)
                continue
        batches.append([i])
    return batches


def response_logits_transformers(model, tokenizer, prompts: Sequence[str], responses: Sequence[str],
                                 batch_size: int = 8, max_batch_tokens: int | None = 16384):
    """Yield (i, response token ids, logits) for every response i (in batch order, not input order): `logits` is
    the (T × vocabulary) block of the model's output whose row t predicts response token t, from one batched
    forward pass of prompt + response. The scoring path of perplexity and entropy (rlvr_eval.analysis.entropy).

    Batches are right-padded: with causal attention, real tokens never see the padding to their right,
    and position ids stay 0 … L-1 for every row, as in an unpadded forward pass. max_batch_tokens bounds
    the padded tokens of a batch, hence the logits tensor (tokens × vocabulary; 16k × 152k in bf16 ≈ 5 GB).
    """
    import torch

    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
    encoded = [encode_prompt_response(tokenizer, p, r) for p, r in zip(prompts, responses)]
    lengths = [len(p) + len(r) for p, r in encoded]
    context = getattr(model.config, "max_position_embeddings", None)
    if context is not None and lengths and max(lengths) > context:
        i = int(np.argmax(lengths))  # callers skip these (score_responses): scoring them would mean truncating
        raise ValueError(f"prompt + response #{i} is {lengths[i]} tokens, beyond the scoring model's context of "
                         f"{context} tokens")
    device = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0  # masked out either way
    for batch in _batches(lengths, batch_size, max_batch_tokens):
        width = lengths[batch[0]]
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            ids[row, : lengths[i]] = torch.tensor(encoded[i][0] + encoded[i][1])
            mask[row, : lengths[i]] = 1
        with torch.no_grad():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False).logits
        for row, i in enumerate(batch):
            prompt_ids, response_ids = encoded[i]
            start, end = len(prompt_ids), len(prompt_ids) + len(response_ids)
            # the logits at position t predict token t+1
            yield i, response_ids, logits[row, start - 1 : end - 1]
        del logits


def response_logprobs_transformers(model, tokenizer, prompts: Sequence[str], responses: Sequence[str],
                                   batch_size: int = 8, max_batch_tokens: int | None = 16384) -> list[np.ndarray]:
    """Log-prob of every response token given prompt and preceding response tokens (one array per response), from
    response_logits_transformers (batched, right-padded, at most max_batch_tokens padded tokens a batch)."""
    import torch

    results: list[np.ndarray | None] = [None] * len(prompts)
    for i, response_ids, rows in response_logits_transformers(model, tokenizer, prompts, responses, batch_size,
                                                              max_batch_tokens):
        # log_softmax in float32 on these rows only
        log_probs = torch.log_softmax(rows.float(), dim=-1)
        targets = torch.tensor(response_ids, dtype=torch.long, device=log_probs.device)
        results[i] = log_probs.gather(-1, targets[:, None]).squeeze(-1).cpu().numpy().astype(np.float64)
    return results  # type: ignore[return-value]


def response_logprobs_vllm(llm, prompts: Sequence[str], responses: Sequence[str], tokenizer=None) -> list[np.ndarray]:
    """As response_logprobs_transformers, with a `vllm.LLM`: the prompt log-probs of prompt + response.

    `prompt_logprobs=0` returns, for every prompt position but the first (None), a dict
    {token id: Logprob} that always holds the actual token; one generated token is the minimum vLLM allows.
    """
    from vllm import SamplingParams

    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
    tokenizer = tokenizer or llm.get_tokenizer()
    encoded = [encode_prompt_response(tokenizer, p, r) for p, r in zip(prompts, responses)]
    params = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)
    outputs = llm.generate([{"prompt_token_ids": p + r} for p, r in encoded], params, use_tqdm=False)
    if len(outputs) != len(encoded):
        raise RuntimeError(f"vLLM returned {len(outputs)} outputs for {len(encoded)} requests")
    results = []
    for (prompt_ids, response_ids), out in zip(encoded, outputs):
        token_ids = prompt_ids + response_ids
        position_logprobs = out.prompt_logprobs
        results.append(np.array([position_logprobs[t][token_ids[t]].logprob
                                 for t in range(len(prompt_ids), len(token_ids))], dtype=np.float64))
    return results


def summarise_logprobs(token_logprobs: np.ndarray) -> tuple[int, float, float]:
    """(num_tokens, mean log-prob, perplexity); NaNs for an empty response."""
    if len(token_logprobs) == 0:
        return 0, float("nan"), float("nan")
    mean = float(np.mean(token_logprobs))
    return len(token_logprobs), mean, float(np.exp(-mean))


def load_transformers_scorer(model_dir: str | Path, device: str | None = None, dtype: str = "auto"):
    """(model, tokenizer) in eval mode; bfloat16 on GPU and float32 on CPU unless `dtype` names a torch dtype."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch_dtype = (torch.bfloat16 if device.startswith("cuda") else torch.float32) if dtype == "auto" else getattr(torch, dtype)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch_dtype).to(device).eval()
    return model, tokenizer


def load_vllm_scorer(model_dir: str | Path, **engine_kwargs):
    """A `vllm.LLM` for prompt log-probs; prefix caching off by default (cached prefixes have no prompt log-probs
    in some vLLM versions)."""
    try:
        import vllm
    except ImportError as e:
        raise ImportError("backend 'vllm' needs the vllm package and a GPU; use backend 'transformers' without it") from e
    return vllm.LLM(model=str(model_dir), tokenizer=str(model_dir), **{"enable_prefix_caching": False, **engine_kwargs})


@dataclass
class TextScorer:
    """A loaded scoring model, reused for every response set of a job (one engine start): `model` (transformers)
    or `llm` (vLLM), its tokenizer and context length (None: unbounded)."""

    backend: str
    tokenizer: object
    context: int | None
    model: object = None
    llm: object = None

    def close(self) -> None:
        if self.llm is not None:
            shutdown_engine(self.llm)
            self.llm = None


def load_text_scorer(model_dir: str | Path, backend: str = "transformers", device: str | None = None,
                     dtype: str = "auto", engine_kwargs: dict | None = None) -> TextScorer:
    if backend == "transformers":
        model, tokenizer = load_transformers_scorer(model_dir, device, dtype)
        return TextScorer(backend, tokenizer, getattr(model.config, "max_position_embeddings", None), model=model)
    if backend == "vllm":
        llm = load_vllm_scorer(model_dir, **(engine_kwargs or {}))
        return TextScorer(backend, llm.get_tokenizer(), int(llm.llm_engine.model_config.max_model_len), llm=llm)
    raise ValueError(f"unknown perplexity backend {backend!r}; known: transformers, vllm")


def score_responses(model_dir: str | Path | None, responses: pd.DataFrame, problems: pd.DataFrame, template: str,
                    scored_model: str, response_model: str, backend: str = "transformers", batch_size: int = 8,
                    max_batch_tokens: int | None = 16384, device: str | None = None, dtype: str = "auto",
                    engine_kwargs: dict | None = None, labels: dict[str, str] | None = None,
                    strip_questions: bool = True, scorer: TextScorer | None = None) -> pd.DataFrame:
    """Perplexity of the model in `model_dir` on `responses` (problem_id, sample_index, text; e.g. from
    select_responses) to the `problems` (canonical benchmark table: problem_id, question).

    template, strip_questions: the prompt the responses were sampled with (render_problem_prompts). Returns PERPLEXITY_COLUMNS rows in
    the order of `responses` (those too long for the model's context: status "too_long", not scored);
    `labels` (e.g. {"benchmark": …}) are prepended as constant columns. `scorer`: a model loaded by
    load_text_scorer, used (and left open) instead of loading the one in `model_dir`.
    """
    table = problems.astype({"problem_id": str})
    ids = responses["problem_id"].astype(str)
    unknown = sorted(set(ids) - set(table["problem_id"]))
    if unknown:
        raise ValueError(f"{len(unknown)} responses' problems are not in the problem table, e.g. {unknown[:3]}")
    texts = responses["text"].fillna("").astype(str).tolist()
    own = scorer is None
    if own:
        scorer = load_text_scorer(model_dir, backend, device, dtype, engine_kwargs)
    tokenizer, context = scorer.tokenizer, scorer.context
    asked = table[table["problem_id"].isin(set(ids))].reset_index(drop=True)
    by_id = dict(zip(asked["problem_id"], render_problem_prompts(template, asked, tokenizer, strip_questions)))
    prompts = [by_id[p] for p in ids]
    lengths = [tuple(map(len, encode_prompt_response(tokenizer, p, r))) for p, r in zip(prompts, texts)]
    response_tokens = [n for _, n in lengths]
    reserve = 1 if scorer.backend == "vllm" else 0  # vLLM generates one token after the scored prompt
    fits = [context is None or m + n + reserve <= context for m, n in lengths]
    todo = [i for i, ok in enumerate(fits) if ok]
    if scorer.backend == "transformers":
        scored = response_logprobs_transformers(scorer.model, tokenizer, [prompts[i] for i in todo],
                                                [texts[i] for i in todo], batch_size, max_batch_tokens)
    else:
        scored = response_logprobs_vllm(scorer.llm, [prompts[i] for i in todo], [texts[i] for i in todo], tokenizer)
    if own:
        scorer.close()
    return perplexity_table(responses, ids, scored_model, response_model, [SCORED if ok else TOO_LONG for ok in fits],
                            dict(zip(todo, scored)),
                            response_tokens, labels)


def perplexity_table(responses: pd.DataFrame, ids: pd.Series, scored_model: str, response_model: str,
                     status: list[str], scored: dict[int, np.ndarray], response_tokens: list[int],
                     labels: dict | None = None) -> pd.DataFrame:
    """The output rows (PERPLEXITY_COLUMNS, labels first): `scored` maps a row to its token log-probs; a row not
    scored (status too_long or vision_token) has its token count and NaN scores."""
    summary = [summarise_logprobs(scored[i]) if i in scored else (response_tokens[i], float("nan"), float("nan"))
               for i in range(len(status))]
    table = pd.DataFrame({
        "problem_id": ids.to_numpy(),
        "sample_index": responses["sample_index"].astype(int).to_numpy(),
        "scored_model": scored_model,
        "response_model": response_model,
        "status": status,
        "num_tokens": np.array([s[0] for s in summary], dtype=int),
        "mean_logprob": np.array([s[1] for s in summary], dtype=float),
        "perplexity": np.array([s[2] for s in summary], dtype=float),
    }, columns=PERPLEXITY_COLUMNS)
    for i, (name, value) in enumerate((labels or {}).items()):
        table.insert(i, name, value)
    return table
