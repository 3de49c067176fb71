"""The real Snakemake workflow: the paper grid's plan and the offline demo end to end."""

import json

import pandas as pd

from rlvr_eval.io import read_parquet, read_parquet_metadata
from workflow_helpers import copy_workflow, planned_rules, snakemake


def test_paper_grid_plans_every_job(tmp_path):
    workdir = copy_workflow(tmp_path)
    rules = planned_rules(workdir, configfile="config.yaml")
    # Math: 14 model entries, 13 staged from the hub, one (DAPO's prompt on Qwen2.5-32B) a variant of another's
    # weights; the paper's temperature figures (16, 17) and guessing filter (12): six variants of the 7B pair's
    # weights; code: the CodeR1 and DeepCoder pairs (4 models); visual: Qwen2.5-VL-7B-Instruct (its RL model, a
    # placeholder, is left out with its pair: `enabled: false`, as is o1's responses file); each model only on its
    # own benchmarks (code: HumanEval+, MBPP+, LiveCodeBench in its two windows of Fig. 11). Fig. 27: Qwen2.5-7B
    # with the VeRL runs' prompt, a variant of its weights, on MATH500 (n = 256) and Omni-MATH-Rule's two splits,
    # which this mirror lacks: they are left out (named), as are the VeRL RL placeholders
    assert rules["prepare_benchmark"] == 6 + 4 + 2
    assert rules["stage_model"] == 13 + 4 + 1 and rules["variant_model"] == 1 + 6 + 1
    # Shards sized to fit a day (sampling.fit_shard_size, tests/test_shard_time.py): shards per model on GSM8K,
    # MATH500, Minerva, OlympiadBench (n=128; the Llama pair: OlympiadBench at n=1024), AIME24 and AMC23 (n=1024),
    # e.g. the Qwen2.5-7B pair's GSM8K in 16 shards of 8 samples, its AIME24 in 16 shards of 64
    math_shards = {"qwen2.5-7b pair": [16, 8, 4, 8, 16, 16], "qwen2.5-14b pair": [64, 16, 16, 32, 16, 16],
                   "the four 32B models": [64, 16, 8, 32, 16, 16], "llama pair": [32, 8, 8, 128, 16, 16],
                   "qwen2.5-math-7b trio": [4, 2, 2, 2, 16, 16], "r1-distill-7b": [32, 8, 4, 16, 16, 16]}
    models = {"qwen2.5-7b pair": 2, "qwen2.5-14b pair": 2, "the four 32B models": 4, "llama pair": 2,
              "qwen2.5-math-7b trio": 3, "r1-distill-7b": 1}
    paper_math = sum(models[k] * sum(v) for k, v in math_shards.items())
    # Fig. 16: the 7B pair at T = 1.0 and 1.2 on MATH500 and AIME24 (its shards: 8 and 16); Fig. 17: the RL model at
    # the entropy-matched temperatures on all six; Fig. 12: the direct-answer variant on AIME24 (n = 128: 2 shards)
    # Fig. 27's base model on MATH500 (n = 256: 16 shards)
    figures = 4 * (8 + 16) + sum(math_shards["qwen2.5-7b pair"]) + 2 + 16
    math_samples = paper_math + figures
    # Code: CodeR1's pair on HumanEval+, MBPP+, LiveCodeBench 2024-08..2025-01 and 2023-05..2025-01 (Fig. 11 right:
    # 879 problems) (n=128: 2, 4, 4, 8 shards), DeepCoder's pair on LiveCodeBench (n=64 in 16 shards of 4: 32k-token
    # responses). Visual: MathVision, MathVista (n=128: 2, 4 shards).
    code_samples = 2 * (2 + 4 + 4 + 8) + 2 * 16
    assert paper_math == 1698 and rules["sample"] == math_samples + code_samples + 1 * (2 + 4)
    # math_verify and qwen_math (compare_graders), not on code; MathVista's own rule first on MathVista
    assert rules["verify"] == math_samples * 2 + 1 * 2 * 2 + 1 * 4 * 3
    assert rules["verify_code"] == code_samples and rules["code_expected_outputs"] == 2  # LiveCodeBench's tests carry outputs
    math_cells = 14 * 6 + 4 * 2 + 6 + 1 + 1  # (model, benchmark) cells of the math models
    assert rules["passk_metrics"] == math_cells + 2 * 4 + 2 * 1 + 1 * 2
    assert rules["passk_table"] == 12 and rules["passk_figure"] == 1 and rules["delta_se"] == 1
    assert rules["grader_agreement"] == math_cells + 1 * 2  # answer graders compared on math and visual benchmarks
    # 8 math pairs x 6 benchmarks, the two temperature pairs x 2, the entropy-matched pair x 6, CodeR1 x 4, DeepCoder x 1
    assert rules["coverage"] == rules["accuracy_hist"] == rules["bootstrap_passk"] == 48 + 2 * 2 + 6 + 4 + 1
    assert rules["analysis_figures"] == 13 and rules["guessable_filter"] == 1
    # perplexity: each pair's two models on both models' responses, one file per (benchmark, scorer, responses),
    # one job (one engine start) per scoring model (analysis.perplexity.group_by: scorer), 23 of them
    assert rules["perplexity_set"] == 234 and rules["perplexity"] == 23
    # the token NLL table, and the guessing check's review sheet of every model on each of its math and visual
    # benchmarks (answer-graded)
    assert rules["token_nll"] == 1 and rules["review_sheet"] == math_cells + 1 * 2
    # output entropy (Fig. 17, analysis.entropy): one GPU job per model of the Fig. 16 and 17 pairs, on its own
    # responses (Qwen2.5-7B and SimpleRL-Zoo-7B at 0.6, both at 1.0 and 1.2, the RL model entropy-matched), one table
    assert rules["entropy"] == 7 and rules["entropy_table"] == 1


def test_demo_produces_passk_tables_and_figure(demo_run):
    for benchmark in ("gsm8k", "math500"):
        table = pd.read_csv(demo_run / f"results/tables/passk/{benchmark}.csv")
        assert table["k"].tolist() == [1, 2, 4, 8]
        assert {"tiny-base", "tiny-rl"} <= set(table.columns)
        assert table[["tiny-base", "tiny-rl"]].apply(lambda col: col.is_monotonic_increasing).all()
        md = (demo_run / f"results/tables/passk/{benchmark}.md").read_text()
        assert "| k | tiny-base | tiny-rl |" in md
        # the Markdown table: the CSV's numbers in the CSV's unit, headed with the unit and the settings behind them
        assert f"### pass@k on {benchmark} (grader math_verify; n = 8, temperature 0.6, top-p 0.95, max " in md
        assert "as a fraction (0 to 1)" in md
        last = table.iloc[-1]
        assert f"| 8 | {last['tiny-base']:.3f} | {last['tiny-rl']:.3f} |" in md
        for model in ("tiny-base", "tiny-rl"):
            per_problem = read_parquet(demo_run / f"results/metrics/{model}/{benchmark}/math_verify/per_problem.parquet")
            assert len(per_problem) == 8 and (per_problem["n"] == 8).all()
            verdicts = pd.concat(read_parquet(f) for f in sorted((demo_run / f"results/verdicts/{model}/{benchmark}/math_verify").glob("shard-*.parquet")))
            assert len(verdicts) == 64
            assert verdicts["status"].isin(["correct", "wrong", "no_answer", "timeout", "error"]).all()
            # the table is the mean of the per-problem values
            assert table.loc[table["k"] == 1, model].item() == per_problem["pass@1"].mean()
    # ΔSE and token NLL: the CSV's unit in the Markdown too, and the settings of the samples behind them
    delta_se = pd.read_csv(demo_run / "results/tables/delta_se.csv").iloc[0]
    md = (demo_run / "results/tables/delta_se.md").read_text()
    assert "(fractions of 1," in md and f"| {delta_se['delta_se']:.3f} |" in md
    settings = "Samples: graders code_exec, math_verify; n = 8, temperature 0.6, top-p 0.95, max 24 new tokens."
    assert settings in md and settings in (demo_run / "results/tables/token_nll.md").read_text()
    for suffix in ("png", "pdf"):
        assert (demo_run / f"results/figures/passk_curves.{suffix}").stat().st_size > 10_000


def test_demo_produces_the_pair_analyses(demo_run):
    results = demo_run / "results"
    for benchmark in ("gsm8k", "math500"):
        coverage = pd.read_csv(results / f"analysis/coverage/tiny-zero/{benchmark}.csv")
        assert sorted(set(coverage["k"])) == [1, 4, 8]
        for _, groups in coverage.groupby("k"):
            assert groups["count"].sum() == 8 and abs(groups["fraction"].sum() - 1) < 1e-9
        hist = pd.read_csv(results / f"analysis/accuracy_hist/tiny-zero/{benchmark}.csv")
        assert set(hist["model"]) == {"tiny-base", "tiny-rl"}
        assert (hist.groupby("model")["count"].sum() == 8).all()
        boot = pd.read_csv(results / f"analysis/bootstrap/tiny-zero/{benchmark}/passk.csv")
        assert ((boot["ci_low"] <= boot["pass@k"] + 1e-12) & (boot["pass@k"] <= boot["ci_high"] + 1e-12)).all()
        for model in ("tiny-base", "tiny-rl"):
            ppl = read_parquet(results / f"analysis/perplexity/{benchmark}/tiny-base/{model}.parquet")
            assert len(ppl) == 16 and (ppl["scored_model"] == "tiny-base").all() and (ppl["perplexity"] >= 1).all()
    for name in ("passk_grid", "accuracy_hist", "coverage", "perplexity"):
        assert (results / f"figures/tiny-zero/{name}.png").stat().st_size > 10_000


def test_one_results_file_holds_every_score_with_its_interval_and_settings(demo_run):
    """results/summary.json: every model x benchmark's pass@k with its interval, equal to the pass@k tables, with
    the sampling settings, the config, versions and model revisions beside them."""
    summary = json.loads((demo_run / "results/summary.json").read_text())
    assert summary["schema"] == 1 and summary["packages"]["snakemake"] and summary["config"]["pairs"]
    assert set(summary["models"]) == {"tiny-base", "tiny-rl"} and all(m["revision"] for m in summary["models"].values())
    scores = {(s["model"], s["benchmark"]): s for s in summary["scores"]}
    assert set(scores) == {(m, b) for m in ("tiny-base", "tiny-rl") for b in ("gsm8k", "math500", "humanevalplus")}
    for (model, benchmark), s in scores.items():
        assert (s["n"], s["temperature"], s["top_p"]) == (8, 0.6, 0.95)
        assert s["problems"] == {"gsm8k": 8, "math500": 8, "humanevalplus": 3}[benchmark]
        table = pd.read_csv(demo_run / f"results/tables/passk/{benchmark}.csv").set_index("k")
        for k, cell in s["pass_at_k"].items():
            assert abs(cell["value"] - 100 * table.loc[int(k), model]) < 1e-4  # rounded to 4 decimals
            assert cell["ci_low"] <= cell["value"] <= cell["ci_high"]
    md = (demo_run / "results/summary.md").read_text()
    assert "## gsm8k (grader math_verify; n = 8, temperature 0.6, top-p 0.95" in md and "| tiny-rl | 8 |" in md


def report_data(html: str, variable: str):
    """The JSON a Snakemake report page assigns to a JavaScript variable (`var results = {...};`): the last such
    line, after the bundled libraries (which have a `var results = new Array(...)` of their own)."""
    line = [line for line in html.splitlines() if line.strip().startswith(f"var {variable} = ")][-1]
    return json.loads(line.strip()[len(f"var {variable} = "):].rstrip(";"))


def test_snakemake_report_gathers_figures_and_tables(demo_run):
    snakemake(demo_run, "--report", "results/report.html")
    report = (demo_run / "results" / "report.html").read_text(errors="replace")
    for name in ("passk_curves.png", "passk_grid.png", "coverage.png", "perplexity.png", "gsm8k.csv", "summary.md"):
        assert name in report, name
    # the landing page (workflow/report/workflow.rst) says what the run is and where its numbers come from
    landing = report_data(report, "workflow_desc")
    assert "Does RL incentivize reasoning beyond the base model?" in landing
    assert "Where the numbers come from" in landing and "1 − C(n − c, k) / C(n, k)" in landing
    # every output in the report has a caption, rendered with its wildcards
    results = report_data(report, "results")
    # among them the outputs that had none before: ΔSE, token NLL, sample counts, grader agreement
    rules = {result["job_properties"]["rule"] for result in results.values()}
    assert {"passk_table", "delta_se", "token_nll", "grader_agreement", "summary", "analysis_figures"} <= rules
    assert "results/tables/samples/gsm8k.csv" in results
    uncaptioned = [path for path, result in results.items() if not result["caption"].strip()]
    assert not uncaptioned, uncaptioned
    assert "over the problems of gsm8k, as a fraction (0 to 1)" in results["results/tables/passk/gsm8k.csv"]["caption"]


def test_demo_verifies_humanevalplus_in_the_code_sandbox(demo_run):
    """The demo's code benchmark goes samples -> sandboxed verdicts -> the same pass@k table code as math."""
    table = pd.read_csv(demo_run / "results/tables/passk/humanevalplus.csv")
    assert table["k"].tolist() == [1, 2, 4, 8] and {"tiny-base", "tiny-rl"} <= set(table.columns)
    assert (demo_run / "results/data/humanevalplus.expected.json.gz").stat().st_size > 1000
    for model in ("tiny-base", "tiny-rl"):
        files = sorted((demo_run / f"results/verdicts/{model}/humanevalplus/code_exec").glob("shard-*.parquet"))
        verdicts = pd.concat(read_parquet(f) for f in files)
        assert len(verdicts) == 24 and verdicts["status"].isin(["correct", "wrong", "no_answer", "timeout", "error"]).all()
        meta = read_parquet_metadata(files[0])
        assert meta["grader"] == "code_exec" and meta["isolation"] in ("namespaces", "rlimits")
