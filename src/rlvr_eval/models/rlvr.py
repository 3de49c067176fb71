"""RLVR of a tiny model on CPU: TRL's GRPOTrainer or RLOOTrainer on the verifier's 0/1 reward, with checkpoints
along training.

Both sample `group_size` completions per prompt and reward each 1 if its last `\\boxed{}` holds the reference
answer and 0 otherwise. GRPO's advantage is the reward minus its group's mean, scaled by the group's standard
deviation (`scale_rewards: group`), the batch's (`batch`: REINFORCE++-baseline's form) or not at all (`none`: Dr.
GRPO); `loss_type` is how TRL averages the token losses (grpo: per sequence, then over sequences; dr_grpo: a
constant; dapo, TRL's default: over the batch's tokens; bnpo: over the local batch's tokens, the same as dapo on
one process without gradient accumulation). RLOO's advantage is the reward minus the mean of the other
completions of its prompt. `beta` > 0 adds a KL penalty to the starting (base) model: to the loss (GRPO) or to the
reward (RLOO). Only what TRL implements is offered (`TRAINERS`, `LOSS_TYPES`, `SCALE_REWARDS`); the paper's PPO
and ReMax are not in TRL 1.16 (`NOT_IN_TRL`).

The reward is an exact match of the last boxed answer with the reference, not math-verify: the synthetic
task's answers are non-negative integers written as digits, on which the two agree for a boxed answer, and
exact match costs microseconds in the training process (math-verify parses with sympy under a signal-based
timeout). One difference: an answer without a box earns no reward, where math-verify would still find
"The answer is 3." (tests/test_rlvr.py). The evaluation afterwards grades the models' samples with the
configured grader, like every benchmark.

Output layout (`train_rlvr`): `out_dir` holds the final model (an ordinary model directory);
`out_dir/checkpoints/step-XXXX/` one model directory per requested step; `out_dir/training_log.csv` one row
per step: step, reward (mean over the step's completions), reward_std, completion_length, kl, entropy.
The manifest's `trainer` records the trainer class and the settings TRL's config ended up with.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from rlvr_eval.data.benchmarks import last_boxed_content
from rlvr_eval.sampling.prompts import render_prompt
from rlvr_eval.models.revision import weights_revision
from rlvr_eval.console import progress as show

LOG_COLUMNS = ["step", "reward", "reward_std", "completion_length", "kl", "entropy"]
TRAINERS = ("grpo", "rloo")
LOSS_TYPES = ("grpo", "dr_grpo", "dapo", "bnpo")  # GRPOConfig.loss_type values that need no other setting
SCALE_REWARDS = ("group", "batch", "none")
# Algorithms of the paper (Table 2) that TRL 1.16 does not implement: asked for as `trainer`, a config error says so.
NOT_IN_TRL = {
    "ppo": "TRL 1.16 has no PPO trainer (PPO also needs a value model)",
    "remax": "TRL 1.16 has no ReMax trainer (a greedy-decoding baseline)",
    "reinforce++": "TRL has no REINFORCE++ trainer; its advantage form is `trainer: grpo` with `scale_rewards: batch`",
    "dapo": "DAPO is a loss in TRL, not a trainer: `trainer: grpo` with `loss_type: dapo`",
    "dr_grpo": "Dr. GRPO is a loss in TRL, not a trainer: `trainer: grpo` with `loss_type: dr_grpo`, `scale_rewards: none`",
}


@dataclass(frozen=True)
class RlvrSpec:
    seed: int = 0
    steps: int = 100
    prompts_per_step: int = 4
    group_size: int = 8  # completions per prompt (GRPO's group)
    learning_rate: float = 1e-4
    # The final RMSNorm gain's own learning rate (None: learning_rate). That gain sets the logits' scale, i.e. the
    # sampling temperature, which the policy gradient asks to lower; Adam moves every weight by about the same
    # absolute amount per step, which barely moves a gain of ~1.2 at a learning rate safe for the other weights
    # (measured: README, "The RLVR demo").
    final_norm_learning_rate: float | None = None
    warmup_steps: int = 0  # linear warm-up, then linear decay to 0 (Adam's first steps are sign steps: noise)
    beta: float = 0.0  # KL coefficient to the starting model (0: no reference model)
    temperature: float = 1.0
    max_new_tokens: int = 48
    checkpoint_steps: tuple[int, ...] = field(default_factory=tuple)
    trainer: str = "grpo"  # TRAINERS
    loss_type: str | None = None  # LOSS_TYPES, GRPO only (None: TRL's default, dapo)
    scale_rewards: str | None = None  # SCALE_REWARDS, GRPO only (None: TRL's default, group)


def algorithm_problem(trainer: str = "grpo", loss_type: str | None = None, scale_rewards: str | None = None) -> str | None:
    """Why this trainer / loss_type / scale_rewards combination cannot run (a phrase naming the key), or None."""
    if trainer not in TRAINERS:
        why = NOT_IN_TRL.get(trainer.lower())
        return f"trainer: {trainer!r} is not available" + (f": {why}" if why else f" (available: {', '.join(TRAINERS)})")
    if trainer == "rloo":
        given = [k for k, v in (("loss_type", loss_type), ("scale_rewards", scale_rewards)) if v is not None]
        if given:
            return (f"{', '.join(given)}: GRPO settings, but trainer is 'rloo' (TRL's RLOOTrainer has its own "
                    f"leave-one-out advantage and loss)")
    if loss_type is not None and loss_type not in LOSS_TYPES:
        return f"loss_type: {loss_type!r} is not one of {', '.join(LOSS_TYPES)}"
    if scale_rewards is not None and scale_rewards not in SCALE_REWARDS:
        return f"scale_rewards: {scale_rewards!r} is not one of {', '.join(SCALE_REWARDS)}"
    return None


def boxed_reward(completion: str, reference: str) -> float:
    """1.0 if the last \\boxed{} of `completion` is exactly `reference` (whitespace stripped), else 0.0."""
    answer = last_boxed_content(completion)
    return float(answer is not None and answer.strip() == reference.strip())


def checkpoint_dir(out_dir: str | Path, step: int) -> Path:
    return Path(out_dir) / "checkpoints" / f"step-{step:04d}"


def train_rlvr(init_dir: str | Path, out_dir: str | Path, problems: pd.DataFrame, template: str, spec: RlvrSpec,
               progress: bool = True) -> dict:
    """Train from the model in `init_dir` on `problems` (canonical table); write `out_dir`; return a manifest."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer

    bad = [s for s in spec.checkpoint_steps if not 0 < s < spec.steps]
    if bad:
        raise ValueError(f"checkpoint steps {bad} are not strictly between 0 and steps={spec.steps}")
    problem = algorithm_problem(spec.trainer, spec.loss_type, spec.scale_rewards)
    if problem:
        raise ValueError(problem)
    out_dir = Path(out_dir)
    torch.manual_seed(spec.seed)
    tokenizer = AutoTokenizer.from_pretrained(init_dir)
    model = AutoModelForCausalLM.from_pretrained(init_dir, dtype=torch.float32)
    data = Dataset.from_dict({"prompt": [render_prompt(template, q) for q in problems["question"]],
                              "reference": [str(r) for r in problems["reference"]]})

    def reward(completions, reference, **_):
        return [boxed_reward(c, r) for c, r in zip(completions, reference)]

    class SaveCheckpoints(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **_):
            if state.global_step in spec.checkpoint_steps:
                save_model(model, tokenizer, checkpoint_dir(out_dir, state.global_step))

    class ShowProgress(TrainerCallback):  # a line on the console every tenth of the run (rlvr_eval.console)
        def on_log(self, args, state, control, logs=None, **_):
            every = max(1, state.max_steps // 10)
            if progress and logs and "reward" in logs and (state.global_step % every == 0 or state.global_step == 1):
                show(f"{out_dir.name}: RL step {state.global_step} of {state.max_steps}, reward {logs['reward']:.3f}")

    common = dict(
        output_dir=str(out_dir / "trainer"), max_steps=spec.steps, learning_rate=spec.learning_rate,
        warmup_steps=spec.warmup_steps,
        per_device_train_batch_size=spec.prompts_per_step * spec.group_size, num_generations=spec.group_size,
        max_completion_length=spec.max_new_tokens, temperature=spec.temperature, beta=spec.beta,
        seed=spec.seed, data_seed=spec.seed, use_cpu=True, bf16=False, dataloader_num_workers=0,
        logging_steps=1, save_strategy="no", report_to=[], disable_tqdm=not progress, log_level="warning",
    )
    if spec.trainer == "rloo":
        trainer_class, args = RLOOTrainer, RLOOConfig(**common)
    else:  # unset keys keep TRL's defaults
        grpo_only = {k: v for k, v in (("loss_type", spec.loss_type), ("scale_rewards", spec.scale_rewards)) if v is not None}
        trainer_class, args = GRPOTrainer, GRPOConfig(**common, **grpo_only)
    final_norm = model.get_decoder().norm.weight
    others = [p for p in model.parameters() if p is not final_norm]
    # AdamW as the trainer's default; its schedule (warm-up, linear decay) scales both groups alike.
    optimizer = torch.optim.AdamW([{"params": others}, {"params": [final_norm],
                                   "lr": spec.final_norm_learning_rate or spec.learning_rate}],
                                  lr=spec.learning_rate, weight_decay=0.0)
    trainer = trainer_class(model=model, reward_funcs=reward, args=args, train_dataset=data,
                            processing_class=tokenizer, callbacks=[SaveCheckpoints(), ShowProgress()],
                            optimizers=(optimizer, None))
    trainer.train()
    shutil.rmtree(out_dir / "trainer", ignore_errors=True)  # nothing of the trainer's own state is kept
    save_model(trainer.model, tokenizer, out_dir)
    log = training_log(trainer.state.log_history)
    log.to_csv(out_dir / "training_log.csv", index=False)
    checkpoints = {str(s): {"path": str(checkpoint_dir(out_dir, s)), "revision": weights_revision(checkpoint_dir(out_dir, s))}
                   for s in spec.checkpoint_steps}
    manifest = {"spec": asdict(spec), "template": template, "init_from": str(init_dir),
                "revision": weights_revision(out_dir), "training_problems": len(problems),
                "parameters": sum(p.numel() for p in trainer.model.parameters()), "checkpoints": checkpoints,
                "trainer": trainer_settings(trainer),
                "reward_first_10_steps": float(log["reward"].head(10).mean()),
                "reward_last_10_steps": float(log["reward"].tail(10).mean())}
    (out_dir / "rlvr.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def trainer_settings(trainer) -> dict:
    """The trainer class and the algorithm settings as TRL's config holds them (after its own defaults)."""
    names = ("loss_type", "scale_rewards", "normalize_advantages", "beta", "num_generations", "epsilon")
    return {"class": type(trainer).__name__, **{n: getattr(trainer.args, n) for n in names if hasattr(trainer.args, n)}}


def save_model(model, tokenizer, path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)


def training_log(history: list[dict]) -> pd.DataFrame:
    """One row per training step from the trainer's log history (TRL's metric names)."""
    names = {"reward": "reward", "reward_std": "reward_std", "completion_length": "completions/mean_length",
             "kl": "kl", "entropy": "entropy"}
    rows = [{"step": h["step"], **{k: float(h[v]) if v in h else float("nan") for k, v in names.items()}}
            for h in history if "reward" in h]
    return pd.DataFrame(rows, columns=LOG_COLUMNS)
