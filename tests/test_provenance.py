"""Provenance records (rlvr_eval.provenance.records, rlvr_eval.provenance.scriptlog.logged) and logic stamps, without Snakemake."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from rlvr_eval.provenance import closure, records, stamps
from rlvr_eval.io import read_json, sha256_file, write_json, write_parquet
from rlvr_eval.provenance.scriptlog import logged

REPO = Path(__file__).resolve().parents[1]


class Namedlist(list):
    """Enough of snakemake.io.Namedlist: a list whose named items are also attributes."""

    def __init__(self, items=(), **named):
        super().__init__(list(items) + list(named.values()))
        self._names = dict(named)
        for k, v in named.items():
            setattr(self, k, v)

    def items(self):
        return self._names.items()


class FakeSnakemake:
    def __init__(self, rule, input=(), output=(), params=None, wildcards=None, log=(), **named_io):
        self.rule = rule
        self.input = Namedlist(input, **named_io.get("named_input", {}))
        self.output = Namedlist(output, **named_io.get("named_output", {}))
        self.params = Namedlist(**(params or {}))
        self.wildcards = Namedlist(**(wildcards or {}))
        self.log = Namedlist(log)
        self.scriptdir = str(REPO / "workflow" / "scripts")


@pytest.fixture()
def job_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_parquet("results/data/gsm8k.parquet", pd.DataFrame({"problem_id": ["0"], "question": ["1+1?"]}),
                  {"benchmark": "gsm8k", "source": {"kind": "mirror", "path": "/m/gsm8k/test.jsonl", "sha256": "ab" * 32},
                   "limit": 1, "problems": 1})
    Path("source.jsonl").write_text('{"q": 1}\n')
    return tmp_path


def test_record_content(job_dir):
    upstream = FakeSnakemake("prepare_benchmark", input=["source.jsonl"], output=["results/data/x.parquet"],
                             params={"limit": 1, "logic": stamps.logic_version("data")},
                             wildcards={"benchmark": "x"}, log=["logs/x.log"])
    with logged(upstream) as prov:
        print("hello from the job")
        Path("results/data/x.parquet").write_text("table")
        prov.add_dataset("x", {"source": {"kind": "mirror", "path": "source.jsonl", "sha256": sha256_file("source.jsonl")},
                               "problems": 1, "limit": 1}, table="results/data/x.parquet")
    assert "hello from the job" in Path("logs/x.log").read_text()

    smk = FakeSnakemake("sample", output=["results/samples/m/x/shard-0000.parquet", "results/weights"],
                        params={"seed": 42, "sampling": {"temperature": 0.6}, "logic": stamps.logic_version("sampling")},
                        wildcards={"model": "m", "benchmark": "x", "shard": "0000"}, log=["logs/sample.log"],
                        named_input={"problems": "results/data/x.parquet", "model": "results/models/m.json"})
    write_json("results/models/m.json", {"path": "results/weights", "revision": "c0ffee" * 6 + "abcd", "hf_id": "org/m"})
    with logged(smk) as prov:
        Path("results/samples/m/x").mkdir(parents=True)
        Path("results/samples/m/x/shard-0000.parquet").write_bytes(b"samples")
        Path("results/weights").mkdir()
        Path("results/weights/a.bin").write_bytes(b"a")
        Path("results/weights/sub").mkdir()
        Path("results/weights/sub/b.bin").write_bytes(b"b")
        prov.seeds["problem_seed"] = "derive_seed(...)"

    rec = read_json("results/samples/m/x/shard-0000.parquet.prov.json")
    assert rec["schema"] == records.SCHEMA_VERSION
    assert rec["artifact"] == "results/samples/m/x/shard-0000.parquet"
    assert rec["rule"] == "sample" and rec["wildcards"] == {"model": "m", "benchmark": "x", "shard": "0000"}
    assert rec["params"]["sampling"] == {"temperature": 0.6}
    assert rec["logic"]["stamp"] == stamps.logic_version("sampling") and rec["logic"]["stage"] == "sampling"
    assert "rlvr_eval.sampling.shards" in rec["logic"]["sources"]  # what the manual stamp stands for, for audit's notes
    # outputs: files by sha256, directories by a manifest of their files
    out = rec["outputs"]["results/samples/m/x/shard-0000.parquet"]
    assert out == {"kind": "file", "sha256": sha256_file("results/samples/m/x/shard-0000.parquet"), "bytes": 7}
    weights = rec["outputs"]["results/weights"]
    assert weights["kind"] == "dir" and weights["files"] == {"a.bin": sha256_file("results/weights/a.bin"),
                                                             "sub/b.bin": sha256_file("results/weights/sub/b.bin")}
    assert weights["sha256"] == records.manifest_digest(weights["files"])
    # inputs: hashes and pointers to their own records (null for a file without one)
    data = rec["inputs"]["results/data/x.parquet"]
    assert data["sha256"] == sha256_file("results/data/x.parquet")
    assert data["record"] == "results/data/x.parquet.prov.json"
    assert data["record_sha256"] == sha256_file("results/data/x.parquet.prov.json")
    assert rec["inputs"]["results/models/m.json"]["record"] is None
    # roots: the dataset from the input's record, the model from its (unrecorded) manifest
    assert rec["roots"]["datasets"]["x"]["sha256"] == sha256_file("source.jsonl")
    assert rec["roots"]["models"]["m"]["revision"] == "c0ffee" * 6 + "abcd"
    assert rec["seeds"] == {"seed": 42, "problem_seed": "derive_seed(...)"}
    assert set(rec["packages"]) >= {"python", "torch", "transformers", "vllm", "math-verify", "snakemake", "numpy", "pandas"}
    assert rec["packages"]["snakemake"] and rec["packages"]["numpy"]
    assert {"git_commit", "git_dirty", "package_sha256", "package_version"} <= set(rec["code"])
    assert {"hostname", "gpus", "slurm_job_id"} <= set(rec["host"])
    assert rec["started"] <= rec["finished"] and rec["seconds"] >= 0
    # one sidecar per output, the same record
    rec2 = read_json("results/weights.prov.json")
    assert rec2["artifact"] == "results/weights" and {**rec2, "artifact": None} == {**rec, "artifact": None}


def test_failed_job_leaves_no_record_and_removes_the_old_one(job_dir):
    smk = FakeSnakemake("passk_table", input=["results/data/gsm8k.parquet"], output=["results/t.csv"],
                        params={"logic": "tables:auto-x"}, log=["logs/t.log"])
    with logged(smk):
        Path("results/t.csv").write_text("k\n1\n")
    assert records.read_record("results/t.csv")["outputs"]["results/t.csv"]["sha256"] == sha256_file("results/t.csv")
    with pytest.raises(RuntimeError), logged(smk):
        raise RuntimeError("boom")
    assert not Path("results/t.csv.prov.json").exists()
    assert "RuntimeError: boom" in Path("logs/t.log").read_text()


def test_a_job_that_no_longer_owns_its_output_never_touches_it_or_its_record(job_dir):
    """An orphan of a killed Snakemake, paused before its lock while a rerun's job ran to its end (sampling and
    perplexity jobs hold their output: rlvr_eval.sampling.holds)."""
    from rlvr_eval.sampling.claims import SupersededError
    from rlvr_eval.sampling.holds import OutputHold

    smk = FakeSnakemake("perplexity", input=["results/data/gsm8k.parquet"], output=["results/p.csv"],
                        params={"logic": "tables:auto-x", "seed": 1}, log=["logs/p.log"])
    orphan = OutputHold("results/p.csv")  # claimed as it started
    with logged(smk, hold=OutputHold("results/p.csv")):  # the rerun's job
        Path("results/p.csv").write_text("seed 1\n")
    with pytest.raises(SupersededError), logged(smk, hold=orphan):
        Path("results/p.csv").write_text("seed 0\n")
    assert Path("results/p.csv").read_text() == "seed 1\n"
    assert records.read_record("results/p.csv")["outputs"]["results/p.csv"]["sha256"] == sha256_file("results/p.csv")
    assert "a newer job" in Path("logs/p.log").read_text()


def test_logged_with_a_path_only_logs(tmp_path):
    with logged(tmp_path / "x.log") as prov:
        print("plain")
    assert prov is None and "plain" in (tmp_path / "x.log").read_text()


def test_the_log_also_takes_what_child_processes_print_and_late_writes_of_libraries(tmp_path, capfd):
    """vLLM's engine runs in a child process, and its logger keeps the stream it found at import: both end up in
    the job's log, and nothing writes to a closed file after the job's body."""
    with logged(tmp_path / "x.log"):
        subprocess.run([sys.executable, "-c", "import sys; print('child out'); print('child err', file=sys.stderr)"],
                       check=True)
        kept_by_a_library = sys.stdout
    kept_by_a_library.write("written at exit\n")
    kept_by_a_library.flush()
    print("after the job")
    text = (tmp_path / "x.log").read_text()
    assert "child out" in text and "child err" in text and "written at exit" in text
    assert "after the job" not in text and "after the job" in capfd.readouterr().out


def test_progress_reaches_the_console_as_well_as_the_log(tmp_path, capfd):
    """A job's prints go to its log; its progress lines also to the stderr it started with (the console of
    `snakemake --cores N`), so a long sampling or training job shows that it advances."""
    from rlvr_eval.console import progress

    with logged(tmp_path / "x.log"):
        print("detail")
        progress("tiny-base/gsm8k/shard-0000: 4 of 8 problems sampled (12 s)")
    console = capfd.readouterr().err
    assert "4 of 8 problems sampled" in console and "detail" not in console
    text = (tmp_path / "x.log").read_text()
    assert "detail" in text and "4 of 8 problems sampled" in text


def test_normalised_digest_ignores_comments_docstrings_and_layout():
    a = 'def f(x):\n    """Doc."""\n    return x + 1  # add one\n'
    b = '# a comment\ndef f(x):\n\n    return (x +\n            1)\n'
    c = 'def f(x):\n    return x + 2\n'
    assert closure.normalised_source_digest(a) == closure.normalised_source_digest(b)
    assert closure.normalised_source_digest(a) != closure.normalised_source_digest(c)


def test_closure_follows_package_imports_but_not_bookkeeping_modules():
    stamps.set_workflow_dir(REPO)
    sources = stamps.logic_details("figures")["sources"]
    assert {"script:passk_figure.py", "rlvr_eval.plots.passk_curves", "rlvr_eval.io", "rlvr_eval.plots"} <= set(sources)
    assert not any(closure.is_neutral(s) for s in sources)  # scriptlog is imported by every script
    sampling = stamps.logic_details("sampling")["sources"]
    assert "rlvr_eval.sampling.backends.transformers_backend" in sampling  # imported inside a function


def test_stamps():
    stamps.set_workflow_dir(REPO)
    assert stamps.logic_version("sampling") == f"sampling:manual-{stamps.manual_stamps()['sampling']['version']}"
    assert stamps.undeclared_manual_code() == []  # every manual stage's code is declared (manual_stamps.yaml)
    stamp = stamps.logic_version("verify", grader="math_verify")
    assert re.fullmatch(r"verify\[grader=math_verify\]:auto-[0-9a-f]{12}", stamp)
    assert stamps.parse_stamp(stamp)["grader"] == "math_verify"
    assert stamps.logic_version("figures", script="passk_figure.py").startswith("figures[script=passk_figure.py]:auto-")
    with pytest.raises(ValueError):
        stamps.logic_version("no-such-stage")


def test_grader_stamp_follows_its_own_module_only(tmp_path, monkeypatch):
    """Editing one grader's module changes that grader's stamp, not the other's; a comment changes nothing. (The
    fast path reaches each grader's span code by name, verify.graders.grader_module, never by import.)"""
    pkg = tmp_path / "rlvr_eval"
    shutil.copytree(closure.PACKAGE_ROOT, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(closure, "PACKAGE_ROOT", pkg)
    stamps.set_workflow_dir(REPO)
    before = {g: stamps.logic_version("verify", grader=g) for g in ("math_verify", "qwen_math")}
    metrics = stamps.logic_version("metrics")
    grader_file = pkg / "verify" / "math_verify_grader.py"
    grader_file.write_text(grader_file.read_text() + "\n# only a comment\n")
    stamps.set_workflow_dir(REPO)  # clears the caches
    assert {g: stamps.logic_version("verify", grader=g) for g in before} == before
    grader_file.write_text(grader_file.read_text() + "\n_PROBE = 1\n")
    stamps.set_workflow_dir(REPO)
    assert stamps.logic_version("verify", grader="math_verify") != before["math_verify"]
    assert stamps.logic_version("verify", grader="qwen_math") == before["qwen_math"]
    assert stamps.logic_version("metrics") == metrics
    stamps.set_workflow_dir(REPO)


def test_moving_code_inside_the_package_keeps_every_stamp(tmp_path, monkeypatch):
    """Where code lives is not what it computes: a function moved to another module (and that module into a
    subpackage), imported from there, leaves the stamps as they were; editing the moved function changes them."""
    pkg = tmp_path / "rlvr_eval"
    shutil.copytree(closure.PACKAGE_ROOT, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(closure, "PACKAGE_ROOT", pkg)
    stamps.set_workflow_dir(REPO)
    before = stamps.logic_details("metrics")["digest"]
    passk = pkg / "metrics" / "passk.py"
    text = passk.read_text()
    start = text.index("def default_ks(")
    end = text.index("\nclass IncompleteVerdictsError")
    (pkg / "moved").mkdir()
    (pkg / "moved" / "__init__.py").write_text('"""A new subpackage."""\n')
    (pkg / "moved" / "ks.py").write_text('"""The moved function."""\n\n' + text[start:end])
    passk.write_text(text[:start].replace("import pandas as pd\n", "import pandas as pd\n\nfrom rlvr_eval.moved.ks import default_ks\n")
                     + text[end:])
    stamps.set_workflow_dir(REPO)
    assert "rlvr_eval.moved.ks" in stamps.logic_details("metrics")["sources"]
    assert stamps.logic_details("metrics")["digest"] == before
    moved = pkg / "moved" / "ks.py"
    moved.write_text(moved.read_text().replace("ks + [n]", "ks + [n, n]"))
    stamps.set_workflow_dir(REPO)
    assert stamps.logic_details("metrics")["digest"] != before
    stamps.set_workflow_dir(REPO)


def _rule_blocks():
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        text = smk.read_text()
        for m in re.finditer(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", text, re.M | re.S):
            yield smk.name, m.group(1), m.group(2)


def test_every_script_rule_passes_a_logic_stamp():
    """The workflow profile turns Snakemake's code trigger off: a script rule without `logic=` would never rerun
    when its code changes."""
    missing = [f"{f}: rule {name}" for f, name, body in _rule_blocks() if "script:" in body and "logic=" not in body]
    assert not missing, "add `logic=logic_version(<stage>[, script=...])` to the params of " + ", ".join(missing)


def test_every_rule_script_records_provenance():
    """Scripts switch with one line: `with logged(snakemake):` (not `logged(snakemake.log[0])`)."""
    scripts = sorted((REPO / "workflow" / "scripts").glob("*.py"))
    lacking = [s.name for s in scripts if "logged(snakemake)" not in s.read_text()
               and "logged(snakemake, hold=" not in s.read_text()]
    assert not lacking, f"these scripts write no provenance record; use `with logged(snakemake):` in {lacking}"


def test_workflow_profile_replaces_the_code_trigger():
    import yaml

    profile = yaml.safe_load((REPO / "profiles" / "default" / "config.yaml").read_text())
    assert "code" not in profile["rerun-triggers"] and {"mtime", "params", "input"} <= set(profile["rerun-triggers"])
    assert json.dumps(profile["max-checksum-file-size"]) != "1000000"
