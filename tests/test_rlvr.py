"""RLVR on CPU: the synthetic task, TRL's GRPO and RLOO for a few steps with checkpoints, and its workflow rules.

The full experiments (config/rl-demo.yaml, `make demo`; config/rl-algorithms.yaml) are too long for the suite;
these tests train for seconds on a case a tiny model can learn at once and check what the demos rely on.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from rlvr_eval.models.rlvr import LOG_COLUMNS, RlvrSpec, boxed_reward, checkpoint_dir, train_rlvr
from rlvr_eval.planning.config import ConfigError, validate_config
from rlvr_eval.data.synthetic import generate_split
from rlvr_eval.models.revision import weights_revision
from rlvr_eval.models.tiny_spec import TinyModelSpec
from rlvr_eval.models.tiny_text import build_tiny_model
from rlvr_eval.verify.math_verify_grader import grade

from workflow_helpers import REPO, copy_workflow, planned_rules, snakemake


def test_the_synthetic_task_is_generated_deterministically_with_disjoint_splits():
    test = generate_split("test", 50, seed=0, difficulty=3)
    pd.testing.assert_frame_equal(test, generate_split("test", 50, seed=0, difficulty=3))
    pd.testing.assert_frame_equal(test.head(20), generate_split("test", 20, seed=0, difficulty=3))
    train = generate_split("train", 1000, seed=0, difficulty=3)
    assert not set(test["question"]) & set(train["question"])
    assert len(set(train["question"])) == 1000
    assert set(test["question"]) != set(generate_split("test", 50, seed=1, difficulty=3)["question"])
    for question, solution, reference in zip(train["question"], train["solution"], train["reference"]):
        expression = question.removeprefix("Compute ").removesuffix(".")
        assert eval(expression) == int(reference) >= 0, question  # left to right: only + and -
        assert len(expression.split()) == 7  # a start value and 3 operations
        assert boxed_reward(solution, reference) == 1.0
        assert grade(solution, reference)[0] == "correct"


@pytest.mark.parametrize("response, reference, expected", [
    ("1+2=3. The answer is \\boxed{3}.", "3", 1.0),
    ("The answer is \\boxed{13}.", "3", 0.0),
    ("\\boxed{ 3 }", "3", 1.0),
])
def test_the_training_reward_agrees_with_math_verify_on_integer_answers(response, reference, expected):
    assert boxed_reward(response, reference) == expected
    assert (grade(response, reference)[0] == "correct") == bool(expected)


def test_the_training_reward_asks_for_the_box_where_math_verify_does_not():
    assert boxed_reward("The answer is 3.", "3") == 0.0
    assert grade("The answer is 3.", "3")[0] == "correct"


@pytest.fixture(scope="module")
def learnable(tmp_path_factory):
    """A base model that answers any of 4 problems with one of their 4 answers at random (it cannot tell the problems
    apart: measured); GRPO on one of them only has to sharpen that distribution onto the right answer."""
    root = tmp_path_factory.mktemp("rlvr")
    problems = generate_split("train", 4, seed=0, difficulty=2)
    spec = TinyModelSpec(seed=0, recipe="base", train_steps=120, hidden_size=32, distractors=3, vocab_size=300,
                         max_position_embeddings=128)
    build_tiny_model(root / "base", spec, problems, "plain")
    rl = RlvrSpec(seed=0, steps=24, prompts_per_step=1, group_size=16, learning_rate=0.001, warmup_steps=2,
                  max_new_tokens=16, checkpoint_steps=(8, 16))
    return root, problems.head(1), rl


@pytest.fixture(scope="module")
def trained_twice(learnable):
    root, problems, spec = learnable
    return [train_rlvr(root / "base", root / name, problems, "plain", spec, progress=False) for name in ("rl-a", "rl-b")]


def test_grpo_saves_checkpoints_and_repeats_itself_exactly(learnable, trained_twice):
    root, _, _ = learnable
    first, second = trained_twice
    log = pd.read_csv(root / "rl-a" / "training_log.csv")
    assert list(log["step"]) == list(range(1, 25)) and log["reward"].between(0, 1).all()
    assert first["revision"] == weights_revision(root / "rl-a") != weights_revision(root / "base")
    revisions = {weights_revision(checkpoint_dir(root / "rl-a", s)) for s in (8, 16)}
    assert len(revisions | {first["revision"]}) == 3  # the weights move along training
    for step in (8, 16):
        path = checkpoint_dir(root / "rl-a", step)
        assert first["checkpoints"][str(step)] == {"path": str(path), "revision": weights_revision(path)}
        assert (path / "config.json").is_file() and (path / "tokenizer.json").is_file()
    assert not (root / "rl-a" / "trainer").exists()

    assert second["revision"] == first["revision"]
    assert [c["revision"] for c in second["checkpoints"].values()] == [c["revision"] for c in first["checkpoints"].values()]
    pd.testing.assert_frame_equal(pd.read_csv(root / "rl-b" / "training_log.csv"), log)


def test_grpo_raises_the_reward_on_a_trivially_learnable_case(learnable, trained_twice):
    log = pd.read_csv(learnable[0] / "rl-a" / "training_log.csv")
    assert log["reward"].tail(6).mean() > log["reward"].head(6).mean() + 0.15, log


def test_checkpoint_steps_outside_training_are_refused_before_training(learnable):
    root, problems, spec = learnable
    with pytest.raises(ValueError, match=r"checkpoint steps \[24\]"):
        train_rlvr(root / "base", root / "rl-c", problems, "plain", RlvrSpec(steps=24, checkpoint_steps=(24,)))


@pytest.fixture(scope="module")
def two_step_base(tmp_path_factory):
    """A base model trained for a few steps: enough for two RL steps to run, nothing to learn."""
    root = tmp_path_factory.mktemp("algorithms")
    problems = generate_split("train", 8, seed=0, difficulty=2)
    build_tiny_model(root / "base", TinyModelSpec(seed=0, recipe="base", train_steps=3, hidden_size=16, vocab_size=300,
                                                  max_position_embeddings=128), problems, "plain")
    return root, problems


@pytest.mark.parametrize("algorithm, trainer", [
    ({"trainer": "grpo", "loss_type": "dr_grpo", "scale_rewards": "none", "beta": 0.001},
     {"class": "GRPOTrainer", "loss_type": "dr_grpo", "scale_rewards": "none", "beta": 0.001}),
    ({"trainer": "rloo"}, {"class": "RLOOTrainer", "normalize_advantages": False, "beta": 0.0}),
])
def test_each_algorithm_reaches_trls_config_and_logs_every_step(two_step_base, algorithm, trainer, capfd):
    from rlvr_eval.provenance.scriptlog import logged

    root, problems = two_step_base
    spec = RlvrSpec(seed=0, steps=2, prompts_per_step=2, group_size=4, max_new_tokens=8, **algorithm)
    with logged(root / f"{algorithm['trainer']}.log"):  # as in the rule's job: the trainer's output in the log
        manifest = train_rlvr(root / "base", root / algorithm["trainer"], problems, "plain", spec)
    console = capfd.readouterr().err  # and a line per step of this short run on the console
    assert f"{algorithm['trainer']}: RL step 1 of 2, reward" in console and "RL step 2 of 2" in console
    assert manifest["trainer"] | trainer == manifest["trainer"], manifest["trainer"]  # TRL's config, after training
    assert manifest["trainer"]["num_generations"] == 4
    log = pd.read_csv(root / algorithm["trainer"] / "training_log.csv")
    assert list(log.columns) == LOG_COLUMNS and list(log["step"]) == [1, 2]
    assert log["reward"].between(0, 1).all() and log["completion_length"].between(1, 8).all()
    assert log["entropy"].gt(0).all()
    assert log["kl"].notna().all() == (spec.beta > 0)  # TRL logs the KL only when it computes it


def rl_algorithms_config(**rlvr) -> dict:
    config = yaml.safe_load((REPO / "config" / "rl-algorithms.yaml").read_text())
    config["models"]["rl-rloo"]["rlvr"].update(rlvr)
    return config


def test_the_rl_algorithms_config_is_valid():
    config = validate_config(rl_algorithms_config())
    trainers = {m: (e["rlvr"]["trainer"], e["rlvr"].get("loss_type"), e["rlvr"].get("scale_rewards"))
                for m, e in config["models"].items() if "rlvr" in e}
    assert len(set(trainers.values())) == 5 and len(trainers) == 7  # five algorithms, two ablations of GRPO


@pytest.mark.parametrize("rlvr, message", [
    ({"trainer": "ppo"}, r"models\.rl-rloo\.rlvr\.trainer: 'ppo' is not available: TRL 1\.16 has no PPO trainer"),
    ({"trainer": "remax"}, r"rlvr\.trainer: 'remax' is not available: TRL 1\.16 has no ReMax"),
    ({"trainer": "a2c"}, r"rlvr\.trainer: 'a2c' is not available \(available: grpo, rloo\)"),
    ({"loss_type": "dapo"}, r"rlvr\.loss_type: GRPO settings, but trainer is 'rloo'"),
    ({"trainer": "grpo", "loss_type": "cispo"}, r"rlvr\.loss_type: 'cispo' is not one of grpo, dr_grpo, dapo, bnpo"),
    ({"trainer": "grpo", "scale_rewards": "batch_std"}, r"rlvr\.scale_rewards: 'batch_std' is not one of group"),
])
def test_an_algorithm_trl_does_not_offer_is_a_config_error(rlvr, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(rl_algorithms_config(**rlvr))


def small_rl_demo() -> dict:
    """config/rl-demo.yaml, shrunk to seconds of training."""
    config = yaml.safe_load((REPO / "config" / "rl-demo.yaml").read_text())
    config["benchmarks"]["arith"]["synthetic"].update(problems=4, train_problems=50)
    config["models"]["arith-base"]["tiny"].update(train_steps=5, hidden_size=16, batch_size=8)
    config["models"]["arith-rl"]["rlvr"].update(steps=4, prompts_per_step=1, group_size=2, max_new_tokens=8)
    for name, step in (("arith-rl-step50", 1), ("arith-rl-step100", 2), ("arith-rl-step150", 3)):
        config["models"][name]["checkpoint"]["step"] = step
    return config


def test_the_rules_train_register_checkpoints_and_plan_the_series(tmp_path):
    work = copy_workflow(tmp_path / "wf", small_rl_demo())
    planned = planned_rules(work)
    assert planned["train_rlvr"] == 1 and planned["register_checkpoint"] == 3 and planned["checkpoint_series"] == 1
    assert planned["sample"] == 5  # base, three checkpoints and the final model, like any model
    snakemake(work, "results/models/arith-rl-step100.json")
    trained = json.loads((work / "results/models/arith-rl.json").read_text())
    checkpoint = json.loads((work / "results/models/arith-rl-step100.json").read_text())
    assert checkpoint["revision"] == weights_revision(work / checkpoint["path"]) == trained["checkpoints"]["2"]["revision"]
    assert checkpoint["step"] == 2 and (work / checkpoint["path"]).parent.parent == work / trained["path"]
    data = pd.read_parquet(work / "results/data/train/arith.parquet")
    assert len(data) == 50 and (work / "results/models/arith-rl.json.prov.json").is_file()
    assert snakemake(work, "-n", "results/models/arith-rl-step100.json").stdout.count("rule ") == 0  # cached

    snakemake(work, "results/figures/training_dynamics.png", "results/tables/training_dynamics.md")
    log = pd.read_csv(work / "results/training/arith-rl.csv")
    assert list(log["step"]) == [1, 2, 3, 4]
    pd.testing.assert_frame_equal(log, pd.read_csv(work / trained["path"] / "training_log.csv"))
    table = pd.read_csv(work / "results/tables/training_dynamics.csv")
    assert table[["model", "trainer", "loss_type", "group_size", "steps"]].values.tolist() == [
        ["arith-rl", "GRPOTrainer", "dapo", 2, 4]]  # rl-demo keeps TRL's default loss
    assert table.loc[0, "reward_last"] == pytest.approx(log["reward"].mean())  # 4 steps: all within the window
    assert (work / "results/figures/training_dynamics.pdf").stat().st_size > 0
