"""The `rlvr-eval` command: `rlvr-eval audit [PATH ...]`, `rlvr-eval logic`, `rlvr-eval doctor`,
`rlvr-eval export MODEL BENCHMARK`, `rlvr-eval data [MIRROR_DIR]`."""

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
