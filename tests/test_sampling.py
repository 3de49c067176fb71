import copy
import re
import subprocess
import sys

import pandas as pd
import pytest

from rlvr_eval.sampling.backends import SamplingParams, load_backend
from rlvr_eval.data.benchmarks import load_benchmark
from rlvr_eval.io import read_parquet, read_parquet_metadata
from rlvr_eval.sampling.prompts import render_prompt
from rlvr_eval.sampling.claims import SupersededError, claim_output
from rlvr_eval.sampling.shards import (SAMPLE_COLUMNS, ShardLockedError, ShardSpec, archive_path, problems_per_checkpoint,
                                       sample_shard, shard_hold, shard_key, shard_lock, shard_sizes)
from workflow_helpers import REPO

PARAMS = SamplingParams(temperature=0.6, top_p=0.95, max_new_tokens=8)


@pytest.fixture(scope="module")
def backend(tiny_model_dir):
    return load_backend("transformers", str(tiny_model_dir))


@pytest.fixture(scope="module")
def problems(mirror):
    return load_benchmark("gsm8k", mirror, limit=5)[0]


def test_shard_sizes_split_n_into_fixed_shards():
    assert shard_sizes(8, 4) == [4, 4]
    assert shard_sizes(10, 4) == [4, 4, 2]
    assert shard_sizes(3, 4) == [3]


def test_checkpoints_are_sized_in_samples():
    # AIME24 with a 1,024-sample shard and 1,024 samples per checkpoint: one problem per checkpoint, 30 of them
    assert problems_per_checkpoint(1024, 1024) == 1
    assert problems_per_checkpoint(1024, 64) == 16
    assert problems_per_checkpoint(10, 64) == 1  # never less than one problem


def test_sample_file_schema_and_metadata(backend, problems, tmp_path):
    spec = ShardSpec("tiny", "gsm8k", shard=1, shard_size=3, num_samples=3, seed=7)
    out = tmp_path / "shard-0001.parquet"
    df = sample_shard(problems, backend, spec, "qwen-boxed", PARAMS, out, checkpoint_samples=6, progress=False)
    assert list(df.columns) == SAMPLE_COLUMNS
    assert len(df) == 5 * 3
    assert sorted(set(df["sample_index"])) == [3, 4, 5]  # shard 1 of size 3 holds samples 3..5
    assert df["finish_reason"].isin(["stop", "length"]).all()
    assert (df["num_tokens"] <= PARAMS.max_new_tokens).all() and (df["num_tokens"] >= 1).all()
    assert (df["max_tokens"] == PARAMS.max_new_tokens).all()  # short prompts: nothing capped
    meta = read_parquet_metadata(out)
    assert meta["spec"]["seed"] == 7 and meta["params"]["temperature"] == 0.6
    # the template's stop strings, with those the paper's code adds for its qwen templates (sampling.stop_strings)
    assert meta["params"]["stop"] == ["<|im_end|>", "<|endoftext|>", "</s>", "assistant", "user", "_end", "_start"]
    assert meta["backend"]["backend"] == "transformers" and meta["template"] == "qwen-boxed"
    assert meta["problems_per_checkpoint"] == 2 and meta["capped_samples"] == 0 == meta["prompt_too_long_samples"]
    assert not out.with_name(out.name + ".partial").exists()


def test_samples_depend_on_seed_not_on_checkpointing(backend, problems, tmp_path):
    spec = ShardSpec("tiny", "gsm8k", shard=0, shard_size=4, num_samples=4, seed=3)
    a = sample_shard(problems, backend, spec, "qwen-boxed", PARAMS, tmp_path / "a.parquet", checkpoint_samples=1,
                     progress=False)
    b = sample_shard(problems, backend, spec, "qwen-boxed", PARAMS, tmp_path / "b.parquet", checkpoint_samples=20,
                     progress=False)
    pd.testing.assert_frame_equal(a, b)
    other_shard = ShardSpec("tiny", "gsm8k", shard=1, shard_size=4, num_samples=4, seed=3)
    c = sample_shard(problems, backend, other_shard, "qwen-boxed", PARAMS, tmp_path / "c.parquet", progress=False)
    assert c["text"].tolist() != a["text"].tolist()


def test_a_sampling_job_shows_on_the_console_how_far_it_is(backend, problems, tmp_path, capfd):
    from rlvr_eval.provenance.scriptlog import logged

    spec = ShardSpec("tiny", "gsm8k", shard=0, shard_size=2, num_samples=2, seed=3)
    with logged(tmp_path / "job.log"):  # as in a rule script: prints go to the log
        sample_shard(problems, backend, spec, "qwen-boxed", PARAMS, tmp_path / "a.parquet")
    console = capfd.readouterr().err
    assert f"tiny/gsm8k/shard-0: {len(problems)} of {len(problems)} problems sampled" in console
    assert "problems sampled" in (tmp_path / "job.log").read_text()


class Streaming:
    """A backend that streams (as vLLM's does): the transformers backend's completions, prompt by prompt, last
    prompt first; `stop_after` finished prompts, it dies as a killed job would."""

    def __init__(self, backend, stop_after=None):
        self.backend, self.stop_after, self.given = backend, stop_after, []

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def generate_stream(self, prompts, n, seeds, params, max_tokens=None):
        self.given.append(len(prompts))
        for k, i in enumerate(reversed(range(len(prompts)))):
            if k == self.stop_after:
                raise KeyboardInterrupt("killed")
            yield i, self.backend.generate([prompts[i]], n, [seeds[i]], params, [max_tokens[i]])[0]


def test_a_streaming_backend_checkpoints_each_finished_problem_and_resumes_from_them(backend, problems, tmp_path):
    """Every problem goes to the engine at once and is kept as it finishes; a killed job's rerun samples only the
    rest (a line torn by the kill included) and writes the shard an uninterrupted run writes."""
    spec = ShardSpec("tiny", "gsm8k", 0, 3, 3, 5)
    out = tmp_path / "shard-0000.parquet"
    log = out.with_name(out.name + ".partial") / "finished.jsonl"
    killed = Streaming(backend, stop_after=3)
    with pytest.raises(KeyboardInterrupt):
        sample_shard(problems, killed, spec, "qwen-boxed", PARAMS, out, progress=False)
    assert killed.given == [5] and len(log.read_text().splitlines()) == 3 and not out.exists()
    with open(log, "a") as f:
        f.write('{"i": 1, "completions": [["cut sh')  # a write the kill cut short
    resumed_backend = Streaming(backend)
    resumed = sample_shard(problems, resumed_backend, spec, "qwen-boxed", PARAMS, out, progress=False)
    assert resumed_backend.given == [2] and read_parquet_metadata(out)["resumed_problems"] == 3
    fresh = sample_shard(problems, Streaming(backend), spec, "qwen-boxed", PARAMS, tmp_path / "fresh.parquet",
                         progress=False)
    chunked = sample_shard(problems, backend, spec, "qwen-boxed", PARAMS, tmp_path / "chunked.parquet",
                           checkpoint_samples=3, progress=False)
    pd.testing.assert_frame_equal(resumed, fresh)
    pd.testing.assert_frame_equal(read_parquet(out), read_parquet(tmp_path / "chunked.parquet"))  # problem order
    assert read_parquet_metadata(tmp_path / "fresh.parquet")["checkpoints"] == "each finished problem"
    assert chunked["problem_id"].tolist() == resumed["problem_id"].tolist()


def test_stale_checkpoints_of_another_configuration_are_discarded(backend, problems, tmp_path):
    out = tmp_path / "shard-0000.parquet"
    partial = out.with_name(out.name + ".partial")
    partial.mkdir()
    (partial / "fingerprint.json").write_text('{"spec": "something else"}')
    (partial / "chunk-00000.parquet").write_text("not parquet")
    spec = ShardSpec("tiny", "gsm8k", 0, 2, 2, 0)
    df = sample_shard(problems, backend, spec, "qwen-boxed", PARAMS, out, checkpoint_samples=4, progress=False)
    assert len(df) == 10 and read_parquet(out).equals(df)


@pytest.fixture(scope="module")
def short_context_model(tmp_path_factory, problems):
    """A tiny model whose whole context is 96 tokens."""
    from rlvr_eval.models.tiny_spec import TinyModelSpec
    from rlvr_eval.models.tiny_text import build_tiny_model

    out = tmp_path_factory.mktemp("tiny-96")
    build_tiny_model(out, TinyModelSpec(seed=0, max_position_embeddings=96), problems, "plain")
    return out


def test_long_prompts_are_capped_or_skipped_never_failing_the_shard(short_context_model, tmp_path):
    """Prompts of 20 to 120 tokens against a 96-token context: each sample's budget is what the context leaves
    (recorded, finish_reason "length" where it ran out); the one prompt that fills the context alone is recorded
    as prompt_too_long; the shard completes, and the table counts both."""
    from rlvr_eval.metrics.passk import per_problem_counts
    from rlvr_eval.metrics.tables import sample_counts
    from rlvr_eval.verify.driver import verify_samples

    backend = load_backend("transformers", str(short_context_model))
    assert backend.context_limit == 96
    words = {"a": 1, "b": 30, "c": 55, "d": 70, "e": 100}  # question lengths, in words (one token each)
    problems = pd.DataFrame({"problem_id": list(words), "question": [" ".join(["the"] * w) for w in words.values()],
                             "reference": "7", "solution": "", "metadata": "{}"})
    lengths = dict(zip(words, backend.prompt_lengths([render_prompt("plain", q) for q in problems["question"]])))
    assert min(lengths.values()) >= 20 and max(lengths.values()) <= 130 and sum(n >= 96 for n in lengths.values()) == 1
    params = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=48)
    spec = ShardSpec("tiny96", "synthetic", 0, 3, 3, 0)
    df = sample_shard(problems, backend, spec, "plain", params, tmp_path / "shard-0000.parquet", progress=False)

    budget = df.groupby("problem_id")["max_tokens"].first()
    for pid, n in lengths.items():
        assert budget[pid] == max(0, min(48, 96 - n)), (pid, n, budget[pid])
    long = df[df["problem_id"] == "e"]
    assert (long["finish_reason"] == "prompt_too_long").all() and (long["text"] == "").all()
    sampled = df[df["problem_id"] != "e"]
    assert (sampled["num_tokens"] <= sampled["max_tokens"]).all()
    meta = read_parquet_metadata(tmp_path / "shard-0000.parquet")
    capped = sum(0 < budget[p] < 48 for p in words)
    assert capped == 3 and meta["capped_samples"] == 3 * capped and meta["prompt_too_long_samples"] == 3

    verdicts = verify_samples(df, problems, "math_verify", timeout_s=10, workers=1, max_new_tokens=48)
    assert (verdicts.loc[verdicts["problem_id"] == "e", "status"] == "prompt_too_long").all()
    counts = sample_counts({"tiny96": per_problem_counts(verdicts)}).iloc[0]
    assert (counts["samples"], counts["capped"], counts["prompt_too_long"]) == (15, 3 * capped, 3)


def test_a_finished_shard_is_restored_not_resampled_after_its_output_is_deleted(backend, problems, tmp_path):
    class NoGeneration:
        tokenizer, context_limit, prompt_lengths = backend.tokenizer, backend.context_limit, backend.prompt_lengths

        def generate(self, *args):
            raise AssertionError("resampled")

    spec = ShardSpec("tiny", "gsm8k", 0, 2, 2, 1)
    out = tmp_path / "shard-0000.parquet"
    first = sample_shard(problems, backend, spec, "qwen-boxed", PARAMS, out, progress=False)
    out.unlink()  # as Snakemake does before rerunning a job whose params changed (and were changed back)
    restored = sample_shard(problems, NoGeneration(), spec, "qwen-boxed", PARAMS, out, progress=False)
    pd.testing.assert_frame_equal(first, restored)
    # another configuration is not restored from it
    with pytest.raises(AssertionError, match="resampled"):
        sample_shard(problems, NoGeneration(), spec, "qwen-boxed", SamplingParams(0.7, 0.95, 8), out, progress=False)
    # an archived shard whose content changed (a hard link edited in place) is never restored
    out.unlink()
    archived = next((tmp_path / ".archive" / "shard-0000").glob("*.parquet"))
    archived.write_bytes(archived.read_bytes()[:100])
    with pytest.raises(AssertionError, match="resampled"):
        sample_shard(problems, NoGeneration(), spec, "qwen-boxed", PARAMS, out, progress=False)


def test_a_restore_loads_no_model(backend, problems, tmp_path):
    """Given a function that builds the backend, a job that restores its shard from the archive never calls it:
    no model loaded, no engine started (on a cluster: no GPU time spent on it)."""
    def open_backend():
        raise AssertionError("a model was loaded")

    spec = ShardSpec("tiny", "gsm8k", 0, 2, 2, 5)
    out = tmp_path / "shard-0000.parquet"
    first = sample_shard(problems, backend, spec, "qwen-boxed", PARAMS, out, progress=False)
    out.unlink()
    restored = sample_shard(problems, open_backend, spec, "qwen-boxed", PARAMS, out, progress=False)
    pd.testing.assert_frame_equal(restored, first)


def sample_rule_params(grid, model: str, benchmark: str, shard: str) -> dict:
    """The `sample` rule's params (workflow/rules/sampling.smk) as its job sees them: the script passes them all
    to sample_shard as job_params."""
    return {"template": grid.template(model, benchmark), "prompt": grid.prompt_params(model, benchmark),
            "sampling": grid.sampling_params(model, benchmark).to_dict(),
            "num_samples": grid.shard_num_samples(model, benchmark, shard), "shard_size": grid.shard_size,
            "seed": grid.config["sampling"]["seed"], "backend": grid.backend(model),
            "backend_options": grid.backend_options(model), "logic": "sampling:3"}


def test_sample_rule_params_lists_every_param_of_the_rule():
    from rlvr_eval.planning.config import load_config
    from rlvr_eval.planning.grid import Grid

    rule = (REPO / "workflow" / "rules" / "sampling.smk").read_text().split("rule sample:")[1].split("\nrule ")[0]
    params = rule.split("params:")[1].split("resources:")[0]
    grid = Grid(load_config(REPO / "config" / "demo.yaml"))
    assert re.findall(r"^ {8}(\w+)=", params, flags=re.M) == list(sample_rule_params(grid, "tiny-base", "gsm8k", "0000"))


@pytest.mark.parametrize("option, value", [
    ("backend", "transformers"), ("max_model_len", 2048), ("dtype", "float16"), ("enforce_eager", True),
    ("enable_chunked_prefill", False), ("tensor_parallel_size", 2), ("gpu_memory_utilization", 0.5),
    ("min_pixels", 3136), ("max_pixels", 200704),
])
def test_every_backend_and_engine_option_keys_the_archive(problems, option, value):
    """A shard sampled with another backend or engine option is never restored in place of this one; reverting the
    option finds this one again. The key takes the rule's params whole, so an option that reruns the job keys it."""
    from rlvr_eval.planning.config import load_config
    from rlvr_eval.planning.grid import Grid

    config = load_config(REPO / "config.yaml")
    model = "qwen2.5-vl-7b-instruct" if option.endswith("_pixels") else "qwen2.5-7b"

    def key(cfg):
        grid = Grid(cfg)
        spec = ShardSpec(model, "gsm8k", 0, grid.shard_size, 64, 42)
        return shard_key(problems, spec, grid.template(model, "gsm8k"), grid.sampling_params(model, "gsm8k"),
                         {"model_manifest": {"revision": "abc"}}, sample_rule_params(grid, model, "gsm8k", "0000"))

    before = key(config)
    changed = copy.deepcopy(config)
    assert changed["models"][model].get(option) != value
    changed["models"][model][option] = value
    assert archive_path(REPO / "shard-0000.parquet", key(changed)) != archive_path(REPO / "shard-0000.parquet", before)
    assert key(copy.deepcopy(config)) == before


def test_a_superseded_job_keeps_its_samples_in_the_archive_but_leaves_the_output_alone(backend, problems, tmp_path):
    """An orphan of a killed Snakemake, still sampling when a rerun's job claims the same shard: its samples are not
    lost (archived under their own key), but the output is the newer job's."""
    out = tmp_path / "shard-0000.parquet"
    spec = ShardSpec("tiny", "gsm8k", 0, 2, 2, 9)

    class RerunStartsMeanwhile:
        tokenizer, context_limit, prompt_lengths, info = backend.tokenizer, backend.context_limit, backend.prompt_lengths, backend.info

        def generate(self, *args):
            claim_output(out)  # the rerun's job starts (and fails on the lock: the orphan holds it)
            return backend.generate(*args)

    with shard_hold(out) as orphan:
        with pytest.raises(SupersededError):
            sample_shard(problems, RerunStartsMeanwhile(), spec, "qwen-boxed", PARAMS, out, progress=False, hold=orphan)
    assert not out.exists()

    class NoGeneration:
        def generate(self, *args):
            raise AssertionError("resampled")

    with shard_hold(out) as later:  # a later job with the orphan's configuration restores its samples
        restored = sample_shard(problems, NoGeneration(), spec, "qwen-boxed", PARAMS, out, progress=False, hold=later)
    assert len(restored) == 5 * 2


def _lock_holder(out):
    """A separate process that takes the shard's lock and keeps it until killed or its stdin closes."""
    code = ("import sys; from rlvr_eval.sampling.shards import shard_lock\n"
            f"with shard_lock(__import__('pathlib').Path({str(out)!r})):\n"
            "    print('locked', flush=True); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_one_process_at_a_time_per_shard(tmp_path):
    """E.g. `snakemake --unlock` and a rerun while an orphaned job of a killed Snakemake still samples the shard."""
    out = tmp_path / "shard-0000.parquet"
    holder = _lock_holder(out)
    with pytest.raises(ShardLockedError, match=rf"another process is sampling this shard \(pid {holder.pid} on "):
        with shard_lock(out):
            pass
    holder.communicate("")  # it finishes: the lock is free
    with shard_lock(out):
        pass
    holder = _lock_holder(out)
    holder.kill()  # a holder killed with SIGKILL releases it too
    holder.wait()
    with shard_lock(out):
        pass


def test_prompt_templates_render_the_question_verbatim():
    question = "What is {x} in \\frac{1}{2}?"
    for template in ("qwen-boxed", "qwen25-math-cot", "dapo", "r1-think", "plain"):
        prompt = render_prompt(template, question)
        assert question in prompt
    assert render_prompt("dapo", "Q").count("Answer:") == 2
    with pytest.raises(ValueError, match="unknown prompt template 'nope'"):
        render_prompt("nope", question)


def test_each_sample_keeps_the_log_prob_sum_of_its_tokens(backend, problems):
    """The sum recorded while sampling equals the model's own log-probs of the same tokens, recomputed by one
    forward pass over prompt + response (temperature 1, no top-p: the raw distribution, as vLLM reports it)."""
    import torch

    prompt = render_prompt("qwen-boxed", problems["question"].iloc[0])
    params = SamplingParams(temperature=0.6, top_p=0.9, max_new_tokens=10)
    completions = backend.generate([prompt], 3, [11], params)[0]
    # the same draw again, without the backend (same seed, same warpers): the sampled token ids
    model, enc = backend.model, backend.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    torch.manual_seed(11)
    with torch.no_grad():
        seqs = model.generate(**enc, do_sample=True, temperature=0.6, top_p=0.9, top_k=0, max_new_tokens=10,
                              num_return_sequences=3, pad_token_id=backend.pad_id)
        logits = model(seqs).logits[:, enc["input_ids"].shape[1] - 1:-1]
    prompt_len = enc["input_ids"].shape[1]
    per_token = torch.log_softmax(logits.float(), -1).gather(2, seqs[:, prompt_len:, None])[..., 0]
    for c, row in zip(completions, per_token):
        assert c.logprob_sum == pytest.approx(row[: c.num_tokens].sum().item(), abs=1e-4) and c.logprob_sum < 0
    assert [c.text for c in completions] == [backend._to_completion(r, params, [0.0] * 10).text
                                             for r in seqs[:, prompt_len:].tolist()]  # sampling itself unchanged


def test_a_tiny_stand_in_for_a_chat_template_model_prompts_with_its_own_chat_template(problems, tmp_path):
    """The miniature's stand-in for an R1-distilled model (template 'chat': the tokenizer's own) builds, and the
    prompts it was built on are the ones sampling renders with its tokenizer."""
    from transformers import AutoTokenizer

    from rlvr_eval.models.tiny_spec import TinyModelSpec, tiny_prompt
    from rlvr_eval.models.tiny_text import build_tiny_model

    build_tiny_model(tmp_path, TinyModelSpec(seed=0, recipe="base", train_steps=1), problems.head(4), "chat")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    question = problems["question"].iloc[0]
    assert render_prompt("chat", question, tokenizer) == tiny_prompt("chat", question)
    assert tiny_prompt("chat", question).startswith("<|im_start|>user\n" + question.strip())
