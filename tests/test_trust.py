"""No wrong number with exit 0, no finished work lost: the scenarios of a user's edits, deletions, crashes and typos,
each reproduced for real on a copy of the finished demo (conftest's `demo_run`) with the real Snakemake."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from rlvr_eval.io import read_parquet, read_parquet_metadata, sha256_file, write_parquet
from workflow_helpers import MIRROR, executed_rules, planned_outputs, read_config, snakemake, write_config

pytestmark = pytest.mark.slow

SHARD = "results/samples/tiny-rl/gsm8k/shard-0000.parquet"
METRICS = "results/metrics/tiny-base/gsm8k/math_verify/per_problem.parquet"


def rlvr_eval(work: Path, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("rlvr-eval")
    return subprocess.run([str(exe), *args], cwd=work, capture_output=True, text=True, timeout=600)


def config_error(work: Path) -> str:
    proc = snakemake(work, "--dry-run", check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    return "\n".join(line for line in proc.stderr.splitlines() if line.startswith(("Config error", "Code error")))


def test_tiny_model_code_is_stamped_automatically_and_plan_and_audit_agree(demo_copy):
    """The same commit and config give the same numbers whatever results/ held: a change to how the tiny
    models are built rebuilds them (and what follows), and the audit says so too."""
    with open(demo_copy / "src" / "rlvr_eval" / "models" / "tiny_text.py", "a") as f:
        f.write("\n_PROVENANCE_PROBE = 1\n")
    planned = planned_outputs(demo_copy)
    assert planned["build_tiny_model"] == ["results/models/tiny-base", "results/models/tiny-base.json",
                                           "results/models/tiny-rl", "results/models/tiny-rl.json"]
    proc = rlvr_eval(demo_copy, "audit", "results/models")
    assert proc.returncode == 1 and "OUTDATED    results/models/tiny-base.json" in proc.stdout, proc.stdout[-2000:]


def test_a_deleted_intermediate_is_rebuilt(demo_copy):
    table = (demo_copy / "results/tables/passk/gsm8k.csv").read_bytes()
    (demo_copy / METRICS).unlink()
    assert rlvr_eval(demo_copy, "audit").returncode == 1
    proc = snakemake(demo_copy)
    assert executed_rules(proc).get("passk_metrics") == 1, proc.stdout[-3000:]
    assert (demo_copy / "results/tables/passk/gsm8k.csv").read_bytes() == table
    proc = rlvr_eval(demo_copy, "audit")
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_a_typo_in_max_new_tokens_stops_before_any_shard_is_deleted(demo_copy):
    before = sha256_file(demo_copy / SHARD)
    config = read_config(demo_copy)
    config["sampling"]["max_new_tokens"] = 1_000_000_000
    write_config(demo_copy, config)
    assert config_error(demo_copy) == ("Config error: sampling.max_new_tokens: 1000000000 new tokens cannot fit model "
                                       "tiny-base's context of 4096 tokens (prompt included); at most 4095")
    assert sha256_file(demo_copy / SHARD) == before


def test_a_reverted_config_restores_finished_shards_instead_of_resampling(demo_copy):
    original = (demo_copy / SHARD).read_bytes()
    config = read_config(demo_copy)
    config["models"]["tiny-rl"]["sampling"] = {"temperature": 1.3}
    write_config(demo_copy, config)
    snakemake(demo_copy, SHARD)  # Snakemake deletes the old shard before the job resamples it
    assert (demo_copy / SHARD).read_bytes() != original
    del config["models"]["tiny-rl"]["sampling"]
    write_config(demo_copy, config)
    snakemake(demo_copy, SHARD)
    assert (demo_copy / SHARD).read_bytes() == original
    assert "restored from" in (demo_copy / "logs/sample/tiny-rl/gsm8k/shard-0000.log").read_text()


def test_checkpoint_granularity_is_not_a_sampling_parameter(demo_copy):
    config = read_config(demo_copy)
    config["sampling"]["checkpoint_samples"] = 1
    write_config(demo_copy, config)
    assert "Nothing to be done" in snakemake(demo_copy, "--dry-run").stdout


def test_the_plan_uses_the_workflows_own_code_whatever_python_has_installed(demo_copy, monkeypatch):
    """The copy has its own src/; with no PYTHONPATH the interpreter's rlvr_eval is another checkout's (this repo's)."""
    monkeypatch.delenv("PYTHONPATH")
    assert "Nothing to be done" in snakemake(demo_copy, "--dry-run").stdout
    with open(demo_copy / "src" / "rlvr_eval" / "verify" / "math_verify_grader.py", "a") as f:
        f.write("\n_PROVENANCE_PROBE = 1\n")
    planned = planned_outputs(demo_copy)
    assert len(planned["verify"]) == 8 and all("/math_verify/" in o for o in planned["verify"])


def test_the_audit_uses_the_workflows_own_code_whatever_python_has_installed(demo_copy, monkeypatch):
    """As the plan does: the copy's own src/ decides, not the installed rlvr_eval (this repo's, editable)."""
    monkeypatch.delenv("PYTHONPATH")
    with open(demo_copy / "src" / "rlvr_eval" / "sampling" / "shards.py", "a") as f:
        f.write("\n_PROVENANCE_PROBE = 1\n")
    audit = rlvr_eval(demo_copy, "audit", "results/samples")
    assert audit.returncode == 1 and "the sampling code changed since this was made" in audit.stdout, audit.stdout[-2000:]
    logic = rlvr_eval(demo_copy, "logic")
    assert logic.returncode == 1 and "UNDECLARED  the sampling code differs" in logic.stderr
    assert "Code error: the sampling code differs" in snakemake(demo_copy, "--dry-run", check=False).stderr


def test_a_model_left_out_is_named_in_every_global_output(demo_copy):
    """`enabled: false` leaves a model and its pair out; what is built over all models says so, and nothing else of
    the remaining models is recomputed."""
    config = read_config(demo_copy)
    config["models"]["tiny-rl"]["enabled"] = False
    write_config(demo_copy, config)
    ran = executed_rules(snakemake(demo_copy))
    assert set(ran) <= {"passk_table", "passk_figure", "token_nll", "summary", "all"}, ran
    note = "Left out of this run: tiny-rl (enabled: false); pair tiny-zero (its rl model tiny-rl is left out)."
    tables = sorted((demo_copy / "results/tables/passk").glob("*.md")) + [demo_copy / "results/tables/token_nll.md",
                                                                          demo_copy / "results/summary.md"]
    assert tables and all(note in md.read_text() for md in tables)
    assert all("tiny-rl" not in md.read_text().replace(note, "") for md in tables)


def test_a_corrupt_shard_says_how_to_recover_and_recovers(demo_copy):
    shard = demo_copy / SHARD
    with open(shard, "r+b") as f:  # truncated in place
        f.truncate(shard.stat().st_size // 2)
    proc = snakemake(demo_copy, "--keep-going", check=False)  # every reader of the shard runs (and fails)
    assert proc.returncode != 0
    logs = "".join(f.read_text() for f in (demo_copy / "logs/verify/tiny-rl/gsm8k").glob("*/shard-0000.log"))
    assert "the sample file is corrupt or truncated. Delete it and rerun Snakemake to resample" in logs
    shard.unlink()
    proc = snakemake(demo_copy)
    assert executed_rules(proc).get("sample") == 1  # restored from the archive if intact, else resampled
    assert rlvr_eval(demo_copy, "audit").returncode == 0


def test_a_problem_missing_from_the_samples_stops_the_tables(demo_copy):
    df = read_parquet(demo_copy / SHARD)
    missing = df["problem_id"].iloc[0]
    write_parquet(demo_copy / SHARD, df[df["problem_id"] != missing], read_parquet_metadata(demo_copy / SHARD))
    table = (demo_copy / "results/tables/passk/gsm8k.csv").read_bytes()
    proc = snakemake(demo_copy, "--keep-going", check=False)
    assert proc.returncode != 0
    log = (demo_copy / "logs/metrics/tiny-rl/gsm8k/math_verify.log").read_text()
    assert f"1 problems do not have exactly the samples 0…7, e.g. problem {missing}: 4 samples, missing indices " \
           "[0, 1, 2, 3]" in log
    assert (demo_copy / "results/tables/passk/gsm8k.csv").read_bytes() == table  # not remade from 7 problems


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["benchmarks"]["gsm8k"].update(n=8.0), "Config error: benchmarks.gsm8k.n: 8.0 is not of type 'integer'"),
    (lambda c: c["benchmarks"]["gsm8k"].update(limit=100000),
     "Config error: benchmarks.gsm8k.limit: 100000 is more than the 1319 problems of gsm8k; leave `limit` out to use "
     "them all"),
    (lambda c: c["models"]["tiny-rl"].update(path="/nonexistent/model", tiny=None) or c["models"]["tiny-rl"].pop("tiny"),
     "Config error: models.tiny-rl.path: /nonexistent/model does not exist (or is not a directory)"),
])
def test_short_or_wrong_inputs_stop_the_plan(demo_copy, mutate, message):
    config = read_config(demo_copy)
    mutate(config)
    write_config(demo_copy, config)
    assert config_error(demo_copy) == message


def test_a_truncated_benchmark_file_is_refused(demo_copy, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(MIRROR, mirror)
    lines = (mirror / "gsm8k" / "test.jsonl").read_text().splitlines(keepends=True)
    (mirror / "gsm8k" / "test.jsonl").write_text("".join(lines[:5]))  # cut on a line boundary
    config = read_config(demo_copy)
    config["benchmark_source"]["mirror_dir"] = str(mirror)
    write_config(demo_copy, config)
    proc = snakemake(demo_copy, "results/data/gsm8k.parquet", check=False)
    assert proc.returncode != 0
    assert "has 5 problems, the paper's file has 1319" in (demo_copy / "logs/data/gsm8k.log").read_text()


def test_results_are_written_with_the_users_umask(demo_run):
    umask = os.umask(0o022)
    os.umask(umask)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (demo_run / "results").rglob("*") if p.is_file()}
    assert modes == {0o666 & ~umask}, sorted(oct(m) for m in modes)


def test_an_engine_option_keys_the_shard_archive_both_ways(demo_copy):
    """models.tiny-base.max_model_len: 40 leaves no room for any gsm8k prompt, so every sample of the shard is
    prompt_too_long. The full-context shard must not be restored in its place, nor it in the full-context run's
    place once the option is reverted; each is restored where it belongs. (Here with lock files, sampling.lock:
    lockfile, which resamples nothing by itself.)"""
    shard = demo_copy / "results/samples/tiny-base/gsm8k/shard-0000.parquet"
    log = demo_copy / "logs/sample/tiny-base/gsm8k/shard-0000.log"
    full = shard.read_bytes()
    config = read_config(demo_copy)
    config["sampling"]["lock"] = "lockfile"
    write_config(demo_copy, config)
    assert "Nothing to be done" in snakemake(demo_copy, "--dry-run").stdout

    config["models"]["tiny-base"]["max_model_len"] = 40
    write_config(demo_copy, config)
    snakemake(demo_copy, str(shard.relative_to(demo_copy)))
    short = read_parquet(shard)
    assert len(short) == 32 and (short["finish_reason"] == "prompt_too_long").all()
    assert "restored from" not in log.read_text()
    short_bytes = shard.read_bytes()

    del config["models"]["tiny-base"]["max_model_len"]
    write_config(demo_copy, config)
    snakemake(demo_copy)  # everything downstream too: the audit must be clean
    assert shard.read_bytes() == full and "restored from" in log.read_text()
    assert rlvr_eval(demo_copy, "audit").returncode == 0

    config["models"]["tiny-base"]["max_model_len"] = 40
    write_config(demo_copy, config)
    snakemake(demo_copy, str(shard.relative_to(demo_copy)))
    assert shard.read_bytes() == short_bytes and "restored from" in log.read_text()
    assert not list(shard.parent.glob(".*.lockfile"))  # released


def _wait_for(condition, what: str, timeout: float = 600) -> None:
    import time

    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f"no {what} after {timeout:.0f} s"
        time.sleep(0.005)


def test_an_orphaned_perplexity_job_never_overwrites_a_newer_result(demo_copy, tmp_path):
    """Snakemake is killed with SIGKILL while a perplexity job runs; the job lives on, an orphan (here paused, so
    that it ends last). `snakemake --unlock`, another analysis.perplexity.seed, a rerun: whatever the rerun's job
    does meanwhile, the orphan's result, of the old seed, must never become the output. Once the orphan has
    ended, a plain `snakemake` leaves the new seed's result and record, and the audit is clean."""
    import json
    import signal

    target = "results/analysis/perplexity/gsm8k/tiny-base/tiny-rl.parquet"
    out = demo_copy / target
    log = demo_copy / "logs/analysis/perplexity/_groups/tiny-base.log"  # the job of tiny-base's sets (group_by: scorer)
    out.unlink()
    log.unlink()
    (demo_copy / "results/analysis/perplexity/_groups/tiny-base.json").unlink()
    for archive in demo_copy.glob("results/analysis/perplexity/*/tiny-base/.archive"):  # scored again, not restored
        shutil.rmtree(archive)
    cmd = [str(Path(sys.executable).with_name("snakemake")), "--configfile", "config/demo.yaml", "--cores", "2", target]
    with open(tmp_path / "killed-run.log", "w") as f:
        killed = subprocess.Popen(cmd, cwd=demo_copy, start_new_session=True, stdout=f, stderr=subprocess.STDOUT)
    group = killed.pid
    try:
        # the job has started (and, with the fix, claimed its output)
        _wait_for(lambda: log.exists() or killed.poll() is not None, "perplexity job")
        assert killed.poll() is None, f"Snakemake ended first:\n{(tmp_path / 'killed-run.log').read_text()[-3000:]}"
        os.killpg(group, signal.SIGSTOP)  # Snakemake and its job, frozen together
        os.kill(killed.pid, signal.SIGKILL)  # Snakemake only: its job is now an orphan
        killed.wait()
        assert not out.exists(), "the job finished before Snakemake was killed"

        snakemake(demo_copy, "--unlock")
        config = read_config(demo_copy)
        config["analysis"]["perplexity"]["seed"] = 1
        write_config(demo_copy, config)
        rerun = snakemake(demo_copy, target, check=False)
        if rerun.returncode != 0:  # it met the orphan: it says so, and what to do
            assert "another job is computing this output" in log.read_text(), log.read_text()[-3000:]
    finally:
        if killed.poll() is None:  # the test failed before the kill
            killed.kill()
        killed.wait()
        os.killpg(group, signal.SIGCONT)  # the orphan goes on to its end

        def orphan_gone() -> bool:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return True
            return False

        _wait_for(orphan_gone, "end of the orphaned job")
    snakemake(demo_copy)
    assert read_parquet_metadata(out)["seed"] == 1
    record = json.loads(out.with_name(out.name + ".prov.json").read_text())
    assert record["params"]["seed"] == 1
    proc = rlvr_eval(demo_copy, "audit")
    assert proc.returncode == 0, proc.stdout[-3000:]
