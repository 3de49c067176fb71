# Config validation and input functions. All grid logic lives in rlvr_eval.planning.grid (importable, tested).
import os
import re
import sys

from snakemake.utils import validate

# The plan and the jobs must run the same code: this workflow's own src/ comes first, for the Snakefile here
# and (PYTHONPATH, below) for every job, whatever rlvr_eval the running Python has installed.
SRC_DIR = os.path.join(workflow.basedir, "src")
if os.path.isdir(SRC_DIR):
    sys.path.insert(0, SRC_DIR)

from rlvr_eval.provenance import stamps
from rlvr_eval.planning.config import SCHEMA_PATH, ConfigError, validate_config
from rlvr_eval.planning.preflight import check_before_jobs, job_environment_problems
from rlvr_eval.planning.grid import Grid
from rlvr_eval.planning.table_settings import table_settings
from rlvr_eval.planning.guessable_files import guessable_filter
from rlvr_eval.planning.review_files import judgements_file
from rlvr_eval.sampling.prompts import code_prefix
from rlvr_eval.data.livecodebench import LIVECODEBENCH_WINDOWS
from rlvr_eval.provenance.stamps import logic_version
from rlvr_eval.planning.resources import JobResources, ResourceConfigError

try:
    config.update(validate_config(config))
    RESOURCES = JobResources(config)  # per-job cluster resources (config `resources:`)
    GRID = Grid(config)
    _gone = {}  # benchmarks if_missing: leave_out left out, by reason (one file): one line; global outputs say so too
    for _name, _why in GRID.left_out["benchmarks"].items():
        _gone.setdefault(_why, []).append(_name)
    for _why, _names in _gone.items():
        print(f"Warning: left out of this run: benchmark{'s' if len(_names) > 1 else ''} {', '.join(_names)} ({_why})",
              file=sys.stderr)
    check_before_jobs(GRID)  # local model paths, limits, max_new_tokens against staged models' contexts
except (ConfigError, ResourceConfigError) as e:
    sys.exit(f"Config error: {e}")
validate(config, SCHEMA_PATH, set_default=True)

# Provenance (rlvr_eval.provenance.stamps): every rule passes `logic=logic_version(<stage>)`, a stamp of its code that
# also sees the modules its script imports, so Snakemake's params trigger reruns what a code change invalidates.
# The workflow profile (profiles/default/config.yaml) turns off Snakemake's own code trigger (a script's mtime)
# and checksums inputs up to 10 GB, so a touched but unchanged file reruns nothing.
stamps.set_workflow_dir(workflow.basedir)
for problem in stamps.undeclared_manual_code():
    sys.exit(f"Code error: {problem}")


onstart:
    # Before the first job (not in a dry run): the jobs' Python must be able to sample with the grid's backends.
    conda = "CONDA" in {m.name for m in workflow.deployment_settings.deployment_method}
    for problem in job_environment_problems(GRID, conda):
        sys.exit(f"Environment error: {problem}")


onsuccess:
    # Where a researcher looks first: every score with its interval (rule summary).
    if os.path.isfile("results/summary.md"):
        print(open("results/summary.md").read())


# Jobs in the conda environments of envs/ (--use-conda) import rlvr_eval from this source tree.
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [SRC_DIR, os.environ.get("PYTHONPATH")])))


def regex_of(names):
    """A wildcard constraint matching exactly these names (or nothing)."""
    return "|".join(re.escape(n) for n in names) or "(?!x)x"


wildcard_constraints:
    model=regex_of(GRID.models),
    benchmark=regex_of(GRID.benchmarks),
    shard=r"\d{4}",
    pair=regex_of([p["name"] for p in GRID.pairs]),


# --- input functions and helpers of the rules ------------------------------------------------------
# Perplexity jobs: group -> its response sets (analysis.perplexity.group_by), and every group's wildcards.
PPL_GROUPS = GRID.perplexity_groups
PPL_GROUP_JOBS = [{"group": g} for g in PPL_GROUPS]


def ppl_scorer(wildcards):
    return PPL_GROUPS[wildcards.group][0]["scored_model"]


def perplexity_group_sets(group):
    """The sets of a perplexity job with what determines each table: its template and its input files."""
    return [{**s, "template": GRID.template(s["scored_model"], s["benchmark"]),
             "template_fingerprint": GRID.prompt_params(s["scored_model"], s["benchmark"])["fingerprint"],
             "strip_questions": GRID.prompt_params(s["scored_model"], s["benchmark"])["strip_questions"],
             "problems": f"results/data/{s['benchmark']}.parquet",
             "samples": GRID.sample_files(s["response_model"], s["benchmark"])} for s in PPL_GROUPS[group]]


def perplexity_job_resources():
    """gpu, cpus_per_gpu, mem_mb, runtime, nodes of each perplexity job: its scoring model's GPUs and memory, a
    runtime per response set (JobResources.perplexity); plain values when every job gets the same (constant_or), else
    lookups in a table built once."""
    table = {g: RESOURCES.perplexity(sets[0]["scored_model"], len(sets)) for g, sets in PPL_GROUPS.items()}
    return {key: constant_or(lambda w, key=key: table[w.group][key], PPL_GROUP_JOBS)
            for key in ("gpu", "cpus_per_gpu", "mem_mb", "runtime", "nodes")}


ENTROPY_JOBS = [{"model": m} for m in GRID.entropy_models()]


def entropy_job_resources():
    """The resources of each entropy job (a transformers scoring pass of one model over its own response sets): as
    a perplexity job of the model over as many sets (JobResources.perplexity: its sampling jobs' GPUs and memory)."""
    table = {m: RESOURCES.perplexity(m, len(GRID.entropy_sets(m))) for m in GRID.entropy_models()}
    return {key: constant_or(lambda w, key=key: table[w.model][key], ENTROPY_JOBS)
            for key in ("gpu", "cpus_per_gpu", "mem_mb", "runtime", "nodes")}


def sample_job_resources():
    """The resources of a sampling job (as perplexity_job_resources), with its runtime per model x benchmark
    (resources.sampling.runtime: estimate sizes it to the shard: rlvr_eval.planning.shard_time)."""
    from rlvr_eval.planning.shard_time import sample_job_resources as of

    jobs = [{"model": m, "benchmark": b} for m in GRID.sampled_models for b in GRID.benchmarks_of(m)]
    table = {(j["model"], j["benchmark"]): of(GRID, j["model"], j["benchmark"]) for j in jobs}
    return {key: constant_or(lambda w, key=key: table[w.model, w.benchmark][key], jobs)
            for key in ("gpu", "cpus_per_gpu", "mem_mb", "runtime", "nodes")}


# Sampling jobs of several shards (sampling.shards_per_job): group -> {model, benchmark, shards}.
SAMPLE_GROUPS = GRID.sample_groups


def group_job(wildcards):
    """(model, benchmark) of a sample_group job."""
    group = SAMPLE_GROUPS[wildcards.group]
    return group["model"], group["benchmark"]


def sample_group_members(group):
    """The shards a sample_group job samples: each one's wildcards, samples per problem and file."""
    g = SAMPLE_GROUPS[group]
    return [{"model": g["model"], "benchmark": g["benchmark"], "shard": s,
             "num_samples": GRID.shard_num_samples(g["model"], g["benchmark"], s),
             "output": GRID.sample_file(g["model"], g["benchmark"], s)} for s in g["shards"]]


def sample_group_job_resources():
    """The resources of each sample_group job (GRID.sample_group_resources), looked up in a table built once."""
    table = {g: GRID.sample_group_resources(g) for g in SAMPLE_GROUPS}
    return {key: lambda w, key=key: table[w.group][key] for key in ("gpu", "cpus_per_gpu", "mem_mb", "runtime", "nodes")}


def shard_size_param():
    """Samples per problem of a full shard of the job's model x benchmark (GRID.shard_size_of)."""
    jobs = [{"model": m, "benchmark": b} for m in GRID.models for b in GRID.benchmarks_of(m)]
    return constant_or(lambda w: GRID.shard_size_of(w.model, w.benchmark), jobs)


def constant_or(function, jobs):
    """`function` of a job's wildcards as a rule's argument: the value itself when it is the same for every one of
    `jobs` (all the wildcard values the rule accepts), which Snakemake then takes as is instead of calling a function
    for every job; else `function`. Strings with braces stay functions (Snakemake would format them)."""
    from types import SimpleNamespace

    values = [function(SimpleNamespace(**wildcards)) for wildcards in jobs]
    if not values or any(repr(v) != repr(values[0]) for v in values) or "{" in repr(values[0]):
        return function
    return values[0]


def record_signatures(rules):
    """Snakemake reads the signature of each input, params and conda function again for every job (three
    inspect.signature calls per function and job, about 5 % of planning 50,000 jobs). Record each once with
    Snakemake's own hook for that (snakemake.common.overwrite_function_params), so the same parameters are passed
    without inspecting again. Nothing else changes: the functions are called exactly as before."""
    import inspect

    try:
        from snakemake.common import overwrite_function_params
    except ImportError:  # a Snakemake without the hook: plan at its own speed
        return
    for r in rules:
        items = [*r.input, *r.params, getattr(r, "conda_env", None)]
        for f in (getattr(item, "callable", None) or item for item in items):
            if inspect.isfunction(f):
                overwrite_function_params(f, inspect.signature(f).parameters)


def benchmark_source_files(wildcards):
    mirror = GRID.benchmark_mirror(wildcards.benchmark)
    if mirror is None:
        return []
    from rlvr_eval.data.benchmarks import mirror_path
    from rlvr_eval.data.visual import VISUAL_BENCHMARKS, options_for, selected_images

    files = [str(mirror_path(wildcards.benchmark, mirror))]
    spec = config["benchmarks"][wildcards.benchmark]
    if wildcards.benchmark in VISUAL_BENCHMARKS:  # the images too: an edited image remakes the table
        files += [str(p) for p in selected_images(wildcards.benchmark, mirror, options_for(wildcards.benchmark, spec),
                                                  spec.get("limit"), check=False)]
    return files


def visual_options(wildcards):
    from rlvr_eval.data.visual import VISUAL_BENCHMARKS, options_for

    if wildcards.benchmark not in VISUAL_BENCHMARKS:
        return None
    return options_for(wildcards.benchmark, config["benchmarks"][wildcards.benchmark])


def pair_verdicts(role):
    return lambda w: GRID.verdict_files(GRID.pair(w.pair)[role], w.benchmark, GRID.grader(w.benchmark))


def pair_metrics(role):
    return lambda w: GRID.metrics_file(GRID.pair(w.pair)[role], w.benchmark)


def pair_params():
    return dict(
        pair="{pair}",
        benchmark="{benchmark}",
        base=lambda w: GRID.pair(w.pair)["base"],
        rl=lambda w: GRID.pair(w.pair)["rl"],
    )


def figure_outputs(names):
    out = {}
    for name in names:
        out[name] = report(
            f"results/figures/{{pair}}/{name}.png",
            caption=f"../report/{name}.rst",
            category="{pair}",
            labels={"pair": "{pair}", "figure": name},
        )
        out[f"{name}_pdf"] = f"results/figures/{{pair}}/{name}.pdf"
    return out
