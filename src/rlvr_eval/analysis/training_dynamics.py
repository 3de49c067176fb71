"""Training dynamics of the RL models (the paper's Fig. 18 form, as a table): per model, its algorithm settings and
the mean reward, response length, entropy and KL over the first and the last steps of its training log
(rlvr_eval.models.rlvr.LOG_COLUMNS). Rule training_dynamics; the figure is rlvr_eval.plots.training_dynamics."""

from __future__ import annotations

import math

import pandas as pd

# What the table reports of each log column, over the first and the last `window` steps.
MEASURES = {"reward": "reward", "completion_length": "length", "entropy": "entropy", "kl": "kl"}
SETTINGS = ("trainer", "loss_type", "scale_rewards", "beta", "group_size", "steps")
# What rule training_dynamics writes, for every config with an rlvr model.
TRAINING_DYNAMICS_FILES = ["results/tables/training_dynamics.csv", "results/tables/training_dynamics.md",
                           "results/figures/training_dynamics.png", "results/figures/training_dynamics.pdf"]


def settings_of(manifest: dict) -> dict:
    """The algorithm an rlvr manifest was trained with, as TRL's config held it (rlvr_eval.models.rlvr)."""
    trainer, spec = manifest["trainer"], manifest["spec"]
    return {"trainer": trainer["class"], "loss_type": trainer.get("loss_type", "-"),
            "scale_rewards": trainer.get("scale_rewards", "-"), "beta": trainer["beta"],
            "group_size": trainer["num_generations"], "steps": spec["steps"]}


def dynamics_table(logs: dict[str, pd.DataFrame], settings: dict[str, dict], window: int = 10) -> pd.DataFrame:
    """One row per model: its settings, then `<measure>_first` and `<measure>_last` (means over `window` steps)."""
    rows = []
    for model, log in logs.items():
        log = log.sort_values("step")
        row = {"model": model, **{k: settings[model][k] for k in SETTINGS}}
        for column, name in MEASURES.items():
            row[f"{name}_first"] = float(log[column].head(window).mean())
            row[f"{name}_last"] = float(log[column].tail(window).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def to_markdown(table: pd.DataFrame, window: int) -> str:
    lines = [f"### Training dynamics: means over the first / last {window} steps", "",
             "| model | trainer | loss_type | scale_rewards | beta | group | steps | reward | length (tokens) | "
             "entropy | KL |", "|---|---|---|---|---:|---:|---:|---|---|---|---|"]

    def pair(r, name, digits):
        first, last = r[f"{name}_first"], r[f"{name}_last"]
        return "-" if math.isnan(first) else f"{first:.{digits}f} → {last:.{digits}f}"

    for _, r in table.iterrows():
        lines.append(f"| {r['model']} | {r['trainer']} | {r['loss_type']} | {r['scale_rewards']} | {r['beta']:g} | "
                     f"{r['group_size']} | {r['steps']} | {pair(r, 'reward', 3)} | {pair(r, 'length', 1)} | "
                     f"{pair(r, 'entropy', 3)} | {pair(r, 'kl', 4)} |")
    return "\n".join(lines) + "\n"
