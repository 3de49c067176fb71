"""Mean token negative log-likelihood of each model's own sampled responses, per model x benchmark: the quantity the
paper's entropy-matched comparison needs, from the `logprob_sum` and `num_tokens` kept with every sample.

Table (`results/tables/token_nll.csv`), one row per (model, benchmark):

| column          | meaning                                                                                     |
|-----------------|---------------------------------------------------------------------------------------------|
| model, benchmark| the response set                                                                            |
| samples         | samples with log-probs (generated here, prompt not too long)                                |
| without_logprobs| samples without (imported responses; prompts that filled the context are left out)          |
| tokens          | their sampled tokens                                                                        |
| token_nll       | −Σ logprob_sum / Σ num_tokens: mean NLL per token, in nats                                  |
| sample_token_nll| mean over samples of each sample's own mean NLL per token (every response weighs the same)   |

The log-probs are the model's own (temperature 1, before top-p) of tokens drawn at the configured temperature and
top-p: at temperature 1 and top-p 1 token_nll estimates the per-token entropy of the response distribution; below,
it measures how likely the model itself finds its responses (lower: more confident).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rlvr_eval.metrics.tables import settings_heading, with_note

COLUMNS = ["model", "benchmark", "samples", "without_logprobs", "tokens", "token_nll", "sample_token_nll"]


def token_nll(samples: pd.DataFrame) -> dict:
    """samples: sample rows (num_tokens, finish_reason, logprob_sum; rlvr_eval.sampling.shards schema)."""
    sampled = samples[samples["finish_reason"] != "prompt_too_long"]
    has = sampled["logprob_sum"].notna() & (sampled["num_tokens"] > 0)
    s = sampled[has]
    tokens = int(s["num_tokens"].sum())
    return {"samples": int(has.sum()), "without_logprobs": int((~has).sum()), "tokens": tokens,
            "token_nll": -float(s["logprob_sum"].sum()) / tokens if tokens else np.nan,
            "sample_token_nll": float((-s["logprob_sum"] / s["num_tokens"]).mean()) if len(s) else np.nan}


def to_markdown(table: pd.DataFrame, note: str = "", settings: list[dict] | None = None) -> str:
    """The table in Markdown; `note`: what the run left out (rlvr_eval.planning.left_out); `settings`: the grader and
    sampling settings of its responses (planning.table_settings)."""
    lines = ["### Mean token NLL of each model's own responses", "",
             "Nats per token, under the model's own distribution (temperature 1) of the tokens it sampled.", "",
             *([f"Samples: {settings_heading(settings)}.", ""] if settings else []),
             "| model | benchmark | samples | tokens | token NLL | per-sample mean |", "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {r.model} | {r.benchmark} | {r.samples} | {r.tokens} | {r.token_nll:.3f} | {r.sample_token_nll:.3f} |"
              for r in table.itertuples()]
    return with_note("\n".join(lines) + "\n", note)
