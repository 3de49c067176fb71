# The analyses behind the paper's claims, per (base, RL) pair and benchmark: coverage, accuracy histograms,
# bootstrap intervals and crossover k, the base model's perplexity on each model's responses, and figures.
# Inputs are the primary grader's verdicts and per-problem metrics (rlvr_eval.analysis.*).


# Seconds of pandas or matplotlib each: they run where Snakemake runs (on a cluster: no queue wait).
localrules:
    coverage,
    accuracy_hist,
    bootstrap_passk,
    guessable_filter,
    delta_se,
    summary,
    token_nll,
    entropy_table,
    review_sheet,
    review_table,
    analysis_figures,
    training_dynamics,


rule coverage:
    input:
        base=pair_verdicts("base"),
        rl=pair_verdicts("rl"),
    output:
        table=report(
            "results/analysis/coverage/{pair}/{benchmark}.csv",
            category="{pair}",
            subcategory="coverage tables",
            labels={"pair": "{pair}", "benchmark": "{benchmark}"},
            caption="../report/coverage_table.rst",
        ),
        ids="results/analysis/coverage/{pair}/{benchmark}.json",
    params:
        **pair_params(),
        ks=lambda w: GRID.coverage_ks(w.pair, w.benchmark),
        logic=logic_version("coverage"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/analysis/coverage/{pair}/{benchmark}.log",
    script:
        "../scripts/coverage.py"


rule accuracy_hist:
    input:
        base=pair_metrics("base"),
        rl=pair_metrics("rl"),
    output:
        "results/analysis/accuracy_hist/{pair}/{benchmark}.csv",
    params:
        **pair_params(),
        logic=logic_version("accuracy_hist"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/analysis/accuracy_hist/{pair}/{benchmark}.log",
    script:
        "../scripts/accuracy_hist.py"


rule bootstrap_passk:
    input:
        base=pair_metrics("base"),
        rl=pair_metrics("rl"),
    output:
        passk="results/analysis/bootstrap/{pair}/{benchmark}/passk.csv",
        difference="results/analysis/bootstrap/{pair}/{benchmark}/difference.csv",
        crossover="results/analysis/bootstrap/{pair}/{benchmark}/crossover.json",
    params:
        **pair_params(),
        ks=None,  # every k of the metrics files
        num_resamples=config["analysis"]["bootstrap"]["resamples"],
        seed=config["analysis"]["bootstrap"]["seed"],
        confidence=config["analysis"]["bootstrap"]["confidence"],
        logic=logic_version("bootstrap"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/analysis/bootstrap/{pair}/{benchmark}.log",
    script:
        "../scripts/bootstrap_passk.py"


rule guessable_filter:
    input:
        base=pair_metrics("base"),
        rl=pair_metrics("rl"),
        direct=lambda w: GRID.metrics_file(guessable_filter(GRID)["direct_model"], w.benchmark),
    output:
        table="results/analysis/guessable/{pair}/{benchmark}.csv",
        ids="results/analysis/guessable/{pair}/{benchmark}.json",
    params:
        **pair_params(),
        direct_model=lambda w: guessable_filter(GRID)["direct_model"],
        max_rate=lambda w: guessable_filter(GRID)["max_rate"],
        logic=logic_version("guessable_filter"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/analysis/guessable/{pair}/{benchmark}.log",
    script:
        "../scripts/guessable_filter.py"


rule delta_se:
    input:
        lambda w: [f for e in GRID.delta_se_entries() for f in (e["base_file"], e["rl_file"])],
    output:
        csv=report(
            "results/tables/delta_se.csv",
            category="pass@k",
            subcategory="sampling-efficiency gap",
            caption="../report/delta_se.rst",
        ),
        md="results/tables/delta_se.md",
    params:
        entries=GRID.delta_se_entries(),
        settings=table_settings(GRID, [(e[m], e["benchmark"]) for e in GRID.delta_se_entries() for m in ("base", "rl")]),
        num_resamples=config["analysis"]["bootstrap"]["resamples"],
        seed=config["analysis"]["bootstrap"]["seed"],
        confidence=config["analysis"]["bootstrap"]["confidence"],
        left_out=GRID.left_out_note(),
        logic=logic_version("delta_se"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/tables/delta_se.log",
    script:
        "../scripts/delta_se.py"


rule summary:
    input:
        metrics=[e["file"] for e in GRID.summary_entries()],
        manifests=[f"results/models/{m}.json" for m in GRID.models if "responses" not in GRID.model(m)],
    output:
        json="results/summary.json",
        md=report("results/summary.md", category="Summary", caption="../report/summary.rst"),
    params:
        entries=GRID.summary_entries(),
        config=GRID.scored_config(),
        left_out=GRID.left_out,
        left_out_note=GRID.left_out_note(),
        bootstrap={k: config["analysis"]["bootstrap"][k] for k in ("resamples", "seed", "confidence")},
        logic=logic_version("summary"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/summary.log",
    script:
        "../scripts/summary.py"


rule token_nll:
    input:
        lambda w: [f for e in GRID.token_nll_entries() for f in e["files"]],
    output:
        csv=report(
            "results/tables/token_nll.csv",
            category="pass@k",
            subcategory="token NLL",
            caption="../report/token_nll.rst",
        ),
        md="results/tables/token_nll.md",
    params:
        entries=GRID.token_nll_entries(),
        settings=table_settings(GRID, [(e["model"], e["benchmark"]) for e in GRID.token_nll_entries()]),
        left_out=GRID.left_out_note(),
        logic=logic_version("token_nll"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/tables/token_nll.log",
    script:
        "../scripts/token_nll.py"


rule entropy:
    # The output entropy of a model on its own responses, on each of its text benchmarks (analysis.entropy; the
    # paper's Fig. 17): full logits from one transformers forward pass per response, one model load per job. A GPU
    # job for a 7B model: the resources of the model's perplexity job, and the conda env of its sampling backend
    # (vLLM's brings a CUDA build of torch and transformers).
    input:
        model="results/models/{model}.json",
        samples=lambda w: [f for s in GRID.entropy_sets(w.model) for f in s["samples"]],
        problems=lambda w: [s["problems"] for s in GRID.entropy_sets(w.model)],
    output:
        "results/analysis/entropy/{model}.parquet",
    wildcard_constraints:
        model=regex_of(GRID.entropy_models()),
    params:
        sets=lambda w: GRID.entropy_sets(w.model),
        num_problems=GRID.entropy_settings().get("problems", 64),
        responses_per_problem=GRID.entropy_settings().get("responses_per_problem", 8),
        seed=GRID.entropy_settings().get("seed", 0),
        batch_size=GRID.entropy_settings().get("batch_size", 8),
        max_batch_tokens=GRID.entropy_settings().get("max_batch_tokens", 16384),
        logic=logic_version("entropy"),
    resources:
        **entropy_job_resources(),
    conda:
        constant_or(lambda w: f"../../envs/sampling-{GRID.backend(w.model)}.yaml", ENTROPY_JOBS)
    log:
        "logs/analysis/entropy/{model}.log",
    script:
        "../scripts/entropy.py"


rule entropy_table:
    input:
        lambda w: [GRID.entropy_file(m) for m in GRID.entropy_models()],
    output:
        csv=report(
            "results/tables/entropy.csv",
            category="pass@k",
            subcategory="output entropy",
            caption="../report/entropy.rst",
        ),
        md="results/tables/entropy.md",
    params:
        settings=table_settings(GRID, [(m, b) for m in GRID.entropy_models() for b in GRID.entropy_benchmarks(m)]),
        left_out=GRID.left_out_note(),
        logic=logic_version("entropy_table"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/tables/entropy.log",
    script:
        "../scripts/entropy_table.py"


rule review_sheet:
    input:
        problems="results/data/{benchmark}.parquet",
        samples=lambda w: GRID.sample_files(w.model, w.benchmark),
        verdicts=lambda w: GRID.verdict_files(w.model, w.benchmark, GRID.grader(w.benchmark)),
        metrics=lambda w: GRID.metrics_file(w.model, w.benchmark),
    output:
        sheet=report(
            "results/review/{model}/{benchmark}.html",
            category="guessing check",
            labels={"model": "{model}", "benchmark": "{benchmark}"},
            caption="../report/review_sheet.rst",
        ),
        shown="results/review/{model}/{benchmark}.responses.csv",
    params:
        max_solve_rate=config["analysis"]["review"]["max_solve_rate"],
        responses_per_problem=config["analysis"]["review"]["responses_per_problem"],
        judgements_file=lambda w: judgements_file(GRID, w.model, w.benchmark),
        logic=logic_version("review"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/review/{model}/{benchmark}.log",
    script:
        "../scripts/review_sheet.py"


# The researcher's judgements, exported from the sheet and saved under analysis.review.judgements_dir: planned
# only for the files that exist (rlvr_eval.planning.review_files), so an unreviewed sheet fails nothing.
rule review_table:
    input:
        judgements=judgements_file(GRID, "{model}", "{benchmark}"),
        shown="results/review/{model}/{benchmark}.responses.csv",
    output:
        csv="results/tables/review/{model}/{benchmark}.csv",
        md="results/tables/review/{model}/{benchmark}.md",
    params:
        settings=lambda w: table_settings(GRID, [(w.model, w.benchmark)]),
        logic=logic_version("review_table"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/review_table/{model}/{benchmark}.log",
    script:
        "../scripts/review_table.py"


rule perplexity:
    # One job per group of response sets of one scoring model (analysis.perplexity.group_by): one engine start.
    # Its output is the group's manifest; each set's table is archived as it is scored (a killed job keeps its
    # finished sets) and copied to its own file by perplexity_set (rlvr_eval.analysis.perplexity_groups).
    input:
        model=lambda w: f"results/models/{PPL_GROUPS[w.group][0]['scored_model']}.json",
        samples=lambda w: [f for s in PPL_GROUPS[w.group] for f in GRID.sample_files(s["response_model"], s["benchmark"])],
        problems=lambda w: sorted({f"results/data/{s['benchmark']}.parquet" for s in PPL_GROUPS[w.group]}),
    output:
        "results/analysis/perplexity/_groups/{group}.json",
    wildcard_constraints:
        group=regex_of(PPL_GROUPS),
    params:
        sets=lambda w: perplexity_group_sets(w.group),
        num_problems=config["analysis"]["perplexity"]["problems"],
        responses_per_problem=config["analysis"]["perplexity"]["responses_per_problem"],
        seed=config["analysis"]["perplexity"]["seed"],
        backend=constant_or(lambda w: GRID.backend(ppl_scorer(w)), PPL_GROUP_JOBS),
        batch_size=config["analysis"]["perplexity"]["batch_size"],
        engine_kwargs=lambda w: GRID.perplexity_engine_options(ppl_scorer(w)),
        logic=logic_version("perplexity"),
    resources:
        **perplexity_job_resources(),
    conda:
        constant_or(lambda w: f"../../envs/sampling-{GRID.backend(ppl_scorer(w))}.yaml", PPL_GROUP_JOBS)
    log:
        "logs/analysis/perplexity/_groups/{group}.log",
    script:
        "../scripts/perplexity.py"


localrules:
    perplexity_set,


rule perplexity_set:
    # A copy of the set's table from the archive its group's job wrote: the same file as one job per set made.
    input:
        manifest=lambda w: GRID.perplexity_group_file(GRID.perplexity_group_of(w.benchmark, w.scored_model, w.response_model)),
    output:
        "results/analysis/perplexity/{benchmark}/{scored_model}/{response_model}.parquet",
    wildcard_constraints:
        scored_model=regex_of(GRID.models),
        response_model=regex_of(GRID.models),
    params:
        num_problems=config["analysis"]["perplexity"]["problems"],
        responses_per_problem=config["analysis"]["perplexity"]["responses_per_problem"],
        seed=config["analysis"]["perplexity"]["seed"],
        logic=logic_version("perplexity_set"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/analysis/perplexity/{benchmark}/{scored_model}/{response_model}.log",
    script:
        "../scripts/perplexity_set.py"


rule analysis_figures:
    input:
        passk=lambda w: expand("results/analysis/bootstrap/{pair}/{benchmark}/passk.csv", pair=w.pair,
                               benchmark=GRID.pair_benchmarks(w.pair)),
        accuracy_hist=lambda w: expand("results/analysis/accuracy_hist/{pair}/{benchmark}.csv", pair=w.pair,
                                       benchmark=GRID.pair_benchmarks(w.pair)),
        coverage=lambda w: expand("results/analysis/coverage/{pair}/{benchmark}.csv", pair=w.pair,
                                  benchmark=GRID.pair_benchmarks(w.pair)),
        perplexity=lambda w: GRID.perplexity_files(w.pair),
    output:
        **figure_outputs(["passk_grid", "accuracy_hist", "coverage"] + (["perplexity"] if GRID.perplexity_enabled() else [])),
    params:
        pairs=GRID.pairs,  # with models: each model's colour, role and marker, as in every figure
        models=GRID.figure_models(every=False),
        logic=logic_version("analysis_figures"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/figures/{pair}/analysis_figures.log",
    script:
        "../scripts/analysis_figures.py"


rule training_dynamics:
    input:
        manifests=expand("results/models/{model}.json", model=GRID.models_of_kind("rlvr")),
        logs=expand("results/training/{model}.csv", model=GRID.models_of_kind("rlvr")),
    output:
        csv=report("results/tables/training_dynamics.csv", category="training", subcategory="dynamics"),
        md="results/tables/training_dynamics.md",
        png=report("results/figures/training_dynamics.png", category="training", caption="../report/training_dynamics.rst"),
        pdf="results/figures/training_dynamics.pdf",
    params:
        models=GRID.models_of_kind("rlvr"),
        window=10,  # steps per mean: the table's first / last, the figure's rolling mean
        logic=logic_version("training_dynamics"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/figures/training_dynamics.log",
    script:
        "../scripts/training_dynamics.py"
