import copy
import importlib.util

import pytest
import yaml

from rlvr_eval.planning.config import ConfigError, load_config, validate_config
from workflow_helpers import MIRROR, REPO, copy_workflow, demo_config, snakemake


def paper_config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


def test_both_shipped_configs_validate_and_get_defaults():
    paper = load_config(REPO / "config.yaml")
    assert paper["sampling"]["temperature"] == 0.6 and paper["sampling"]["top_p"] == 0.95
    assert paper["sampling"]["max_new_tokens"] == 16384
    assert paper["models"]["qwen2.5-7b"]["tensor_parallel_size"] == 1  # schema default
    demo = load_config(REPO / "config" / "demo.yaml")
    assert demo["verification"]["timeout_s"] == 10


def test_each_model_is_evaluated_on_its_own_benchmarks_with_its_templates():
    from rlvr_eval.planning.grid import Grid

    grid = Grid(load_config(REPO / "config.yaml"))
    assert grid.benchmarks_of("deepcoder-14b") == ["livecodebench"] and grid.n("deepcoder-14b", "livecodebench") == 64
    assert grid.pair_benchmarks("coder1-zero-7b") == ["humanevalplus", "mbppplus", "livecodebench", "livecodebench_2023_05"]
    assert "qwen2.5-7b" in grid.models_on("aime24") and "qwen2.5-7b" not in grid.models_on("mbppplus")
    assert grid.template("coder1-zero-7b", "mbppplus") == "evalplus-chat"
    assert grid.template("coder1-zero-7b", "livecodebench") == "lcb-codeqwen"
    assert grid.prompt_params("coder1-zero-7b", "livecodebench")["template"] == "lcb-codeqwen"


def test_the_wider_livecodebench_window_is_planned_beside_the_paper_one_for_the_code_pair():
    """Fig. 11 right and Table 5: CodeR1's pair on LiveCodeBench 2023-05 .. 2025-01 (livecodebench_2023_05), beside
    the 2024-08 .. 2025-01 window (livecodebench) in the same run: samples, verdicts, pass@k, tables, coverage."""
    from rlvr_eval.planning.grid import Grid

    config = load_config(REPO / "config.yaml")
    assert config["benchmarks"]["livecodebench_2023_05"]["window"] == ["2023-05", "2025-01"]
    assert config["benchmarks"]["livecodebench"]["window"] == ["2024-08", "2025-01"]
    grid = Grid(config)
    wide = "livecodebench_2023_05"
    assert grid.models_on(wide) == ["qwen2.5-7b-instruct-1m", "coder1-zero-7b"]  # not DeepCoder's pair (Fig. 3)
    assert {b: grid.grader(b) for b in ("livecodebench", wide)} == {"livecodebench": "code_exec", wide: "code_exec"}
    assert wide in config["benchmark_source"]["hub_benchmarks"]  # its hidden tests, as for livecodebench
    targets = set(grid.targets())
    for model in grid.models_on(wide):
        assert grid.n(model, wide) == grid.n(model, "livecodebench") == 128
        assert grid.template(model, wide) == grid.template(model, "livecodebench") == "lcb-codeqwen"
        shards = grid.shards(model, wide)
        assert len(shards) == 8  # 16 samples of 879 problems a shard: under a day (tests/test_shard_time.py)
        assert {f"results/samples/{model}/{wide}/shard-{s}.parquet" for s in shards} <= targets
        assert {f"results/verdicts/{model}/{wide}/code_exec/shard-{s}.parquet" for s in shards} <= targets
        assert f"results/metrics/{model}/{wide}/code_exec/passk.csv" in targets
    assert {f"results/data/{wide}.parquet", f"results/tables/passk/{wide}.csv", f"results/tables/passk/{wide}.md",
            f"results/analysis/coverage/coder1-zero-7b/{wide}.json",
            f"results/analysis/bootstrap/coder1-zero-7b/{wide}/passk.csv"} <= targets
    assert f"results/data/{wide}.expected.json.gz" not in targets  # its tests carry their outputs


def test_the_scoring_engine_leaves_room_for_full_vocabulary_prompt_logprobs():
    """Perplexity engines get the analysis.perplexity memory share and step size, sampling engines keep their own."""
    from rlvr_eval.planning.grid import Grid

    grid = Grid(load_config(REPO / "config.yaml"))
    scoring = grid.perplexity_engine_options("qwen2.5-math-7b")
    assert scoring["gpu_memory_utilization"] == 0.8 and scoring["max_num_batched_tokens"] == 8192
    assert "max_num_batched_tokens" not in grid.backend_options("qwen2.5-math-7b")


def test_a_variant_runs_its_weights_as_their_model_does_unless_it_says_otherwise():
    """A variant (other prompt or temperature, same weights) needs the same GPUs and engine: it takes its model's
    tensor_parallel_size, memory share and context; what it sets itself wins."""
    from rlvr_eval.planning.grid import Grid

    raw = paper_config()
    raw["models"]["qwen2.5-32b-t1.0"] = {"variant_of": "qwen2.5-32b", "role": "base", "prompt_template": "qwen-boxed",
                                         "benchmarks": ["aime24"], "sampling": {"temperature": 1.0}}
    raw["models"]["qwen2.5-32b"]["gpu_memory_utilization"] = 0.85
    raw["models"]["qwen2.5-32b-dapo-prompt"]["max_model_len"] = 8192
    grid = Grid(validate_config(raw))
    assert grid.backend_options("qwen2.5-32b-t1.0") == grid.backend_options("qwen2.5-32b") == {
        "tensor_parallel_size": 2, "gpu_memory_utilization": 0.85, "max_model_len": 20480}
    assert grid.backend_options("qwen2.5-32b-dapo-prompt")["max_model_len"] == 8192
    raw["models"]["qwen2.5-32b-t1.0"]["variant_of"] = ["qwen2.5-32b"]
    with pytest.raises(ConfigError, match="models.qwen2.5-32b-t1.0.variant_of"):
        validate_config(raw)


def test_engine_seeding_is_a_param_of_vllm_sampling_jobs_only_when_chosen():
    """`sampling.seeding: engine` reaches the vLLM sampling jobs (and reruns them); the default adds no param, so
    a plan made before the setting existed is unchanged; scoring engines never get it."""
    from rlvr_eval.planning.grid import Grid

    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    assert "seeding" not in Grid(validate_config(raw)).backend_options("qwen2.5-math-7b")
    raw["sampling"]["seeding"] = "engine"
    grid = Grid(validate_config(raw))
    assert grid.backend_options("qwen2.5-math-7b")["seeding"] == "engine"
    assert "seeding" not in grid.perplexity_engine_options("qwen2.5-math-7b")
    raw["sampling"]["seeding"] = "global"
    with pytest.raises(ConfigError, match="sampling.seeding"):
        validate_config(raw)


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c.update(modles=c.pop("models")), "unknown key 'modles' in <top level>"),
    (lambda c: c["sampling"].update(temprature=0.6), "unknown key 'temprature' in sampling"),
    (lambda c: c["models"]["qwen2.5-7b"].update(prompt_tmplate="x"), "unknown key 'prompt_tmplate' in models.qwen2.5-7b"),
    (lambda c: c["sampling"].update(top_p=1.5), "sampling.top_p: 1.5 is greater than the maximum of 1"),
    (lambda c: c["benchmarks"]["gsm8k"].update(n="many"), "benchmarks.gsm8k.n: 'many' is not of type 'integer'"),
    (lambda c: c["pairs"][0].update(rl="simplerl"), "pairs[0].rl: unknown model 'simplerl'"),
    (lambda c: c["models"]["qwen2.5-7b"].update(prompt_template="qwen-boxd"), "unknown template 'qwen-boxd'"),
    (lambda c: c["models"]["simplerl-zoo-qwen2.5-7b"].update(prompt_template="dapo"), "must share a prompt template"),
    (lambda c: c["models"]["qwen2.5-7b"].update(benchmarks=["gsm9k"]), "models.qwen2.5-7b.benchmarks: 'gsm9k' is not in"),
    (lambda c: c["models"]["coder1-zero-7b"].update(prompt_template_by_benchmark={"livecodebench": "code-r1-lcb"}),
     "got 'lcb-codeqwen' and 'code-r1-lcb' on livecodebench"),
    (lambda c: c["models"]["deepcoder-14b"].update(prompt_template_by_benchmark={"mbppplus": "r1-code"}),
     "models.deepcoder-14b.prompt_template_by_benchmark.mbppplus: 'mbppplus' is not a benchmark this model is"),
    (lambda c: c["models"]["deepcoder-14b"].update(benchmarks=["mbppplus"]), "pairs[12] (deepcoder-14b): its models share no benchmark"),
    (lambda c: c["benchmarks"].update(gsm9k={"n": 4}), "benchmarks.gsm9k: unknown benchmark"),
    (lambda c: c["verification"].update(grader="exact"), "verification.grader: unknown grader 'exact'"),
    (lambda c: c["models"]["qwen2.5-7b"].update(path="/models/q"),
     "give exactly one of 'hf_id', 'path', 'tiny', 'variant_of', 'responses', 'rlvr' or 'checkpoint'"),
    (lambda c: c["models"]["qwen2.5-7b"].update(checkpoints=[{"step": 1, "revision": "a" * 40, "path": "/c"}]),
     "models.qwen2.5-7b.checkpoints.0: give exactly one of 'revision', 'path' or 'model'"),
    (lambda c: c["models"]["qwen2.5-7b"].update(checkpoints=[{"step": 1, "path": "/a"}, {"step": 1, "path": "/b"}]),
     "models.qwen2.5-7b.checkpoints: steps [1, 1] repeat a step"),
    (lambda c: c["models"]["simplerl-zoo-qwen2.5-7b"].update(checkpoints=[{"step": 0, "model": "dapo-qwen-32b"}]),
     "checkpoints[step 0].model: 'dapo-qwen-32b' uses template 'dapo'"),
    (lambda c: c["models"].update({"qwen2.5-7b-step5": c["models"]["qwen2.5-14b"]}) or
     c["models"]["qwen2.5-7b"].update(checkpoints=[{"step": 5, "revision": "b" * 40}]),
     "checkpoints[step 5]: its model name 'qwen2.5-7b-step5' is already another model"),
    (lambda c: c["models"]["qwen2.5-7b"].update(sampling_by_benchmark={"aime25": {"temperature": 1.0}}),
     "models.qwen2.5-7b.sampling_by_benchmark.aime25: 'aime25' is not in benchmarks"),
    (lambda c: c["benchmarks"]["aime24"].update(sampling={"temprature": 1.0}), "unknown key 'temprature' in benchmarks.aime24.sampling"),
    (lambda c: c["benchmarks"]["gsm8k"].update(window=["2024-08", "2025-01"]), "benchmarks.gsm8k.window: only for livecodebench"),
    (lambda c: c["benchmarks"]["livecodebench"].update(window=["2024-8", "2025-01"]), "benchmarks.livecodebench.window.0: '2024-8' does not match"),
    (lambda c: c["analysis"]["guessable_filter"].update(pairs=["simplerl-7b"]),
     "analysis.guessable_filter.pairs: unknown pair 'simplerl-7b'"),
    (lambda c: c["analysis"]["guessable_filter"].update(benchmarks=["math500"]),
     "analysis.guessable_filter.benchmarks: 'math500' is not a benchmark of model 'qwen2.5-7b-direct'"),
])
def test_bad_config_gives_one_line_error_naming_the_key(mutate, message):
    config = paper_config()
    mutate(config)
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_coverage_k_above_n_is_refused_not_dropped():
    """n = 8 cannot give coverage at k = 64: the table would silently lack that column."""
    from rlvr_eval.planning.grid import Grid

    config = paper_config()
    config["benchmarks"]["gsm8k"]["n"] = 8
    config["analysis"]["coverage_ks"] = [1, 64]
    with pytest.raises(ConfigError, match=r"analysis.coverage_ks: \[1, 64\] has k = 64 above n = 8 of pair "
                                          r"'simplerl-zoo-7b' on gsm8k"):
        validate_config(config)
    # n per model and benchmark: the pair's n is the smaller of its two models'
    config["benchmarks"]["gsm8k"]["n"] = 128
    config["models"]["dapo-qwen-32b"]["n"] = {"aime24": 32}
    with pytest.raises(ConfigError, match=r"k = 64 above n = 32 of pair 'dapo-32b' on aime24 \(the smaller n of"):
        validate_config(config)
    # the default is cut at n instead, so a small n needs no setting
    config["analysis"].pop("coverage_ks")
    grid = Grid(validate_config(config))
    assert grid.coverage_ks("dapo-32b", "aime24") == [1, 8, 32]
    assert grid.coverage_ks("dapo-32b", "math500") == [1, 8, 64, 128]


def test_listed_checkpoints_become_models_of_a_series():
    from rlvr_eval.planning.grid import Grid

    config = paper_config()
    config["models"]["simplerl-zoo-qwen2.5-7b"]["checkpoints"] = [
        {"step": 0, "model": "qwen2.5-7b"}, {"step": 40, "revision": "a" * 40}, {"step": 80, "path": "/ckpt/80"},
        {"step": 100, "model": "simplerl-zoo-qwen2.5-7b"}]
    validated = validate_config(config)
    step40, step80 = validated["models"]["simplerl-zoo-qwen2.5-7b-step40"], validated["models"]["simplerl-zoo-qwen2.5-7b-step80"]
    assert (step40["hf_id"], step40["revision"]) == ("hkust-nlp/Qwen-2.5-7B-SimpleRL-Zoo", "a" * 40)
    assert step80["path"] == "/ckpt/80" and "hf_id" not in step80 and step80["prompt_template"] == "qwen-boxed"
    grid = Grid(validated)
    assert grid.series_models == ["simplerl-zoo-qwen2.5-7b"]
    assert grid.checkpoint_series("simplerl-zoo-qwen2.5-7b") == [
        (0, "qwen2.5-7b"), (40, "simplerl-zoo-qwen2.5-7b-step40"), (80, "simplerl-zoo-qwen2.5-7b-step80"),
        (100, "simplerl-zoo-qwen2.5-7b")]
    assert "results/tables/checkpoints/simplerl-zoo-qwen2.5-7b/aime24.summary.csv" in grid.targets()
    assert validate_config(validated) == validated  # Snakemake validates the expanded config again


def test_the_most_specific_sampling_setting_wins():
    from rlvr_eval.planning.grid import Grid

    config = paper_config()
    config["benchmarks"]["aime24"]["sampling"] = {"temperature": 1.0}
    config["models"]["qwen2.5-math-7b"]["sampling_by_benchmark"] = {"aime24": {"temperature": 0.8}}
    grid = Grid(validate_config(config))
    assert grid.sampling_params("qwen2.5-7b", "gsm8k").temperature == 0.6
    assert grid.sampling_params("qwen2.5-7b", "aime24").temperature == 1.0
    assert grid.sampling_params("qwen2.5-math-7b", "aime24").temperature == 0.8
    assert grid.sampling_params("qwen2.5-math-7b", "aime24").max_new_tokens == 3584  # the model's own, still
    assert grid.sampling_key("qwen2.5-math-7b", "aime24", "max_new_tokens") == "models.qwen2.5-math-7b.sampling.max_new_tokens"


def test_hub_benchmarks_only_at_a_pinned_revision():
    from rlvr_eval.planning.grid import Grid
    from rlvr_eval.planning.preflight import check_hub_revisions

    config = paper_config()
    config["benchmark_source"]["mirror_dir"] = None
    config["benchmark_source"]["hub_revisions"] = {b: "0" * 40 for b in config["benchmarks"]} | {"amc23": "main"}
    with pytest.raises(ConfigError, match=r"benchmark_source.hub_revisions.amc23: 'main' is not a commit hash"):
        check_hub_revisions(Grid(validate_config(config)))
    config["benchmark_source"]["hub_revisions"]["amc23"] = "1" * 40
    check_hub_revisions(Grid(validate_config(config)))
    config["benchmark_source"]["hub_revisions"] = {}
    config["benchmark_source"]["unpinned_hub"] = list(config["benchmarks"])  # on purpose: the head, recorded
    check_hub_revisions(Grid(validate_config(config)))
    # with the paper's files: only the benchmarks still read from the hub need a commit
    config["benchmark_source"].update(mirror_dir="../shared/data/benchmarks", hub_benchmarks=["livecodebench"],
                                      unpinned_hub=[])
    with pytest.raises(ConfigError, match=r"hub_revisions.livecodebench: None is not a commit hash"):
        check_hub_revisions(Grid(validate_config(config)))


def test_validation_does_not_modify_its_input():
    config = paper_config()
    before = copy.deepcopy(config)
    validate_config(config)
    assert config == before


def test_snakemake_stops_on_a_misspelt_key_before_any_job(tmp_path):
    config = demo_config()
    config["sampling"]["temprature"] = config["sampling"].pop("temperature")
    workdir = copy_workflow(tmp_path, config)
    proc = snakemake(workdir, "--dry-run", check=False)
    assert proc.returncode != 0
    lines = [l for l in proc.stderr.splitlines() if "Config error" in l]
    assert lines == ["Config error: unknown key 'temprature' in sampling (allowed: backend, checkpoint_samples, fit_shard_size, lock, max_new_tokens, "
                     "seed, seeding, shard_size, shards_per_job, stop_strings, strip_questions, temperature, top_p)"], proc.stderr
    assert not (workdir / "results").exists()


def test_a_vllm_grid_stops_before_any_job_where_the_jobs_python_has_no_vllm(tmp_path):
    """Jobs run the Python that runs Snakemake: without vLLM there, every sampling job would fail on a GPU node after
    its queueing. A dry run still plans (a login node may plan anywhere); a real run stops before the first job."""
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("this Python has vLLM: the case cannot arise here (.venv has none: `make test-main`)")
    workdir = copy_workflow(tmp_path)
    configs = ("config/demo.yaml", "config/demo-vllm.yaml")
    assert snakemake(workdir, "--dry-run", configfile=configs).returncode == 0
    proc = snakemake(workdir, check=False, configfile=configs)
    assert proc.returncode != 0
    assert "Environment error: models tiny-base, tiny-rl use the vllm backend, but the Python" in proc.stderr
    assert "`make install-cluster`" in proc.stderr
    assert not (workdir / "results").exists()


def test_config_yaml_leaves_the_placeholder_out_and_refuses_it_when_enabled():
    """The VL RL checkpoint is not public: config.yaml leaves it (and its pair) out, and every global output says so.
    Enabled while still a placeholder, the plan stops with one line naming the key and both fixes."""
    from rlvr_eval.planning.grid import Grid
    from rlvr_eval.planning.preflight import check_placeholders

    grid = Grid(load_config(REPO / "config.yaml"))
    assert "qwen2.5-vl-7b-rl" not in grid.models and "qwen2.5-vl-7b-instruct" in grid.models
    assert "easyr1-vl-7b" not in [p["name"] for p in grid.pairs]
    verl = ["grpo-step150", "grpo-step300", "grpo-step450", "ppo", "reinforce-pp", "rloo", "remax", "dapo"]
    assert grid.left_out_note() == (
        "Left out of this run: benchmarks omni_math_train, omni_math_test (../shared/data/benchmarks/omni_math_rule/"
        "omni_math_rule.jsonl is missing: `make data MIRROR_DIR=../shared/data/benchmarks` fetches it); openai-o1 "
        "(enabled: false); qwen2.5-vl-7b-rl (enabled: false); "
        + "".join(f"verl-{v} (enabled: false); " for v in verl)
        + "pair easyr1-vl-7b (its rl model qwen2.5-vl-7b-rl is left out); "
        + "; ".join(f"pair verl-{v} (its rl model verl-{v} is left out)" for v in verl) + ".")
    check_placeholders(grid)
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    del raw["models"]["qwen2.5-vl-7b-rl"]["enabled"]
    with pytest.raises(ConfigError) as e:
        check_placeholders(Grid(validate_config(raw)))
    assert str(e.value) == ("models.qwen2.5-vl-7b-rl.hf_id: 'REPLACE-ME/Qwen2.5-VL-7B-EasyR1-GRPO-Geometry3K' is a "
                            "placeholder: set `path:` to your checkpoint's directory or `hf_id:` to a published one, or "
                            "`enabled: false` to leave the model out (and pair easyr1-vl-7b)")


def test_what_needs_a_left_out_model_is_left_out_too():
    from rlvr_eval.planning.grid import Grid

    config = demo_config()
    config["models"]["tiny-base"]["enabled"] = False  # tiny-rl is trained from it
    grid = Grid(validate_config(config))
    assert grid.models == [] and grid.pairs == []
    assert grid.left_out == {"models": {"tiny-base": "enabled: false", "tiny-rl": "needs tiny-base, which is left out"},
                             "pairs": {"tiny-zero": "its base model tiny-base is left out"}, "benchmarks": {}}


def test_delta_se_is_taken_at_the_papers_k_or_at_n_where_fewer_were_sampled():
    from rlvr_eval.planning.grid import Grid

    grid = Grid(load_config(REPO / "config.yaml"))
    ks = {(e["pair"], e["benchmark"]): e["k"] for e in grid.delta_se_entries()}
    assert ks[("simplerl-zoo-7b", "aime24")] == 256  # n = 1024
    assert ks[("simplerl-zoo-7b", "gsm8k")] == 128  # n = 128 < 256


def test_config_yaml_plans_the_temperature_entropy_and_guessable_figures():
    from rlvr_eval.planning.grid import Grid

    grid = Grid(load_config(REPO / "config.yaml"))
    temperature = {m: {b: grid.sampling_params(m, b).temperature for b in grid.benchmarks_of(m)}
                   for m in ("qwen2.5-7b-t1.2", "simplerl-zoo-qwen2.5-7b-t1.0", "simplerl-zoo-qwen2.5-7b-entropy-matched")}
    assert temperature["qwen2.5-7b-t1.2"] == {"math500": 1.2, "aime24": 1.2}  # Fig. 16
    assert temperature["simplerl-zoo-qwen2.5-7b-t1.0"] == {"math500": 1.0, "aime24": 1.0}
    assert temperature["simplerl-zoo-qwen2.5-7b-entropy-matched"] == {  # Fig. 17, the paper's matched temperatures
        "gsm8k": 1.0, "math500": 0.85, "minerva_math": 0.85, "olympiadbench": 1.0, "aime24": 1.5, "amc23": 0.9}
    assert {grid.weights_model(m) for m in temperature} == {"qwen2.5-7b", "simplerl-zoo-qwen2.5-7b"}
    assert "results/analysis/guessable/simplerl-zoo-7b/aime24.csv" in grid.targets()  # Fig. 12


def test_config_yaml_plans_omni_math_where_the_mirror_has_it_and_names_the_fix_where_not(tmp_path):
    """Qwen2.5-7B with the Fig. 27 prompt on both Omni-MATH-Rule splits and MATH500 (the VeRL RL entries are
    placeholders, left out). A mirror without the file leaves both splits out, the file and `make data` named; with
    `if_missing: leave_out` deleted, the plan stops with one error naming them."""
    from rlvr_eval.planning.grid import Grid
    from rlvr_eval.planning.preflight import check_before_jobs

    mirror = tmp_path / "benchmarks"
    mirror.mkdir()
    for d in MIRROR.iterdir():
        (mirror / d.name).symlink_to(d)
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    raw["benchmark_source"]["mirror_dir"] = str(mirror)
    assert Grid(validate_config(copy.deepcopy(raw))).left_out["benchmarks"].keys() == {"omni_math_train", "omni_math_test"}

    (mirror / "omni_math_rule").symlink_to(REPO / "tests" / "fixtures" / "omni_math_rule")
    grid = Grid(validate_config(copy.deepcopy(raw)))
    assert grid.left_out["benchmarks"] == {} and "benchmark" not in grid.left_out_note()
    assert grid.benchmarks_of("qwen2.5-7b-verl-r1") == ["math500", "omni_math_train", "omni_math_test"]  # config order
    assert {grid.template("qwen2.5-7b-verl-r1", b) for b in grid.benchmarks_of("qwen2.5-7b-verl-r1")} == {"verl-r1"}
    assert [grid.n("qwen2.5-7b-verl-r1", b) for b in ("omni_math_train", "omni_math_test", "math500")] == [256] * 3
    assert not any(p["base"] == "qwen2.5-7b-verl-r1" for p in grid.pairs)  # its RL partners: placeholders

    hub = copy.deepcopy(raw)  # read from the hub, where it has no copy: left out (named), or with no if_missing an error
    hub["benchmark_source"]["hub_benchmarks"] = ["livecodebench", "mathvista", "omni_math_test"]
    assert list(Grid(validate_config(copy.deepcopy(hub))).left_out["benchmarks"]) == ["omni_math_test"]
    del hub["benchmarks"]["omni_math_test"]["if_missing"]
    with pytest.raises(ConfigError, match="benchmarks.omni_math_test: it has no copy on the Hugging Face hub: read it "
                                          "from benchmark_source.mirror_dir"):
        check_before_jobs(Grid(validate_config(hub)))

    (mirror / "omni_math_rule").unlink()
    for b in ("omni_math_train", "omni_math_test"):
        del raw["benchmarks"][b]["if_missing"]
    with pytest.raises(ConfigError) as e:
        check_before_jobs(Grid(validate_config(raw)))
    assert str(e.value) == (f"benchmarks.omni_math_train: its file {mirror}/omni_math_rule/omni_math_rule.jsonl is not "
                            f"in benchmark_source.mirror_dir: `make data MIRROR_DIR={mirror}` fetches it (or set "
                            "benchmarks.omni_math_train.if_missing: leave_out to run without it)")
