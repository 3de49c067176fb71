"""`rlvr-eval audit` on copies of the finished demo (conftest's `demo_run`): clean, altered, missing, stale."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest

from rlvr_eval.io import read_parquet, read_parquet_metadata, sha256_file, write_parquet
from rlvr_eval.provenance.records import SIDECAR_SUFFIX
from workflow_helpers import MIRROR, executed_rules, read_config, snakemake, write_config

pytestmark = pytest.mark.slow

SAMPLE = "results/samples/tiny-base/gsm8k/shard-0000.parquet"
FIGURE = "results/figures/passk_curves.png"


def audit(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("rlvr-eval")
    return subprocess.run([str(exe), "audit", *args], cwd=workdir, capture_output=True, text=True, timeout=600)


def audit_json(workdir: Path, *args: str) -> tuple[int, dict]:
    proc = audit(workdir, "--json", *args)
    return proc.returncode, json.loads(proc.stdout)


def statuses(report: dict) -> dict[str, str]:
    return {f["path"]: f["status"] for f in report["findings"]}


def downstream(workdir: Path, artifact: str) -> set[str]:
    """Every artifact whose record chain reaches `artifact` (from the records themselves)."""
    children: dict[str, set[str]] = {}
    for rec_file in (workdir / "results").rglob(f"*{SIDECAR_SUFFIX}"):
        rec = json.loads(rec_file.read_text())
        for path, entry in rec["inputs"].items():
            if entry.get("record"):
                children.setdefault(path, set()).add(rec["artifact"])
    seen, todo = set(), deque([artifact])
    while todo:
        for child in children.get(todo.popleft(), ()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


@pytest.fixture()
def run(demo_copy):
    return demo_copy


def test_every_file_under_results_has_a_clean_record(run):
    """`rlvr-eval audit` (all of results/): every file is a declared output of a rule that records provenance."""
    proc = audit(run)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "no findings" in proc.stdout


def test_the_finished_demo_audits_clean_and_chains_to_revisions_and_datasets(run):
    targets = [FIGURE, "results/tables/passk/gsm8k.csv", "results/tables/passk/math500.csv",
               "results/grader_agreement/tiny-rl/math500/summary.md"]
    proc = audit(run, *targets)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "no findings" in proc.stdout

    proc = audit(run, "--chain", FIGURE)
    assert proc.returncode == 0, proc.stdout[-6000:]
    out = proc.stdout
    assert out.startswith(f"{FIGURE}  [passk_figure, ok]")
    for path in ("results/tables/passk/gsm8k.csv", "results/metrics/tiny-rl/math500/math_verify/per_problem.parquet",
                 "results/verdicts/tiny-base/gsm8k/math_verify/shard-0001.parquet", SAMPLE,
                 "results/models/tiny-base.json", "results/data/math500.parquet"):
        assert path in out
    models, datasets = out.split("Models:")[1].split("Datasets:")
    assert "tiny-base: revision" in models and "tiny-rl: revision" in models and "weights_sha256" in models
    for benchmark in ("gsm8k", "math500"):
        digest = sha256_file(MIRROR / benchmark / "test.jsonl")
        assert f"{benchmark}: source sha256 {digest}" in datasets
        assert f"{benchmark}/test.jsonl  [source]  sha256 {digest}" in out


def test_an_altered_sample_fails_naming_it_and_everything_downstream(run):
    df = read_parquet(run / SAMPLE)
    df.loc[0, "text"] = "tampered: \\boxed{42}"
    write_parquet(run / SAMPLE, df, read_parquet_metadata(run / SAMPLE))

    rc, report = audit_json(run)
    assert rc == 1
    found = statuses(report)
    assert found[SAMPLE] == "altered"
    expected = downstream(run, SAMPLE)
    assert expected >= {  # the records' own view of downstream, checked against what the workflow means
        "results/verdicts/tiny-base/gsm8k/math_verify/shard-0000.parquet",
        "results/verdicts/tiny-base/gsm8k/qwen_math/shard-0000.parquet",
        "results/metrics/tiny-base/gsm8k/math_verify/per_problem.parquet",
        "results/metrics/tiny-base/gsm8k/math_verify/passk.csv",
        "results/tables/passk/gsm8k.csv", "results/tables/passk/gsm8k.md",
        FIGURE, "results/figures/passk_curves.pdf",
        "results/grader_agreement/tiny-base/gsm8k/summary.md",
    }
    flagged = {p for p, s in found.items() if s != "unrecorded"}
    assert flagged == expected | {SAMPLE}, sorted(flagged ^ (expected | {SAMPLE}))
    assert all(found[p] == "stale" for p in expected)

    proc = audit(run, FIGURE)  # from the figure alone: its lineage
    assert proc.returncode == 1
    assert f"ALTERED     {SAMPLE}" in proc.stdout
    assert "STALE       results/verdicts/tiny-base/gsm8k/math_verify/shard-0000.parquet" in proc.stdout
    assert f"STALE       {FIGURE}" in proc.stdout
    assert "math500" not in "".join(l for l in proc.stdout.splitlines() if l.startswith(("ALTERED", "STALE")))


def test_a_missing_artifact_fails(run):
    gone = "results/verdicts/tiny-rl/math500/qwen_math/shard-0001.parquet"
    (run / gone).unlink()
    rc, report = audit_json(run)
    assert rc == 1
    found = statuses(report)
    assert found[gone] == "missing"
    assert found["results/grader_agreement/tiny-rl/math500/summary.md"] == "stale"
    assert "results/tables/passk/math500.csv" not in found  # tables use math_verify only

    proc = audit(run, "results/figures/no_such_figure.png")
    assert proc.returncode == 1 and "MISSING" in proc.stdout


def test_an_input_remade_after_its_consumers_makes_them_stale(run):
    """Resample one shard for real (new temperature) without rerunning what was made from it."""
    config = read_config(run)
    config["models"]["tiny-base"]["sampling"] = {"temperature": 1.5}
    write_config(run, config)
    proc = snakemake(run, SAMPLE)
    assert executed_rules(proc) == {"sample": 1}, proc.stdout[-3000:] + proc.stderr[-3000:]

    rc, report = audit_json(run)
    assert rc == 1
    found = statuses(report)
    assert SAMPLE not in found  # itself: content matches its (new) record
    verdict = "results/verdicts/tiny-base/gsm8k/math_verify/shard-0000.parquet"
    assert found[verdict] == "stale"
    problem = next(f for f in report["findings"] if f["path"] == verdict)["problems"][0]["detail"]
    assert f"input {SAMPLE} changed since this was made" in problem
    assert {p for p, s in found.items() if s != "unrecorded"} == downstream(run, SAMPLE)


def test_files_without_a_record_are_reported(run):
    (run / "results" / "tables" / "passk" / "hand_made.csv").write_text("k,x\n1,0.5\n")
    proc = audit(run, "results/tables")
    assert proc.returncode == 1
    assert "UNRECORDED  results/tables/passk/hand_made.csv" in proc.stdout


def test_sampling_code_changed_without_a_declaration_fails_the_audit_and_the_plan(run):
    """Sampling code edited: nothing is resampled by itself, but neither the audit nor Snakemake pass until the edit
    is declared output-neutral (accept) or the version bumped (then Snakemake resamples, and the audit agrees)."""
    with open(run / "src" / "rlvr_eval" / "sampling" / "shards.py", "a") as f:
        f.write("\n_PROVENANCE_PROBE = 1\n")
    proc = audit(run, "results/samples")
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert f"OUTDATED    {SAMPLE}" in proc.stdout
    assert "the sampling code changed since this was made" in proc.stdout
    plan = snakemake(run, "--dry-run", check=False)
    assert plan.returncode != 0 and "Code error: the sampling code differs" in plan.stderr

    logic = subprocess.run([str(Path(sys.executable).with_name("rlvr-eval")), "logic", "--accept", "sampling"],
                           cwd=run, capture_output=True, text=True)
    assert logic.returncode == 0, logic.stderr
    assert audit(run, "results/samples").returncode == 0
    assert "Nothing to be done" in snakemake(run, "--dry-run").stdout
