"""Output entropy of a model on its own sampled responses: the quantity the paper's Fig. 17 matches (Yue et al. 2025,
§4.5 and App. D.7: the RL model's temperature is raised until its "output entropy" matches the base model's at T = 0.6).

For a response y = y_1 … y_T that the model sampled for prompt x at temperature τ and top-p ρ, let z_t be the model's
logits for the next token after (x, y_<t) and p_τ = softmax(z_t / τ). Per token,

    H_τ(t) = −Σ_v p_τ(v) log p_τ(v)       over the whole vocabulary (the temperature-scaled policy, before top-p)

and the response set's entropy is the mean over all its response tokens (token-weighted: Σ_t H / Σ T), in nats.
This is the paper's quantity as far as it states it: "output entropy" of the policy, which rises with the
temperature it is sampled at (so the distribution after temperature scaling), measured as verl's "actor generation
entropy" (its Fig. 18) is: entropy of softmax(logits / temperature) over the full vocabulary, averaged over the
response tokens. Two more columns come from the same forward pass:

- entropy_t1: H_1, the raw distribution (temperature 1), the model's own entropy whatever it was sampled at;
- entropy_top_p: the entropy of the distribution tokens were actually drawn from: p_τ truncated to the smallest
  set of most likely tokens whose mass reaches ρ (vLLM's rule: a token is kept when the tokens ranked above it hold
  less than ρ; the most likely is always kept), renormalised. Equal to `entropy` at top_p 1.

At temperature 0 (greedy) the policy is a point mass: entropy and entropy_top_p are 0 (entropy_t1 is still H_1).

Exact, not estimated: the full next-token distribution is needed at every response position, which a transformers
forward pass gives (the logits of every position; rlvr_eval.analysis.perplexity.response_logits_transformers, the
perplexity stage's batched, memory-bounded scoring pass). vLLM returns at most the top-k log-probs of each position
(`logprobs` / `prompt_logprobs` = k): from them −Σ_{top k} p log p is only a lower bound on the entropy (the tail's
mass and its spread are unknown; with the tail's mass m spread over the other V − k tokens it gives an upper bound),
so vLLM is not used here. The response is re-tokenized from its text as in the perplexity stage (prompt and response
tokenized separately, no special tokens added), which can differ from the sampled token ids where a BPE merge is
ambiguous; `mean_logprob` (temperature 1) is kept as a check against the sampler's own log-probs (token_nll).

Output schema, one row per selected response (ENTROPY_COLUMNS, after any label columns): problem_id, sample_index,
model, status (scored / too_long: beyond the model's context, skipped, never truncated), num_tokens, temperature,
top_p, mean_logprob, entropy, entropy_t1, entropy_top_p (means over the response's tokens; NaN when not scored or
empty).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from rlvr_eval.analysis.perplexity import (SCORED, TOO_LONG, encode_prompt_response, load_transformers_scorer,
                                           response_logits_transformers)
from rlvr_eval.sampling.prompts import render_problem_prompts

ENTROPY_COLUMNS = ["problem_id", "sample_index", "model", "status", "num_tokens", "temperature", "top_p",
                   "mean_logprob", "entropy", "entropy_t1", "entropy_top_p"]
# per-token quantities of one response (response_entropies_transformers)
TOKEN_KEYS = ("logprob", "entropy", "entropy_t1", "entropy_top_p")


def check_sampling(temperature: float, top_p: float) -> None:
    if not (isinstance(temperature, (int, float)) and temperature >= 0):
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
    if not (isinstance(top_p, (int, float)) and 0 < top_p <= 1):
        raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")


def token_entropies(logits, temperature: float = 1.0, top_p: float = 1.0):
    """Entropy in nats of each row's next-token distribution softmax(logits / temperature), truncated to top_p as vLLM
    samples (the most likely tokens whose mass reaches top_p; renormalised) when top_p < 1. logits: (T, V) tensor;
    returns a float32 (T,) tensor. Temperature 0: zeros (a point mass). Its float32 temporaries (with top-p: the
    sort's values and int64 indices) peak at about 12 bytes x V per row (bench/entropy_memory.py)."""
    import torch

    check_sampling(temperature, top_p)
    if temperature == 0:
        return torch.zeros(logits.shape[:-1], dtype=torch.float32, device=logits.device)
    log_p = torch.log_softmax(logits.float() / temperature, dim=-1)
    if top_p < 1:
        log_p = torch.sort(log_p, dim=-1, descending=True).values
        p = log_p.exp()
        above = torch.cumsum(p, dim=-1).sub_(p)  # the mass of the tokens ranked above each
        del p
        drop = above >= top_p
        del above
        drop[..., 0] = False  # the most likely token is always kept
        log_p = torch.log_softmax(log_p.masked_fill_(drop, float("-inf")), dim=-1)
        del drop
    # p log p with 0 log 0 = 0 (a -inf log-prob: a masked or underflowed token)
    return -(log_p.exp().mul_(log_p.clamp_(min=torch.finfo(log_p.dtype).min))).sum(dim=-1)


def chunk_quantities(rows, response_ids: Sequence[int], temperature: float, top_p: float) -> dict:
    """TOKEN_KEYS -> float32 tensor for a block of positions: `rows` their logits (T × V), `response_ids` the T
    tokens they predict (response_entropies_transformers)."""
    import torch

    targets = torch.tensor(list(response_ids), dtype=torch.long, device=rows.device)
    out = {"logprob": torch.log_softmax(rows.float(), dim=-1).gather(-1, targets[:, None]).squeeze(-1),
           "entropy_t1": token_entropies(rows, 1.0), "entropy": token_entropies(rows, temperature)}
    out["entropy_top_p"] = token_entropies(rows, temperature, top_p) if top_p < 1 else out["entropy"]
    return out


def response_entropies_transformers(model, tokenizer, prompts: Sequence[str], responses: Sequence[str],
                                    temperature: float, top_p: float = 1.0, batch_size: int = 8,
                                    max_batch_tokens: int | None = 16384, chunk_tokens: int = 1024) -> list[dict]:
    """Per response, {key: float64 array over its tokens} for TOKEN_KEYS: the token's log-prob (temperature 1) and
    the entropies H_τ (before top-p), H_1 and H_τ after top-p of the distribution it was drawn from (module doc).

    One forward pass per response (batched: rlvr_eval.analysis.perplexity.response_logits_transformers); the
    entropies are taken in float32 over at most `chunk_tokens` positions at a time, which bounds their memory
    (measured by bench/entropy_memory.py: about 12 bytes × vocabulary a position, 1.75 GiB for 1,024 positions of
    Qwen2.5's 152k), on top of the forward pass's logits."""
    import torch

    check_sampling(temperature, top_p)
    if chunk_tokens < 1:
        raise ValueError(f"chunk_tokens must be >= 1, got {chunk_tokens}")
    results: list[dict | None] = [None] * len(prompts)
    for i, response_ids, rows in response_logits_transformers(model, tokenizer, prompts, responses, batch_size,
                                                              max_batch_tokens):
        parts: dict[str, list] = {k: [] for k in TOKEN_KEYS}
        for lo in range(0, rows.shape[0], chunk_tokens):
            block = chunk_quantities(rows[lo : lo + chunk_tokens], response_ids[lo : lo + chunk_tokens], temperature,
                                     top_p)
            for k in TOKEN_KEYS:
                parts[k].append(block[k])
        results[i] = {k: (torch.cat(v).cpu().numpy().astype(np.float64) if v else np.zeros(0)) for k, v in parts.items()}
    return results  # type: ignore[return-value]


def score_entropy(responses: pd.DataFrame, problems: pd.DataFrame, template: str, model_name: str, temperature: float,
                  top_p: float, scorer, batch_size: int = 8, max_batch_tokens: int | None = 16384,
                  strip_questions: bool = True, labels: dict | None = None) -> pd.DataFrame:
    """ENTROPY_COLUMNS rows, in the order of `responses` (problem_id, sample_index, text; e.g. from
    rlvr_eval.analysis.perplexity.select_responses), for the model that sampled them: `scorer` is its
    (model, tokenizer) from load_entropy_scorer; template, strip_questions: the prompt it sampled with; temperature,
    top_p: its sampling settings. A response beyond the model's context: status too_long, NaN means, not truncated.
    `labels` (e.g. {"benchmark": …}) are prepended as constant columns."""
    check_sampling(temperature, top_p)
    model, tokenizer = scorer
    table = problems.astype({"problem_id": str})
    ids = responses["problem_id"].astype(str)
    unknown = sorted(set(ids) - set(table["problem_id"]))
    if unknown:
        raise ValueError(f"{len(unknown)} responses' problems are not in the problem table, e.g. {unknown[:3]}")
    if "image" in table:
        raise ValueError("entropy is measured on text benchmarks only: this problem table has images")
    texts = responses["text"].fillna("").astype(str).tolist()
    asked = table[table["problem_id"].isin(set(ids))].reset_index(drop=True)
    by_id = dict(zip(asked["problem_id"], render_problem_prompts(template, asked, tokenizer, strip_questions)))
    prompts = [by_id[p] for p in ids]
    lengths = [tuple(map(len, encode_prompt_response(tokenizer, p, r))) for p, r in zip(prompts, texts)]
    context = getattr(model.config, "max_position_embeddings", None)
    fits = [context is None or m + n <= context for m, n in lengths]
    todo = [i for i, ok in enumerate(fits) if ok]
    scored = dict(zip(todo, response_entropies_transformers(
        model, tokenizer, [prompts[i] for i in todo], [texts[i] for i in todo], temperature, top_p, batch_size,
        max_batch_tokens)))

    def mean(i: int, key: str) -> float:
        values = scored[i][key] if i in scored else np.zeros(0)
        return float(np.mean(values)) if len(values) else float("nan")

    out = pd.DataFrame({
        "problem_id": ids.to_numpy(),
        "sample_index": responses["sample_index"].astype(int).to_numpy(),
        "model": model_name,
        "status": [SCORED if ok else TOO_LONG for ok in fits],
        "num_tokens": np.array([n for _, n in lengths], dtype=int),
        "temperature": float(temperature),
        "top_p": float(top_p),
        "mean_logprob": [mean(i, "logprob") for i in range(len(fits))],
        "entropy": [mean(i, "entropy") for i in range(len(fits))],
        "entropy_t1": [mean(i, "entropy_t1") for i in range(len(fits))],
        "entropy_top_p": [mean(i, "entropy_top_p") for i in range(len(fits))],
    }, columns=ENTROPY_COLUMNS)
    for k, (name, value) in enumerate((labels or {}).items()):
        out.insert(k, name, value)
    return out


def load_entropy_scorer(model_dir: str | Path, device: str | None = None, dtype: str = "auto"):
    """(model, tokenizer): transformers, full logits (bfloat16 on GPU, float32 on CPU unless `dtype` says)."""
    return load_transformers_scorer(model_dir, device, dtype)


def scorer_name(model) -> str:
    """What scored the responses, for the table: the backend and the weights' dtype."""
    return f"transformers ({str(next(model.parameters()).dtype).removeprefix('torch.')})"


# --- the table: results/tables/entropy.{csv,md} ---------------------------------------------------------------
TABLE_COLUMNS = ["model", "benchmark", "temperature", "top_p", "responses", "too_long", "tokens", "entropy",
                 "entropy_t1", "entropy_top_p", "scorer"]


def entropy_summary(rows: pd.DataFrame) -> dict:
    """One response set's row of the table from its per-response rows: token-weighted means over the scored
    responses (Σ_responses num_tokens × mean / Σ num_tokens), their count and tokens."""
    scored = rows[(rows["status"] == SCORED) & (rows["num_tokens"] > 0)]
    tokens = int(scored["num_tokens"].sum())

    def weighted(key: str) -> float:
        return float((scored[key] * scored["num_tokens"]).sum() / tokens) if tokens else float("nan")

    return {"responses": int((rows["status"] == SCORED).sum()), "too_long": int((rows["status"] == TOO_LONG).sum()),
            "tokens": tokens, "entropy": weighted("entropy"), "entropy_t1": weighted("entropy_t1"),
            "entropy_top_p": weighted("entropy_top_p")}


def entropy_table(per_model: Sequence[pd.DataFrame], scorers: Sequence[str]) -> pd.DataFrame:
    """TABLE_COLUMNS, one row per (model, benchmark), from each model's per-response table (rule entropy's output)
    and its scorer's name."""
    out = []
    for rows, scorer in zip(per_model, scorers):
        for (model, benchmark), group in rows.groupby(["model", "benchmark"], sort=False):
            out.append({"model": model, "benchmark": benchmark, "temperature": float(group["temperature"].iloc[0]),
                        "top_p": float(group["top_p"].iloc[0]), **entropy_summary(group), "scorer": scorer})
    return pd.DataFrame(out, columns=TABLE_COLUMNS)


def to_markdown(table: pd.DataFrame, note: str = "", settings: list[dict] | None = None) -> str:
    """The table in Markdown; `note`: what the run left out; `settings`: the sampling settings of its responses."""
    from rlvr_eval.metrics.tables import settings_heading, with_note

    lines = ["### Output entropy of each model on its own responses (nats per token)", "",
             "Mean over the response tokens of the entropy of the model's full next-token distribution "
             "softmax(logits / T), at the temperature T the responses were sampled at (before top-p); T = 1: the raw "
             "distribution; top-p: the distribution the tokens were drawn from (truncated to top_p, renormalised). "
             "Exact (full logits, one transformers forward pass per response).", "",
             *([f"Samples: {settings_heading(settings, with_grader=False)}.", ""] if settings else []),
             "| model | benchmark | T | top-p | responses | tokens | entropy at T (nats) | entropy at T = 1 (nats) "
             "| entropy after top-p (nats) | scorer |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    lines += [f"| {r.model} | {r.benchmark} | {r.temperature:g} | {r.top_p:g} | {r.responses} | {r.tokens} | "
              f"{r.entropy:.3f} | {r.entropy_t1:.3f} | {r.entropy_top_p:.3f} | {r.scorer} |" for r in table.itertuples()]
    return with_note("\n".join(lines) + "\n", note)


# --- one job: a model's entropy on its own responses to each of its benchmarks (rule entropy) ---------------------
SAMPLE_COLUMNS = ["problem_id", "sample_index", "text", "finish_reason"]


def measure_model(model_name: str, model_dir: str | Path, sets: Sequence[dict], num_problems: int | None,
                  responses_per_problem: int | None, seed: int, batch_size: int = 8,
                  max_batch_tokens: int | None = 16384, device: str | None = None) -> tuple[pd.DataFrame, str]:
    """(ENTROPY_COLUMNS rows with a leading benchmark column, the scorer's name): every set of `sets` ({benchmark,
    temperature, top_p, template, strip_questions, problems (file), samples (files)}; Grid.entropy_sets), each
    subsampled as the perplexity stage does (select_responses: the same problems and sample indices for every
    model), scored with one load of the model. Settings are checked before the model loads."""
    from rlvr_eval.analysis.perplexity import select_responses
    from rlvr_eval.io import read_parquet

    for s in sets:
        try:
            check_sampling(s["temperature"], s["top_p"])
        except ValueError as e:
            raise ValueError(f"{model_name} on {s['benchmark']}: {e}") from None
    model, tokenizer = load_entropy_scorer(model_dir, device)
    tables = []
    for s in sets:
        samples = pd.concat([read_parquet(f, columns=SAMPLE_COLUMNS) for f in s["samples"]], ignore_index=True)
        chosen = select_responses(samples, num_problems, responses_per_problem, seed)
        table = score_entropy(chosen, read_parquet(s["problems"]), s["template"], model_name, s["temperature"],
                              s["top_p"], (model, tokenizer), batch_size, max_batch_tokens, s["strip_questions"],
                              labels={"benchmark": s["benchmark"]})
        summary = entropy_summary(table)
        print(f"{model_name} on {s['benchmark']} (T = {s['temperature']}, top-p {s['top_p']}): {summary['responses']} "
              f"responses, {summary['tokens']} tokens, entropy per token {summary['entropy']:.4f} nats (T = 1: "
              f"{summary['entropy_t1']:.4f}; after top-p: {summary['entropy_top_p']:.4f}), {summary['too_long']} too long")
        tables.append(table)
    out = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["benchmark", *ENTROPY_COLUMNS])
    return out, scorer_name(model)
