"""Image-conditioned perplexity: rlvr_eval.analysis.perplexity for visual benchmarks (a Qwen2.5-VL scoring model).

Each response is scored given its prompt *with the problem's image*, exactly as it was sampled: the prompt's
`<|image_pad|>` expanded to the image's tokens under the scoring model's pixel limits (rlvr_eval.sampling.backends.vision),
the response tokenized on its own and appended. Only response tokens count; a prompt + response beyond the
scoring model's context is skipped (status "too_long"), never truncated. A response holding the scoring model's
image or video placeholder token (sampling keeps special tokens; a model can emit one) is skipped too (status
"vision_token"): the scorer would take it for an image and stop the job. Same output schema as for text.

transformers: one forward pass per response (the vision tower's inputs differ per image). vLLM: prompt log-probs of
`{"prompt_token_ids": prompt + response, "multi_modal_data": {"image": …}}`, the positions shifted by the image
tokens vLLM expands the placeholder into (written to vLLM's API; not run yet: no vLLM build here serves Qwen2.5-VL).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rlvr_eval.sampling.prompts import render_problem_prompts
from rlvr_eval.analysis.perplexity import SCORED, TOO_LONG, VISION_TOKEN, perplexity_table


def score_responses_vl(model_dir: str | Path, responses: pd.DataFrame, problems: pd.DataFrame, template: str,
                       scored_model: str, response_model: str, backend: str = "transformers",
                       engine_kwargs: dict | None = None, labels: dict[str, str] | None = None,
                       scorer=None) -> pd.DataFrame:
    """As rlvr_eval.analysis.perplexity.score_responses, for a problem table with images.

    engine_kwargs: the scoring model's backend options (pixel limits, max_model_len; vLLM's engine options).
    scorer: a backend loaded by load_vl_scorer, used (and left open) instead of loading the one in `model_dir`.
    """
    table = problems.astype({"problem_id": str}).set_index("problem_id", drop=False)
    ids = responses["problem_id"].astype(str)
    unknown = sorted(set(ids) - set(table.index))
    if unknown:
        raise ValueError(f"{len(unknown)} responses' problems are not in the problem table, e.g. {unknown[:3]}")
    own = scorer is None
    if own:
        scorer = load_vl_scorer(model_dir, backend, engine_kwargs)
    prompts = render_problem_prompts(template, table.loc[ids.tolist()].reset_index(drop=True), scorer.tokenizer)
    texts = responses["text"].fillna("").astype(str).tolist()
    response_ids = [list(scorer.tokenizer(t, add_special_tokens=False)["input_ids"]) if t else [] for t in texts]
    prompt_lengths = scorer.prompt_lengths(prompts)
    reserve = 1 if backend == "vllm" else 0  # vLLM generates one token after the scored prompt
    context = scorer.context_limit
    placeholders = vision_placeholder_ids(scorer.tokenizer)
    status = [VISION_TOKEN if placeholders.intersection(r) else
              SCORED if context is None or m + len(r) + reserve <= context else TOO_LONG
              for m, r in zip(prompt_lengths, response_ids)]
    scored: dict[int, np.ndarray] = {}
    todo = [i for i, s in enumerate(status) if s == SCORED]
    if backend == "transformers":
        for i in todo:
            scored[i] = _logprobs_transformers(scorer, prompts[i], response_ids[i])
    else:
        scored.update(zip(todo, _logprobs_vllm(scorer, [prompts[i] for i in todo], [response_ids[i] for i in todo],
                                               [prompt_lengths[i] for i in todo])))
    if own:
        scorer.close()
    return perplexity_table(responses, ids, scored_model, response_model, status, scored,
                            [len(r) for r in response_ids], labels)


def vision_placeholder_ids(tokenizer) -> set[int]:
    """The ids of Qwen2.5-VL's image and video placeholder tokens in `tokenizer` (those it has)."""
    vocab = tokenizer.get_vocab()
    return {vocab[t] for t in ("<|image_pad|>", "<|video_pad|>") if t in vocab}


def load_vl_scorer(model_dir: str | Path, backend: str = "transformers", engine_kwargs: dict | None = None):
    """The vision-language model in `model_dir` as a sampling backend (its tokenizer, image processor, context)."""
    from rlvr_eval.sampling.backends import load_backend

    return load_backend(backend, str(model_dir), **(engine_kwargs or {}))


def _logprobs_transformers(scorer, prompt, response_ids: list[int]) -> np.ndarray:
    """Log-probs of the response tokens given the prompt and its image (TransformersVLBackend's inputs)."""
    import torch

    if not response_ids:
        return np.array([], dtype=np.float64)
    inputs = scorer._encode(prompt)
    start = inputs["input_ids"].shape[1]
    extra = torch.tensor([response_ids], dtype=inputs["input_ids"].dtype, device=inputs["input_ids"].device)
    inputs["input_ids"] = torch.cat([inputs["input_ids"], extra], dim=1)
    inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
    inputs["mm_token_type_ids"] = torch.cat([inputs["mm_token_type_ids"], torch.zeros_like(extra, dtype=torch.int32)], dim=1)
    scorer.model.model.rope_deltas = None  # positions of this prompt, not the previous one's
    with torch.no_grad():
        logits = scorer.model(**inputs, use_cache=False).logits[0]
    # the logits at position t predict token t+1
    log_probs = torch.log_softmax(logits[start - 1 : start - 1 + len(response_ids)].float(), dim=-1)
    return log_probs.gather(-1, extra[0][:, None]).squeeze(-1).cpu().numpy().astype(np.float64)


def _logprobs_vllm(scorer, prompts, response_ids, prompt_lengths) -> list[np.ndarray]:
    from vllm import SamplingParams

    from rlvr_eval.sampling.backends.vision import load_images

    params = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)
    requests = []
    for prompt, response in zip(prompts, response_ids):
        ids = list(scorer.tokenizer(str(prompt), add_special_tokens=False)["input_ids"]) + response
        requests.append({"prompt_token_ids": ids, "multi_modal_data": {"image": load_images(prompt.images)[0]}})
    outputs = scorer.llm.generate(requests, params, use_tqdm=False)
    results = []
    for out, response, start in zip(outputs, response_ids, prompt_lengths):
        expanded = list(out.prompt_token_ids)  # the placeholder expanded into the image's tokens
        if len(expanded) != start + len(response):
            raise RuntimeError(f"vLLM expanded the prompt to {len(expanded) - len(response)} tokens, the image "
                               f"processor counts {start}: different pixel limits?")
        results.append(np.array([out.prompt_logprobs[t][expanded[t]].logprob for t in range(start, len(expanded))],
                                dtype=np.float64))
    return results
