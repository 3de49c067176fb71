"""The README's path for a new user, run from the README's own snippets (the blocks after a `<!-- test: NAME -->`
line): the demo and its summary, then adding an imported model."""

import re
import subprocess
import sys

import pandas as pd
import yaml

from rlvr_eval.io import read_parquet
from workflow_helpers import REPO

BIN = f"{sys.executable.rsplit('/', 1)[0]}/"  # .venv/bin/ of the README: this interpreter's


def readme_snippets() -> dict[str, str]:
    text = (REPO / "README.md").read_text()
    return dict(re.findall(r"^<!-- test: ([\w-]+) -->\n```\w*\n(.*?)^```", text, flags=re.M | re.S))


def run_snippet(snippet: str, workdir) -> str:
    proc = subprocess.run(["bash", "-e", "-c", snippet.replace(".venv/bin/", BIN)], cwd=workdir,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, f"{snippet}\n--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-5000:]}"
    return proc.stdout


def test_the_readme_demo_then_an_imported_model(demo_copy):
    snippets = readme_snippets()
    assert set(snippets) >= {"demo", "import", "import-entry"}
    demo, summary = snippets["demo"].splitlines()
    # the demo_run fixture ran exactly this command (workflow_helpers.snakemake); its copy has the results
    assert demo.split() == [".venv/bin/snakemake", "--configfile", "config/demo.yaml", "--cores", "2"]
    shown = run_snippet(summary, demo_copy)
    assert "## gsm8k (grader math_verify; n = 8" in shown and "| tiny-rl | 8 |" in shown

    run_snippet(snippets["import"], demo_copy)
    entry = yaml.safe_load(snippets["import-entry"])["models"]
    config = yaml.safe_load((demo_copy / "config/demo.yaml").read_text())
    assert {"elsewhere": config["models"]["elsewhere"]} == entry  # what the README shows is what import wrote
    assert list(config["models"]) == ["elsewhere", "tiny-base", "tiny-rl"]
    summary_text = (demo_copy / "results/summary.md").read_text()
    assert "| elsewhere | 8 |" in summary_text
    # the imported samples are tiny-rl's own: the same verdicts, so the same pass@k on every problem
    metrics = {m: read_parquet(demo_copy / f"results/metrics/{m}/gsm8k/math_verify/per_problem.parquet")
               for m in ("elsewhere", "tiny-rl")}
    pd.testing.assert_frame_equal(metrics["elsewhere"].drop(columns="model", errors="ignore"),
                                  metrics["tiny-rl"].drop(columns="model", errors="ignore"))
    assert not (demo_copy / "results/metrics/elsewhere/math500").exists()  # n and benchmarks from the file
