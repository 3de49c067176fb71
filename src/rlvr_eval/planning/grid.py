"""The job grid implied by a validated config: which files each stage produces and needs.

The Snakemake rules call these functions (as input functions and targets), so the grid logic is
importable and testable without Snakemake. Paths are relative to the workflow's working directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from rlvr_eval.sampling.backends import SamplingParams
from rlvr_eval.data.benchmarks import CODE_BENCHMARKS
from rlvr_eval.data.livecodebench import LIVECODEBENCH_WINDOWS
from rlvr_eval.planning.config import DEFAULT_COVERAGE_KS, checkpoint_model_name
from rlvr_eval.planning.figure_plan import FigurePlan
from rlvr_eval.planning.entropy_plan import EntropyPlan
from rlvr_eval.planning.perplexity_plan import PerplexityPlan
from rlvr_eval.planning.sample_groups import SampleGroupPlan
from rlvr_eval.planning.left_out import leave_out, note
from rlvr_eval.planning.guessable_files import guessable_filter_files
from rlvr_eval.planning.review_files import review_targets
from rlvr_eval.planning.shard_time import ShardTimes
from rlvr_eval.metrics.passk import default_ks
from rlvr_eval.analysis.training_dynamics import TRAINING_DYNAMICS_FILES
from rlvr_eval.sampling.prompts import is_visual, stop_strings, strips_question, template_fingerprint
from rlvr_eval.sampling.shards import shard_sizes
from rlvr_eval.verify.graders import GRADER_VERSIONS
from rlvr_eval.data.visual import VISUAL_BENCHMARKS


@dataclass(frozen=True)
class Grid(FigurePlan, PerplexityPlan, EntropyPlan, SampleGroupPlan):
    """`config` as validated; the grid holds it without the models the config leaves out (planning.left_out)."""

    config: dict
    left_out: dict = field(init=False)

    def __post_init__(self):
        config, left = leave_out(self.config)
        object.__setattr__(self, "config", config)
        object.__setattr__(self, "left_out", left)

    def left_out_note(self) -> str:
        """The line every global output carries about what the run left out ("" when nothing)."""
        return note(self.left_out)

    # --- models and benchmarks -------------------------------------------------------------
    @property
    def models(self) -> list[str]:
        return list(self.config["models"])

    def model(self, name: str) -> dict:
        return self.config["models"][name]

    def models_of_kind(self, kind: str) -> list[str]:
        """kind: the key that makes the model: 'tiny', 'path', 'hf_id', 'variant_of', 'rlvr', 'checkpoint', ..."""
        return [m for m, spec in self.config["models"].items() if kind in spec]

    def training_data(self, benchmark: str) -> str:
        """The problems a model trains on: a synthetic benchmark's train split, else the benchmark itself."""
        if "synthetic" in self.config["benchmarks"][benchmark]:
            return f"results/data/train/{benchmark}.parquet"
        return f"results/data/{benchmark}.parquet"

    def checkpoints(self, rlvr_model: str) -> dict[int, str]:
        """step -> checkpoint model, for the checkpoints of an rlvr model named in the config."""
        return {spec["checkpoint"]["step"]: name for name, spec in self.config["models"].items()
                if spec.get("checkpoint", {}).get("of") == rlvr_model}

    @property
    def series_models(self) -> list[str]:
        """Models with a checkpoint series: rlvr models (trained here) and models that list `checkpoints`."""
        return [m for m, spec in self.config["models"].items() if "rlvr" in spec or "checkpoints" in spec]

    def checkpoint_series(self, model: str) -> list[tuple[int, str]]:
        """(training step, model) in step order: an rlvr model's starting model (step 0), its checkpoints and itself
        (at its last step); a listing model's `checkpoints`, each a model of the config (rlvr_eval.planning.config)."""
        spec = self.model(model)
        if "rlvr" in spec:
            rlvr = spec["rlvr"]
            return [(0, rlvr["init_from"]), *sorted(self.checkpoints(model).items()), (rlvr["steps"], model)]
        return sorted((c["step"], c.get("model") or checkpoint_model_name(model, c["step"])) for c in spec["checkpoints"])

    def series_benchmarks(self, model: str) -> list[str]:
        """The benchmarks every model of the series is evaluated on."""
        members = [m for _, m in self.checkpoint_series(model)]
        return [b for b in self.benchmarks_of(model) if all(b in self.benchmarks_of(m) for m in members)]

    def checkpoint_series_files(self, model: str) -> list[str]:
        return [f"results/{kind}/checkpoints/{model}/{b}{suffix}" for b in self.series_benchmarks(model)
                for kind, suffix in (("tables", ".csv"), ("tables", ".md"), ("tables", ".summary.csv"),
                                     ("tables", ".summary.md"), ("figures", ".png"), ("figures", ".pdf"),
                                     ("figures", ".passk.png"), ("figures", ".passk.pdf"))]

    @property
    def benchmarks(self) -> list[str]:
        return list(self.config["benchmarks"])

    def benchmark_mirror(self, benchmark: str) -> str | None:
        """The local directory `benchmark` is read from; None: the hub (or generated, for a synthetic benchmark)."""
        source = self.config.get("benchmark_source", {})
        if "synthetic" in self.config["benchmarks"][benchmark] or benchmark in source.get("hub_benchmarks", []):
            return None
        return source.get("mirror_dir")

    def benchmarks_of(self, model: str) -> list[str]:
        """The benchmarks `model` is evaluated on, in config order: models.<m>.benchmarks; without it, every benchmark
        of its template's modality (a visual template such as qwen25-vl-think on the visual benchmarks, any other
        template on the others)."""
        chosen = self.model(model).get("benchmarks")
        if chosen is not None:
            return [b for b in self.benchmarks if b in chosen]
        return [b for b in self.benchmarks if (b in VISUAL_BENCHMARKS) == is_visual(self.template(model, b))]

    def models_on(self, benchmark: str) -> list[str]:
        return [m for m in self.models if benchmark in self.benchmarks_of(m)]

    @property
    def pairs(self) -> list[dict]:
        return self.config["pairs"]

    def pair_benchmarks(self, pair: str) -> list[str]:
        """The benchmarks both models of a pair are evaluated on."""
        p = self.pair(pair)
        return [b for b in self.benchmarks_of(p["base"]) if b in self.benchmarks_of(p["rl"])]

    def template(self, model: str, benchmark: str) -> str | None:
        """models.<m>.prompt_template_by_benchmark.<b>, else prompt_template (None: an imported model names none)."""
        spec = self.model(model)
        return spec.get("prompt_template_by_benchmark", {}).get(benchmark, spec.get("prompt_template"))

    def n(self, model: str, benchmark: str) -> int:
        """Samples per problem of `model` on `benchmark` (models.<m>.n overrides benchmarks.<b>.n)."""
        return self.model(model).get("n", {}).get(benchmark, self.config["benchmarks"][benchmark]["n"])

    def weights_model(self, model: str) -> str:
        """The model whose weights `model` uses (itself, unless it is a variant_of another)."""
        return self.model(model).get("variant_of", model)

    # --- sampling -------------------------------------------------------------------------
    @property
    def shard_size(self) -> int:
        """sampling.shard_size: the shard size of every model x benchmark unless one is set or fitted (shard_size_of)."""
        return self.config["sampling"].get("shard_size", 64)

    @cached_property
    def shard_times(self) -> ShardTimes:
        return ShardTimes(self.config)

    @cached_property
    def _shard_sizes(self) -> dict:
        return {}

    def shard_size_of(self, model: str, benchmark: str) -> int:
        """Samples per problem in one shard of `model` on `benchmark` (planning.shard_time: set, fitted or global).
        Sample indices start at shard x this: changing it for sampled models resamples them."""
        key = (model, benchmark)
        if key not in self._shard_sizes:
            sampling = self.config["sampling"]
            fixed = not sampling.get("fit_shard_size") and "shard_size" not in self.model(model) and \
                "shard_size" not in self.config["benchmarks"][benchmark]
            self._shard_sizes[key] = self.shard_size if fixed else self.shard_times.shard_size(
                model, benchmark, self.sampling_params(model, benchmark).max_new_tokens)
        return self._shard_sizes[key]

    def shards(self, model: str, benchmark: str) -> list[str]:
        return [f"{i:04d}" for i in range(len(shard_sizes(self.n(model, benchmark), self.shard_size_of(model, benchmark))))]

    def shard_num_samples(self, model: str, benchmark: str, shard: str) -> int:
        sizes = shard_sizes(self.n(model, benchmark), self.shard_size_of(model, benchmark))
        i = int(shard)
        if i >= len(sizes):
            raise ValueError(f"shard {shard} is beyond n={self.n(model, benchmark)} for {model} on {benchmark}")
        return sizes[i]

    def sampling_sources(self, model: str, benchmark: str) -> list[tuple[str, dict]]:
        """(config key, settings) from the least to the most specific: sampling, benchmarks.<b>.sampling,
        models.<m>.sampling, models.<m>.sampling_by_benchmark.<b>."""
        m = self.model(model)
        return [("sampling", self.config["sampling"]),
                (f"benchmarks.{benchmark}.sampling", self.config["benchmarks"][benchmark].get("sampling", {})),
                (f"models.{model}.sampling", m.get("sampling", {})),
                (f"models.{model}.sampling_by_benchmark.{benchmark}", m.get("sampling_by_benchmark", {}).get(benchmark, {}))]

    def sampling_key(self, model: str, benchmark: str, key: str) -> str:
        """The config key that sets `key` (e.g. temperature) for this model and benchmark: for error messages."""
        return next(f"{where}.{key}" for where, s in reversed(self.sampling_sources(model, benchmark)) if key in s)

    def sampling_settings(self, model: str, benchmark: str) -> dict:
        """The sampling keys of every source merged, the most specific winning."""
        return {k: v for _, settings in self.sampling_sources(model, benchmark) for k, v in settings.items()}

    def sampling_params(self, model: str, benchmark: str) -> SamplingParams:
        s = self.sampling_settings(model, benchmark)
        return SamplingParams(s["temperature"], s["top_p"], s["max_new_tokens"],
                              tuple(stop_strings(self.template(model, benchmark), s.get("stop_strings", "official"))))

    @property
    def sampled_models(self) -> list[str]:
        """Models whose samples are generated here (not imported)."""
        return [m for m in self.models if "responses" not in self.model(m)]

    def import_entry(self, model: str, benchmark: str) -> str:
        return r if isinstance(r := self.model(model)["responses"], str) else r[benchmark]  # one file, or one each

    def prompt_params(self, model: str, benchmark: str) -> dict:
        """The prompt's params (the sample rule's): the template, its fingerprint, and whether each question is
        stripped (sampling.strip_questions, where the template's official code strips it)."""
        template = self.template(model, benchmark)
        strip = self.sampling_settings(model, benchmark).get("strip_questions", True) and strips_question(template)
        return {"template": template, "fingerprint": template_fingerprint(template), "strip_questions": strip}

    def backend(self, model: str) -> str:
        return self.model(model).get("backend", self.config["sampling"].get("backend", "vllm"))

    def backend_options(self, model: str) -> dict:
        m = self.model(model)
        if self.backend(model) == "vllm":
            opts = {"tensor_parallel_size": m.get("tensor_parallel_size", 1),
                    "gpu_memory_utilization": m.get("gpu_memory_utilization", 0.9)}
            opts.update({k: m[k] for k in ("enforce_eager", "dtype", "enable_chunked_prefill") if k in m})  # e.g. vLLM's CPU build
            if self.config["sampling"].get("seeding", "per_request") != "per_request":  # (the default adds no param)
                opts["seeding"] = self.config["sampling"]["seeding"]
        else:
            opts = {}
        if "max_model_len" in m:
            opts["max_model_len"] = m["max_model_len"]
        # vision-language models: the image processor's pixel limits (they set the number of image tokens)
        opts.update({k: m[k] for k in ("min_pixels", "max_pixels") if k in m})
        return opts

    def sample_file(self, model: str, benchmark: str, shard: str) -> str:
        return f"results/samples/{model}/{benchmark}/shard-{shard}.parquet"

    def sample_files(self, model: str, benchmark: str) -> list[str]:
        return [self.sample_file(model, benchmark, s) for s in self.shards(model, benchmark)]

    # --- verification ---------------------------------------------------------------------
    def grader(self, benchmark: str) -> str:
        """The grader whose verdicts feed pass@k, tables and figures for this benchmark."""
        if benchmark in CODE_BENCHMARKS:
            return self.config["benchmarks"][benchmark].get("grader", "code_exec")
        return self.config["benchmarks"][benchmark].get("grader", self.config.get("verification", {}).get("grader", "math_verify"))

    def compare_graders(self) -> list[str]:
        return list(self.config.get("verification", {}).get("compare_graders", []))

    def grader_timeout(self, grader: str) -> float:
        v = self.config.get("verification", {})
        return v.get("timeout_s_by_grader", {}).get(grader, v.get("timeout_s", 10))

    def grader_version(self, grader: str) -> str:
        return GRADER_VERSIONS[grader]

    def verdict_files(self, model: str, benchmark: str, grader: str) -> list[str]:
        return [f"results/verdicts/{model}/{benchmark}/{grader}/shard-{s}.parquet" for s in self.shards(model, benchmark)]

    # --- metrics and reports --------------------------------------------------------------
    def ks(self, model: str, benchmark: str) -> list[int]:
        return default_ks(self.n(model, benchmark), self.config.get("passk", {}).get("every_k", False))

    def metrics_file(self, model: str, benchmark: str, grader: str | None = None) -> str:
        return f"results/metrics/{model}/{benchmark}/{grader or self.grader(benchmark)}/per_problem.parquet"

    def metrics_files(self, benchmark: str) -> list[str]:
        return [self.metrics_file(m, benchmark) for m in self.models_on(benchmark)]

    # --- analyses of base/RL pairs ---------------------------------------------------------
    def pair(self, name: str) -> dict:
        return next(p for p in self.pairs if p["name"] == name)

    @property
    def analysis(self) -> dict:
        return self.config.get("analysis", {})

    def pair_n(self, pair: str, benchmark: str) -> int:
        """The samples per problem both models of a pair have (the smaller n): coverage and crossovers compare
        the models at the same k."""
        p = self.pair(pair)
        return min(self.n(p["base"], benchmark), self.n(p["rl"], benchmark))

    def coverage_ks(self, pair: str, benchmark: str) -> list[int]:
        n = self.pair_n(pair, benchmark)
        given = self.analysis.get("coverage_ks")
        # only the default is cut at n: rlvr_eval.planning.config refuses a given k above a pair's n
        ks = DEFAULT_COVERAGE_KS if given is None else given
        return sorted({k for k in ks if k <= n} | {n})

    def rl_pairs(self) -> list[dict]:
        return [p for p in self.pairs if p.get("kind", "rl") == "rl"]

    def delta_se_entries(self) -> list[dict]:
        """One entry per (RL pair, benchmark): the models, k = analysis.delta_se.k or the pair's n if smaller, and the
        metrics files."""
        k = self.analysis.get("delta_se", {}).get("k", 256)
        return [{"pair": p["name"], "benchmark": b, "base": p["base"], "rl": p["rl"], "k": min(k, self.pair_n(p["name"], b)),
                 "base_file": self.metrics_file(p["base"], b), "rl_file": self.metrics_file(p["rl"], b)}
                for p in self.rl_pairs() for b in self.pair_benchmarks(p["name"])]

    def scored_config(self) -> dict:
        """The config as it bears on the scores (the run summary records it): without what changes no sample or
        verdict (sampling.checkpoint_samples and sampling.lock), the cluster resources and the analyses, so that
        editing those does not rewrite the summary."""
        out = {k: v for k, v in self.config.items() if k not in ("resources", "analysis")}
        out["sampling"] = {k: v for k, v in self.config["sampling"].items() if k not in ("checkpoint_samples", "lock")}
        return out

    def summary_entries(self) -> list[dict]:
        """One entry per model x benchmark (its primary grader): the settings that made its scores, and its metrics."""
        out = []
        for m in self.models:
            for b in self.benchmarks_of(m):
                s = self.sampling_params(m, b)
                out.append({"model": m, "benchmark": b, "grader": self.grader(b), "n": self.n(m, b),
                            "temperature": s.temperature, "top_p": s.top_p, "max_new_tokens": s.max_new_tokens,
                            "file": self.metrics_file(m, b)})
        return out

    def token_nll_entries(self) -> list[dict]:
        """One entry per (model, benchmark) whose samples are generated here (imported ones carry no log-probs)."""
        return [{"model": m, "benchmark": b, "files": self.sample_files(m, b)}
                for m in self.sampled_models for b in self.benchmarks_of(m)]

    def graders_used(self, benchmark: str) -> list[str]:
        """The primary grader of the benchmark, then the compared ones (answer graders: not for code)."""
        if benchmark in CODE_BENCHMARKS:
            return [self.grader(benchmark)]
        return list(dict.fromkeys([self.grader(benchmark), *self.compare_graders()]))

    def targets(self) -> list[str]:
        """Every artifact of the grid, intermediates included: a deleted or corrupt-and-removed file anywhere is
        rebuilt by a plain `snakemake`, and the default target covers all that `rlvr-eval audit` checks."""
        out = [f"results/data/{b}.parquet" for b in self.benchmarks]
        out += [f"results/data/{b}.expected.json.gz" for b in self.benchmarks
                if b in CODE_BENCHMARKS and b not in LIVECODEBENCH_WINDOWS]  # expected outputs of the canonical solutions
        out += [f"results/models/{m}.json" for m in self.models if "responses" not in self.model(m)]
        out += [f"results/models/{m}" for m in self.models_of_kind("tiny")]
        for m in self.models:
            for b in self.benchmarks_of(m):
                out += self.sample_files(m, b)
                for g in self.graders_used(b):
                    out += self.verdict_files(m, b, g)
                metrics = self.metrics_file(m, b)
                out += [metrics, metrics.replace("per_problem.parquet", "passk.csv")]
        for b in self.benchmarks:
            out += [f"results/tables/passk/{b}.csv", f"results/tables/passk/{b}.md", f"results/tables/samples/{b}.csv"]
        out += ["results/figures/passk_curves.png", "results/figures/passk_curves.pdf"]
        for p in self.pairs:
            name = p["name"]
            for b in self.pair_benchmarks(name):
                out += [f"results/analysis/coverage/{name}/{b}.csv", f"results/analysis/coverage/{name}/{b}.json",
                        f"results/analysis/accuracy_hist/{name}/{b}.csv"]
                out += [f"results/analysis/bootstrap/{name}/{b}/{f}" for f in ("passk.csv", "difference.csv", "crossover.json")]
            out += self.perplexity_files(name) + self.analysis_figures(name)
        if self.rl_pairs():
            out += ["results/tables/delta_se.csv", "results/tables/delta_se.md"]
        out += ["results/tables/token_nll.csv", "results/tables/token_nll.md"]
        out += self.entropy_targets()
        out += review_targets(self)
        out += guessable_filter_files(self)
        out += ["results/summary.json", "results/summary.md"]
        out += [f for m in self.series_models for f in self.checkpoint_series_files(m)]
        out += [f for f in TRAINING_DYNAMICS_FILES if self.models_of_kind("rlvr")]  # its inputs: every training log
        if len(self.compare_graders()) >= 2:
            for m in self.models:
                for b in (b for b in self.benchmarks_of(m) if b not in CODE_BENCHMARKS):
                    d = f"results/grader_agreement/{m}/{b}"
                    out += [f"{d}/{f}" for f in ("summary.md", "disagreements.csv", "summary.csv", "status_crosstab.csv",
                                                 "pass_at_k.csv", "coverage.csv", "causes.csv")]
        return list(dict.fromkeys(out))
