"""Tiny causal LMs built locally (no network) so the real tokenizer/generate/log-prob code runs offline.

A tiny model is an ordinary Hugging Face model directory (Qwen2 architecture, a byte-level BPE tokenizer
trained here, a Qwen-style chat template). Optionally it is trained for a few hundred steps to answer the
demo problems in the `\\boxed{}` format, so that the demo's verdicts and pass@k curves are not all zero:

- a "base" model learns, for each problem, the correct answer and several distractors (broad, often wrong);
- an "rl" model starts from the base weights and is sharpened on one answer per problem: the correct one
  for a share `rl_correct_fraction` of the problems, a distractor for the rest (mode collapse), mimicking
  the paper's trade-off of higher pass@1 for lower coverage at large k. These models demonstrate the pipeline, not the paper's finding.
- a "solutions" model is pretrained on the worked solutions of a task's train split (the synthetic task of
  `rlvr_eval.data.synthetic`): a real base model for real RLVR (`rlvr_eval.models.rlvr`).

The spec and training examples are in rlvr_eval.models.tiny_spec, shared with the vision-language builder
(rlvr_eval.models.tiny_vl).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from rlvr_eval.models.revision import weights_revision
from rlvr_eval.models.tiny_spec import CHAT_TEMPLATE, SPECIAL_TOKENS, TinyModelSpec, _target, tiny_prompt, training_pairs

def build_tokenizer(corpus: list[str], vocab_size: int, individual_digits: bool = False):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.pre_tokenizer = (pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
                         if individual_digits else byte_level)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   additional_special_tokens=SPECIAL_TOKENS[1:])
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_model(out_dir: str | Path, spec: TinyModelSpec, problems: pd.DataFrame, template: str,
                     init_from: str | Path | None = None) -> dict:
    """Write a model directory to `out_dir`; return a manifest (spec, parameter count, final loss)."""
    if spec.vision:
        from rlvr_eval.models.tiny_vl import build_tiny_vl_model

        return build_tiny_vl_model(out_dir, spec, problems, template, init_from)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(spec.seed)
    out_dir = Path(out_dir)
    if init_from is not None:
        tokenizer = AutoTokenizer.from_pretrained(init_from)
        model = AutoModelForCausalLM.from_pretrained(init_from, dtype=torch.float32)
    else:
        corpus = ([tiny_prompt(template, q) for q in problems["question"]] + [_target(r) for r in problems["reference"]]
                  + (list(problems["solution"]) if spec.recipe == "solutions" else []))
        tokenizer = build_tokenizer(corpus, spec.vocab_size, spec.individual_digits)
        config = Qwen2Config(
            vocab_size=len(tokenizer), hidden_size=spec.hidden_size, intermediate_size=2 * spec.hidden_size,
            num_hidden_layers=spec.layers, num_attention_heads=spec.heads, num_key_value_heads=spec.heads,
            max_position_embeddings=spec.max_position_embeddings, tie_word_embeddings=True,
            eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
            pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"), bos_token_id=None,
        )
        model = Qwen2ForCausalLM(config)
    pairs = training_pairs(spec, problems, template)
    final_loss = _train(model, tokenizer, pairs, spec, spec.batch_size) if spec.recipe != "none" else None
    model.generation_config.eos_token_id = [tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")]
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = None
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    manifest = {"spec": asdict(spec), "template": template, "init_from": str(init_from) if init_from else None,
                "revision": weights_revision(out_dir),
                "parameters": sum(p.numel() for p in model.parameters()), "final_loss": final_loss,
                "training_problems": len(problems)}
    (out_dir / "tiny_model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _train(model, tokenizer, pairs: list[tuple[str, str]], spec: TinyModelSpec, batch_size: int = 16) -> float:
    """Next-token loss on the target tokens only (prompt tokens masked)."""
    import torch

    rng = random.Random(spec.seed + 1)
    encoded = []
    for prompt, target in pairs:
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        t = tokenizer(target, add_special_tokens=False)["input_ids"]
        encoded.append((p + t, [-100] * len(p) + t))
    optimiser = torch.optim.AdamW(model.parameters(), lr=spec.learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 1 - step / spec.train_steps if spec.lr_decay else 1.0)
    model.train()
    loss = torch.tensor(float("nan"))
    for _ in range(spec.train_steps):
        batch = rng.sample(encoded, k=min(batch_size, len(encoded)))
        width = max(len(ids) for ids, _ in batch)
        ids = torch.full((len(batch), width), tokenizer.pad_token_id)
        labels = torch.full((len(batch), width), -100)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, (x, y) in enumerate(batch):
            ids[i, : len(x)], labels[i, : len(y)], mask[i, : len(x)] = torch.tensor(x), torch.tensor(y), 1
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
    model.eval()
    return float(loss.detach())
