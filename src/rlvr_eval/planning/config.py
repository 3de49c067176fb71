"""Load and check the workflow configuration before any job starts.

Schema errors (unknown or misspelt keys, wrong types), cross-references (pairs naming unknown
models, unknown templates, benchmarks or graders) and settings the grid cannot honour (a coverage k
above a pair's n) become one-line `ConfigError`s that name the key.
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import yaml

from rlvr_eval.data.benchmarks import BENCHMARKS
from rlvr_eval.data.livecodebench import LIVECODEBENCH_WINDOWS
from rlvr_eval.sampling.prompts import is_visual, template_names
from rlvr_eval.code.driver import CODE_GRADERS
from rlvr_eval.verify.graders import GRADERS
from rlvr_eval.data.visual import VISUAL_BENCHMARKS
from rlvr_eval.models.rlvr import algorithm_problem
from rlvr_eval.planning.imported import ImportedConfigError, infer_imported

SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")
DEFAULT_COVERAGE_KS = (1, 8, 64)  # analysis.coverage_ks: null; unlike a given list, cut at each pair's n


class ConfigError(ValueError):
    pass


def _where(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _schema_error_message(err: jsonschema.ValidationError) -> str:
    where = _where(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed)) if isinstance(err.instance, dict) else []
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"unknown key {', '.join(repr(e) for e in extra)} in {where}{hint}"
    if err.validator == "required":
        return f"{where}: {err.message}"
    if err.validator == "oneOf" and "checkpoints" in list(err.absolute_path):
        return f"{where}: give exactly one of 'revision', 'path' or 'model' (with its 'step')"
    if err.validator == "oneOf" and "models" in list(err.absolute_path)[:1]:
        return f"{where}: give exactly one of 'hf_id', 'path', 'tiny', 'variant_of', 'responses', 'rlvr' or 'checkpoint'"
    return f"{where}: {err.message}"


def _with_defaults(validator_cls):
    """A validator that fills in schema defaults (as snakemake.utils.validate(set_default=True) does)."""
    validate_properties = validator_cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    # JSON Schema counts 8.0 as an integer; a float where a count belongs (n: 8.0) is a typo to report here,
    # not a TypeError in some input function later.
    strict_integers = validator_cls.TYPE_CHECKER.redefine(
        "integer", lambda checker, value: isinstance(value, int) and not isinstance(value, bool))
    return jsonschema.validators.extend(validator_cls, {"properties": set_defaults}, type_checker=strict_integers)


def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    return yaml.safe_load(Path(path).read_text())


def validate_config(config: dict, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Return a copy of `config` with defaults filled in; raise ConfigError naming the first problem."""
    config = copy.deepcopy(config)
    if isinstance(config.get("models"), dict):  # before the schema fills in its defaults (tensor_parallel_size: 1)
        config["models"] = inherit_engine_settings(config["models"])
    schema = load_schema(schema_path)
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), e.path))
    if errors:
        raise ConfigError(_schema_error_message(errors[0]))
    config["models"] = expand_checkpoint_series(config["models"])
    try:
        infer_imported(config)  # before the references: an imported model's benchmarks come from its file
    except ImportedConfigError as e:
        raise ConfigError(str(e)) from None
    _check_references(config)
    _check_coverage_ks(config)
    _check_shard_groups(config)
    return config


def _check_shard_groups(config: dict) -> None:
    sampling = config["sampling"]
    if sampling.get("shards_per_job", 1) > 1 and sampling.get("seeding") == "engine":
        raise ConfigError("sampling.shards_per_job: several shards share one engine, but sampling.seeding: engine "
                          "seeds each shard's engine with its own seed; set shards_per_job: 1 or seeding: per_request")


# What running a model's weights needs, whatever is asked of them: a variant that does not set one of these takes
# its weights' model's value (a 32B variant without tensor_parallel_size would otherwise get one GPU).
ENGINE_SETTINGS = ("backend", "tensor_parallel_size", "gpu_memory_utilization", "enforce_eager", "dtype",
                   "enable_chunked_prefill", "max_model_len", "min_pixels", "max_pixels")


def inherit_engine_settings(models: dict) -> dict:
    """Models with each variant's unset ENGINE_SETTINGS taken from the model whose weights it uses. Idempotent."""
    out = {}
    for name, spec in models.items():
        of = spec.get("variant_of") if isinstance(spec, dict) else None
        source = models.get(of) if isinstance(of, str) else None  # a malformed entry: the schema names it
        if not isinstance(source, dict):
            out[name] = spec
            continue
        out[name] = {**{k: source[k] for k in ENGINE_SETTINGS if k in source}, **spec}
    return out


def checkpoint_model_name(model: str, step: int) -> str:
    """The model entry that a listed checkpoint (revision or path) of `model` at `step` becomes."""
    return f"{model}-step{step}"


def checkpoint_model(name: str, spec: dict, checkpoint: dict) -> dict:
    """The entry of one listed checkpoint: the series model's evaluation settings (template, sampling, n, engine
    options), with the checkpoint's weights."""
    where = f"models.{name}.checkpoints[step {checkpoint['step']}]"
    entry = {k: v for k, v in spec.items() if k not in ("hf_id", "revision", "path", "checkpoints")}
    if "path" in checkpoint:
        return {"path": checkpoint["path"], **entry}
    hf_id = checkpoint.get("hf_id", spec.get("hf_id"))
    if hf_id is None:
        raise ConfigError(f"{where}: a revision needs a hub repository: give 'hf_id' here or on models.{name}")
    return {"hf_id": hf_id, "revision": checkpoint["revision"], **entry}


def expand_checkpoint_series(models: dict) -> dict:
    """Models with every listed checkpoint (revision or path) of a series added as a model of its own, right after
    the series model, so that staging, sampling, verification and pass@k treat it like any model. Idempotent."""
    out = {}
    for name, spec in models.items():
        out.setdefault(name, spec)
        if "checkpoints" not in spec:
            continue
        if "hf_id" not in spec and "path" not in spec:
            raise ConfigError(f"models.{name}.checkpoints: only a hub (hf_id) or local (path) model lists checkpoints "
                              f"(an rlvr model's are `checkpoint: {{of, step}}` entries)")
        steps = [c["step"] for c in spec["checkpoints"]]
        if len(set(steps)) != len(steps):
            raise ConfigError(f"models.{name}.checkpoints: steps {steps} repeat a step")
        for c in spec["checkpoints"]:
            where = f"models.{name}.checkpoints[step {c['step']}]"
            if "hf_id" in c and "revision" not in c:
                raise ConfigError(f"{where}: 'hf_id' goes with a 'revision'")
            if "model" in c:
                other = models.get(c["model"])
                if other is None:
                    raise ConfigError(f"{where}.model: unknown model {c['model']!r}")
                if other.get("prompt_template") != spec["prompt_template"]:
                    raise ConfigError(f"{where}.model: {c['model']!r} uses template {other.get('prompt_template')!r}, "
                                      f"the series {spec['prompt_template']!r}: a series compares one evaluation")
                continue
            entry, new = checkpoint_model_name(name, c["step"]), checkpoint_model(name, spec, c)
            if models.get(entry, new) != new or out.get(entry, new) != new:
                raise ConfigError(f"{where}: its model name {entry!r} is already another model of this config")
            out[entry] = new
    return out


def _template_on(m: dict, benchmark: str) -> str | None:
    """None: an imported model without a template (its responses exist already)."""
    return m.get("prompt_template_by_benchmark", {}).get(benchmark, m.get("prompt_template"))


def evaluated_benchmarks(config: dict, m: dict) -> list[str]:
    """A model entry's benchmarks (as rlvr_eval.planning.grid.Grid.benchmarks_of): its `benchmarks` list, else every benchmark
    of its template's modality (visual templates on the visual benchmarks, the others on the others)."""
    if "benchmarks" in m:
        return list(m["benchmarks"])
    if "responses" in m:  # a left-out imported model's file was not read: it names no benchmark
        return []
    return [b for b in config["benchmarks"] if (b in VISUAL_BENCHMARKS) == is_visual(_template_on(m, b))]


def _check_references(config: dict) -> None:
    models = config["models"]
    templates = template_names()
    for name, m in models.items():
        if "prompt_template" in m and m["prompt_template"] not in templates:
            raise ConfigError(f"models.{name}.prompt_template: unknown template {m['prompt_template']!r} "
                              f"(known: {', '.join(templates)})")
        evaluated = evaluated_benchmarks(config, m)
        for b in evaluated:
            if b not in config["benchmarks"]:
                raise ConfigError(f"models.{name}.benchmarks: {b!r} is not in benchmarks")
            template = _template_on(m, b)
            if template in templates and (b in VISUAL_BENCHMARKS) != is_visual(template):
                raise ConfigError(f"models.{name}.benchmarks: {b!r} is {'a' if b in VISUAL_BENCHMARKS else 'not a'} "
                                  f"visual benchmark and the model's template {template!r} "
                                  f"{'takes no' if b in VISUAL_BENCHMARKS else 'takes'} images")
        for b, t in m.get("prompt_template_by_benchmark", {}).items():
            if b not in evaluated:
                raise ConfigError(f"models.{name}.prompt_template_by_benchmark.{b}: {b!r} is not a benchmark this "
                                  f"model is evaluated on")
            if t not in templates:
                raise ConfigError(f"models.{name}.prompt_template_by_benchmark.{b}: unknown template {t!r} "
                                  f"(known: {', '.join(templates)})")
        source = m.get("variant_of")
        if source is not None and (source not in models or "variant_of" in models[source]):
            raise ConfigError(f"models.{name}.variant_of: {source!r} is not a model of this config with weights of its "
                              f"own (hf_id, path or tiny)")
        for key in ("n", "shard_size", "sampling_by_benchmark"):
            for b in m.get(key, {}):
                if b not in config["benchmarks"]:
                    raise ConfigError(f"models.{name}.{key}.{b}: {b!r} is not in benchmarks")
        init = m.get("tiny", {}).get("init_from")
        if init is not None and "tiny" not in models.get(init, {}):
            raise ConfigError(f"models.{name}.tiny.init_from: {init!r} is not a tiny model of this config")
        for kind in ("tiny", "rlvr"):
            for b in m.get(kind, {}).get("train_benchmarks", []):
                if b not in config["benchmarks"]:
                    raise ConfigError(f"models.{name}.{kind}.train_benchmarks: {b!r} is not in benchmarks")
        if "rlvr" in m and m["rlvr"]["init_from"] not in models:
            raise ConfigError(f"models.{name}.rlvr.init_from: unknown model {m['rlvr']['init_from']!r}")
        if "rlvr" in m:
            algorithm = {k: m["rlvr"][k] for k in ("trainer", "loss_type", "scale_rewards") if k in m["rlvr"]}
            problem = algorithm_problem(**algorithm)
            if problem:
                raise ConfigError(f"models.{name}.rlvr.{problem}")
        if "checkpoint" in m:
            of, step = m["checkpoint"]["of"], m["checkpoint"]["step"]
            if "rlvr" not in models.get(of, {}):
                raise ConfigError(f"models.{name}.checkpoint.of: {of!r} is not an rlvr model of this config")
            if not 0 < step < models[of]["rlvr"]["steps"]:
                raise ConfigError(f"models.{name}.checkpoint.step: {step} is not between 0 and "
                                  f"models.{of}.rlvr.steps ({models[of]['rlvr']['steps']})")
    seen = set()
    for i, pair in enumerate(config["pairs"]):
        if pair["name"] in seen:
            raise ConfigError(f"pairs[{i}].name: duplicate pair name {pair['name']!r}")
        seen.add(pair["name"])
        for role in ("base", "rl"):
            if pair[role] not in models:
                raise ConfigError(f"pairs[{i}].{role}: unknown model {pair[role]!r} (known: {', '.join(models)})")
        base, rl = models[pair["base"]], models[pair["rl"]]
        shared = [b for b in evaluated_benchmarks(config, base) if b in evaluated_benchmarks(config, rl)]
        if not shared:
            raise ConfigError(f"pairs[{i}] ({pair['name']}): its models share no benchmark (models.<name>.benchmarks)")
        if pair.get("kind", "rl") == "rl":
            for b in shared:
                tb, tr = (_template_on(m, b) for m in (base, rl))
                if tb != tr and None not in (tb, tr):  # None: imported, whatever prompt it had
                    raise ConfigError(f"pairs[{i}] ({pair['name']}): base and RL models must share a prompt template, "
                                      f"got {tb!r} and {tr!r} on {b}")
    imported = {n for n, m in models.items() if "responses" in m}
    perplexity = config.get("analysis", {}).get("perplexity", {})
    for key, names, allowed in (("response_models", perplexity.get("response_models", []), set(models)),
                                ("scored_by", perplexity.get("scored_by", []), set(models) | {"base", "rl"})):
        for m in names:
            if m not in allowed:
                raise ConfigError(f"analysis.perplexity.{key}: unknown model {m!r} (known: {', '.join(sorted(allowed))})")
            if key == "scored_by" and m in imported:
                raise ConfigError(f"analysis.perplexity.scored_by: {m!r} has imported responses and no weights to score with")
    entropy = config.get("analysis", {}).get("entropy", {})
    pair_names = [p["name"] for p in config.get("pairs", [])]
    for name in entropy.get("pairs", []):
        if name not in pair_names:
            raise ConfigError(f"analysis.entropy.pairs: unknown pair {name!r} (known: {', '.join(pair_names)})")
    for m in entropy.get("models", []):
        if m not in models:
            raise ConfigError(f"analysis.entropy.models: unknown model {m!r} (known: {', '.join(sorted(models))})")
        if m in imported:
            raise ConfigError(f"analysis.entropy.models: {m!r} has imported responses and no weights to score with")
    source = config.get("benchmark_source", {})
    for key in ("hub_benchmarks", "unpinned_hub"):
        for b in source.get(key, []):
            if b not in config["benchmarks"]:
                raise ConfigError(f"benchmark_source.{key}: {b!r} is not in benchmarks")
    _check_guessable_filter(config)
    for m in config.get("analysis", {}).get("review", {}).get("models") or []:
        if m not in models:
            raise ConfigError(f"analysis.review.models: unknown model {m!r} (known: {', '.join(models)})")
    graders = sorted([*GRADERS, *CODE_GRADERS])
    verification = config.get("verification", {})
    for key, grader in [("verification.grader", verification.get("grader", "math_verify"))] + [
        (f"verification.compare_graders[{i}]", g) for i, g in enumerate(verification.get("compare_graders", []))
    ] + [(f"benchmarks.{b}.grader", s["grader"]) for b, s in config["benchmarks"].items() if "grader" in s] + [
        (f"verification.timeout_s_by_grader.{g}", g) for g in verification.get("timeout_s_by_grader", {})
    ]:
        if grader not in graders:
            raise ConfigError(f"{key}: unknown grader {grader!r} (known: {', '.join(graders)})")
    compare = verification.get("compare_graders", [])
    if len(compare) not in (0, 2) or len(set(compare)) != len(compare):
        raise ConfigError(f"verification.compare_graders: name two different graders (or none), got {compare}")
    for b, spec in config["benchmarks"].items():
        if "limit" in spec and "problem_ids" in spec:
            raise ConfigError(f"benchmarks.{b}: give 'limit' or 'problem_ids', not both")
        if b not in BENCHMARKS and "synthetic" not in spec:
            raise ConfigError(f"benchmarks.{b}: unknown benchmark (known: {', '.join(sorted(BENCHMARKS))})")
        only = {"free_form_only": VISUAL_BENCHMARKS, "strip_image_markers": ("mathvision",),
                "question_field": ("mathvista",), "images_dir": ("mathvista",), "window": tuple(LIVECODEBENCH_WINDOWS)}
        for key, allowed in only.items():
            if key in spec and b not in allowed:
                raise ConfigError(f"benchmarks.{b}.{key}: only for {' and '.join(allowed)}")


def _n(config: dict, model: str, benchmark: str) -> int:
    """Samples per problem (as rlvr_eval.planning.grid.Grid.n): models.<m>.n.<b> overrides benchmarks.<b>.n."""
    return config["models"][model].get("n", {}).get(benchmark, config["benchmarks"][benchmark]["n"])


def _check_guessable_filter(config: dict) -> None:
    """The filtered benchmark needs the direct-answer model's and both pair models' samples on it."""
    f = config.get("analysis", {}).get("guessable_filter")
    if f is None:
        return
    models, pairs = config["models"], {p["name"]: p for p in config["pairs"]}
    if f["direct_model"] not in models:
        raise ConfigError(f"analysis.guessable_filter.direct_model: unknown model {f['direct_model']!r}")
    for name in f["pairs"]:
        if name not in pairs:
            raise ConfigError(f"analysis.guessable_filter.pairs: unknown pair {name!r} (known: {', '.join(pairs)})")
        for b in f["benchmarks"]:
            for m in (f["direct_model"], pairs[name]["base"], pairs[name]["rl"]):
                if b not in evaluated_benchmarks(config, models[m]):
                    raise ConfigError(f"analysis.guessable_filter.benchmarks: {b!r} is not a benchmark of model {m!r} "
                                      f"(pair {name!r} and the direct model must all be evaluated on it)")


def _check_coverage_ks(config: dict) -> None:
    """A given coverage k above a pair's n would be dropped from its coverage table without a word."""
    ks = config.get("analysis", {}).get("coverage_ks")
    if ks is None:
        return
    models = config["models"]
    for pair in config["pairs"]:
        base, rl = models[pair["base"]], models[pair["rl"]]
        for b in (b for b in evaluated_benchmarks(config, base) if b in evaluated_benchmarks(config, rl)):
            n = min(_n(config, pair["base"], b), _n(config, pair["rl"], b))
            above = [k for k in ks if k > n]
            if above:
                raise ConfigError(f"analysis.coverage_ks: {ks} has k = {', '.join(map(str, above))} above n = {n} of "
                                  f"pair {pair['name']!r} on {b} (the smaller n of {pair['base']!r} and "
                                  f"{pair['rl']!r}): raise n or drop those ks (coverage at k = n is always reported)")


def load_config(path: str | Path) -> dict:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return validate_config(raw)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
