"""The `rlvr-eval` command: `rlvr-eval audit [PATH ...]`, `rlvr-eval logic`, `rlvr-eval doctor`,
`rlvr-eval export MODEL BENCHMARK`, `rlvr-eval data [MIRROR_DIR]`, `rlvr-eval import FILE`,
`rlvr-eval run --model M --benchmarks B --n N`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _audit(args: argparse.Namespace) -> int:
    from rlvr_eval.provenance.audit import run_audit

    return run_audit(args.paths, workdir=args.directory, chain=args.chain, as_json=args.json,
                     depth=args.depth, workflow_dir=args.workflow_dir)


def _logic(args: argparse.Namespace) -> int:
    from rlvr_eval.provenance import stamps as provenance

    provenance.set_workflow_dir(args.workflow_dir)
    for stage in args.accept:
        print(f"{stage}: version {provenance.manual_stamps()[stage]['version']} now also accepts sources "
              f"{provenance.accept_manual_code(stage)}")
    for stage in args.bump:
        print(f"{stage}: new version {provenance.bump_manual_version(stage)}; Snakemake will recompute it")
    if args.accept or args.bump:
        return 0
    problems = provenance.undeclared_manual_code()
    for problem in problems:
        print(f"UNDECLARED  {problem}", file=sys.stderr)
    for stage in provenance.STAGE_SCRIPTS:
        if stage == "verify":
            from rlvr_eval.verify.graders import GRADERS

            for grader in GRADERS:
                print(provenance.logic_version(stage, grader=grader))
        else:
            print(provenance.logic_version(stage))
    return 1 if problems else 0


def _doctor(args: argparse.Namespace) -> int:
    from rlvr_eval.planning.config import ConfigError
    from rlvr_eval.planning.doctor import run_doctor
    from rlvr_eval.planning.resources import ResourceConfigError

    try:
        return run_doctor(args.configfile, None if args.no_slurm else args.profile, directory=args.directory,
                          shards=args.shards)
    except (ConfigError, ResourceConfigError, OSError, ValueError) as e:
        print(f"Config error: {e}", file=sys.stderr)
        return 1


def _miniature(args: argparse.Namespace) -> int:
    import yaml

    from rlvr_eval.planning.miniature import miniature

    header = (f"# The paper grid in miniature, written by `rlvr-eval miniature {args.config}`: do not edit (its code:\n"
              "# rlvr_eval.planning.miniature). Tiny models with random weights stand in for every model: no result.\n")
    sys.stdout.write(header + yaml.safe_dump(miniature(yaml.safe_load(Path(args.config).read_text())),
                                             sort_keys=False, width=120))
    return 0


def _export(args: argparse.Namespace) -> int:
    from rlvr_eval.analysis.export import export_samples

    try:
        if args.output == "-":
            count = export_samples(args.directory, args.model, args.benchmark, sys.stdout)
        else:
            from rlvr_eval.io import atomic_path

            with atomic_path(args.output) as tmp, open(tmp, "w", encoding="utf-8") as out:
                count = export_samples(args.directory, args.model, args.benchmark, out)
    except FileNotFoundError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    print(f"{count} samples of {args.model} on {args.benchmark}", file=sys.stderr)
    return 0


def _data(args: argparse.Namespace) -> int:
    from rlvr_eval.data.benchmarks import BenchmarkError
    from rlvr_eval.data.mirror_sources import fetch_mirror

    try:
        fetch_mirror(args.mirror_dir, args.benchmarks or None, images=args.images)
    except (BenchmarkError, OSError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    return 0


def _import(args: argparse.Namespace) -> int:
    import yaml

    from rlvr_eval.planning.imported import ImportedConfigError, append_model, entry_yaml, import_entry, model_name_of

    workdir = Path(args.directory).resolve()
    path = Path(args.file).resolve()
    # the config's paths are read from the workflow's working directory
    shown = os.path.relpath(path, workdir) if path.is_relative_to(workdir) else str(path)
    try:
        known, known_from = None, "rlvr_eval"
        if args.config:
            known = list((yaml.safe_load(Path(args.config).read_text()) or {}).get("benchmarks") or {})
            known_from = args.config
        entry, found = import_entry(str(path), args.benchmark, known, known_from)
        entry["responses"] = {b: shown for b in entry["responses"]} if isinstance(entry["responses"], dict) else shown
        name = args.name or model_name_of(path)
        if args.config:
            append_model(args.config, name, entry)
    except (ImportedConfigError, OSError, yaml.YAMLError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    summary = ", ".join(f"{b} (n = {n})" for b, n in found.items())
    if args.config:
        print(f"models.{name} added to {args.config}: responses on {summary}", file=sys.stderr)
    else:
        print(entry_yaml(name, entry), end="")
        print(f"responses on {summary}; add the entry under `models:`", file=sys.stderr)
    return 0


def _run(args: argparse.Namespace) -> int:
    import subprocess

    import yaml

    from rlvr_eval.planning.config import ConfigError
    from rlvr_eval.planning.one_model import model_name, run_config

    workdir = Path(args.directory)
    try:
        default = yaml.safe_load((workdir / args.default_config).read_text())
        config, _ = run_config(default, args.model, [b for b in args.benchmarks.split(",") if b], args.n,
                               args.pair_with, args.template, args.backend, args.limit, args.max_new_tokens)
    except (ConfigError, OSError, yaml.YAMLError) as e:
        print(f"Config error: {e}", file=sys.stderr)
        return 1
    out = Path(args.config_out) if args.config_out else Path("config") / "run" / f"{model_name(args.model)}.yaml"
    (workdir / out).parent.mkdir(parents=True, exist_ok=True)
    (workdir / out).write_text(yaml.safe_dump(config, sort_keys=False))
    print(f"wrote {workdir / out}", file=sys.stderr)
    snakemake = Path(sys.executable).with_name("snakemake")  # this Python's, as the jobs' environment
    command = [str(snakemake)] if snakemake.is_file() else [sys.executable, "-m", "snakemake"]
    command += ["--configfile", str(out)]
    command += ["--profile", args.profile] if args.profile else ["--cores", str(args.cores)]
    command += ["--dry-run"] if args.dry_run else []
    print(" ".join(command), file=sys.stderr)
    return subprocess.run(command, cwd=workdir).returncode


def build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    parser = argparse.ArgumentParser(prog="rlvr-eval", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('rlvr-eval')}")
    sub = parser.add_subparsers(dest="command", required=True)

    audit = sub.add_parser(
        "audit", help="check results against their provenance records",
        description="Recompute the hashes of artifacts and of everything they were made from, following their "
                    "provenance records (<artifact>.prov.json) back to model revisions and dataset hashes. Reports "
                    "every artifact that is missing, altered (content differs from its record), stale (an input "
                    "changed after it was made, or is itself missing/altered/stale) or unrecorded. "
                    "Exit status 1 on any finding.")
    audit.add_argument("paths", nargs="*", metavar="PATH",
                       help="artifacts (their lineage is checked) or directories (every artifact under them); "
                            "relative to --directory; default: results/")
    audit.add_argument("-d", "--directory", default=".", help="the workflow's working directory (default: .)")
    audit.add_argument("--chain", action="store_true",
                       help="print the lineage of each PATH down to model revisions and dataset hashes")
    audit.add_argument("--depth", type=int, default=None, help="with --chain: stop the tree at this depth")
    audit.add_argument("--json", action="store_true", help="machine-readable output")
    audit.add_argument("--workflow-dir", default=None,
                       help="where workflow/scripts lives, to compare code stamps (default: --directory)")
    audit.set_defaults(func=_audit)

    logic = sub.add_parser(
        "logic", help="print the current logic stamp of every stage (the rules' `logic` param); exit 1 if a manual "
                      "stage's code is not declared (see --accept, --bump)")
    logic.add_argument("--workflow-dir", default=".", help="the repository (holding workflow/scripts); default: .")
    from rlvr_eval.provenance.stamps import MANUAL_STAGES

    logic.add_argument("--accept", action="append", default=[], choices=MANUAL_STAGES, metavar="STAGE",
                       help="declare the current code of a manual stage output-neutral: its version stays, and now "
                            "also accepts this code (nothing is recomputed)")
    logic.add_argument("--bump", action="append", default=[], choices=MANUAL_STAGES, metavar="STAGE",
                       help="give a manual stage a new version for its current code: Snakemake recomputes the stage "
                            "and everything downstream")
    logic.set_defaults(func=_logic)

    doctor = sub.add_parser(
        "doctor", help="before submitting: check the config and the SLURM profile against this cluster; exit 1 on "
                       "any problem",
        description="Checks, in seconds and before any job: the profile's SLURM account and partitions, each job's "
                    "runtime against its partition's MaxTime, GPUs per node and GPU memory for each model's "
                    "tensor_parallel_size and max_model_len, an HF token for gated models, vLLM importable by this "
                    "Python, the benchmark mirror and its sha256, free disk for the weights to stage, and each "
                    "shard's estimated runtime. One line per problem, naming the setting and its fix.")
    doctor.add_argument("--configfile", nargs="+", metavar="FILE",
                        help="config files, merged in order as snakemake --configfile does (default: config.yaml of -d)")
    doctor.add_argument("--profile", default="",
                        help="the Snakemake profile (directory or its config.yaml; default: slurm/config.yaml of -d)")
    doctor.add_argument("--no-slurm", action="store_true", help="skip the cluster checks (no sinfo here)")
    doctor.add_argument("-d", "--directory", default=".", help="the workflow's working directory (default: .)")
    doctor.add_argument("--shards", action="store_true",
                        help="also list each model x benchmark's shard size, jobs, runtime and estimate")
    doctor.set_defaults(func=_doctor)

    export = sub.add_parser(
        "export", help="write a model's samples on a benchmark, with their verdicts, as JSON Lines",
        description="One JSON object per sample: model, benchmark, problem_id, sample_index, text, num_tokens, "
                    "finish_reason and verdicts ({grader: {status, correct, extracted}}); code samples also carry "
                    "evalplus's task_id and solution (the program as run), for `evalplus.evaluate --samples`.")
    export.add_argument("model")
    export.add_argument("benchmark")
    export.add_argument("-o", "--output", default="-", help="the file to write (default: standard output)")
    export.add_argument("-d", "--directory", default=".", help="the workflow's working directory (default: .)")
    export.set_defaults(func=_export)

    data = sub.add_parser(
        "data", help="fetch the benchmark mirror's files from their public sources at pinned commits",
        description="Download each benchmark file of the mirror from its public source (GitHub at a pinned commit, "
                    "evalplus's release), check its sha256 against the paper's file and write it atomically; files "
                    "already there with the right hash are kept. LiveCodeBench and MathVista's images are not "
                    "covered (rlvr_eval.data.mirror_sources).")
    data.add_argument("mirror_dir", nargs="?", default="../shared/data/benchmarks",
                      help="the mirror to fill (benchmark_source.mirror_dir; default: ../shared/data/benchmarks)")
    data.add_argument("--benchmarks", nargs="+", metavar="NAME", help="only these (default: every one with a source)")
    data.add_argument("--images", action="store_true", help="also MATH-V's 304 testmini images")
    data.set_defaults(func=_data)

    importing = sub.add_parser(
        "import", help="add a model whose responses were generated elsewhere to a config (or print its entry)",
        description="Reads the benchmarks and n of a responses file (`rlvr-eval export`'s output, or any format of "
                    "docs/configuration.md, 'Responses generated elsewhere') and writes the minimal model entry, "
                    "`responses: FILE`, at the top of the config's models (or prints it). A benchmark the config "
                    "(or, without --config, the package) does not know is refused.")
    importing.add_argument("file", metavar="FILE", help="JSONL or Parquet responses")
    importing.add_argument("--name", help="the model's name (default: the file's name without extension)")
    importing.add_argument("--config", help="the config file to add the model to (default: print the entry)")
    importing.add_argument("--benchmark", help="the benchmark of a file whose rows name none (or the one to take)")
    importing.add_argument("-d", "--directory", default=".",
                           help="the workflow's working directory, which the entry's path is relative to (default: .)")
    importing.set_defaults(func=_import)

    mini = sub.add_parser(
        "miniature", help="print the paper grid's config in miniature: tiny models, a few problems, small n",
        description="Every model entry, pair, benchmark, template and analysis of the config, with tiny models built "
                    "locally in place of the weights (rlvr_eval.planning.miniature); config/paper-grid-tiny.yaml is "
                    "its output for config.yaml.")
    mini.add_argument("config", nargs="?", default="config.yaml")
    mini.set_defaults(func=_miniature)

    run = sub.add_parser(
        "run", help="evaluate one model (or a pair) on some benchmarks: writes its config and runs Snakemake",
        description="Writes a config (default config/run/<model>.yaml) with the default config's benchmark, "
                    "sampling, verification and resource settings and this model (a hub id or a local directory), "
                    "validates it and runs this Python's Snakemake with it.")
    run.add_argument("--model", required=True, metavar="HF_ID_OR_PATH")
    run.add_argument("--benchmarks", required=True, help="comma-separated, e.g. gsm8k,math500")
    run.add_argument("--n", type=int, required=True, help="samples per problem")
    run.add_argument("--pair-with", metavar="HF_ID_OR_PATH", help="its base model: the pair's analyses run too")
    run.add_argument("--template", default="qwen-boxed", help="the prompt template (default: qwen-boxed)")
    run.add_argument("--backend", choices=["vllm", "transformers"], help="default: the default config's")
    run.add_argument("--limit", type=int, help="only the first LIMIT problems of each benchmark")
    run.add_argument("--max-new-tokens", type=int, help="default: the default config's")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--cores", type=int, default=1, help="run locally on this many cores (default: 1)")
    where.add_argument("--profile", help="a Snakemake profile, e.g. slurm")
    run.add_argument("--dry-run", action="store_true", help="write the config and show the plan, run nothing")
    run.add_argument("--config-out", metavar="PATH", help="where to write the config, relative to -d")
    run.add_argument("--default-config", default="config.yaml", help="relative to -d (default: config.yaml)")
    run.add_argument("-d", "--directory", default=".", help="the workflow's working directory (default: .)")
    run.set_defaults(func=_run)
    return parser


def _own_code_first(args: argparse.Namespace, argv: list[str] | None) -> None:
    """Check a workflow with the code its plan uses: its own src/ (the Snakefile puts it first on the path), not
    whatever rlvr_eval this Python has installed (e.g. an editable install of another checkout). Re-runs the
    command with that src/ first on PYTHONPATH when the two differ."""
    workflow_dir = Path(getattr(args, "workflow_dir", None) or getattr(args, "directory", None) or ".")
    own = (workflow_dir / "src" / "rlvr_eval").resolve()
    if not (own / "__init__.py").is_file() or own == Path(__file__).resolve().parent:
        return
    if os.environ.get("RLVR_EVAL_OWN_CODE") == str(own):  # re-run already, and still not the same: do not loop
        return
    env = {**os.environ, "RLVR_EVAL_OWN_CODE": str(own),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(own.parent), os.environ.get("PYTHONPATH")]))}
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "rlvr_eval.cli", *(sys.argv[1:] if argv is None else argv)], env)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("audit", "logic"):
        _own_code_first(args, argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # `rlvr-eval audit --chain | head`
        sys.stderr.close()
        return 1


if __name__ == "__main__":
    sys.exit(main())
