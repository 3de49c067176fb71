"""Compare the verdicts of two graders on one model's samples of one benchmark (rule grader_agreement)."""

from pathlib import Path

import pandas as pd

from rlvr_eval.analysis.grader_agreement import grader_agreement_report, write_report
from rlvr_eval.io import read_parquet
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    name_a, name_b = snakemake.params.graders
    verdicts_a = pd.concat([read_parquet(f) for f in snakemake.input.a], ignore_index=True)
    verdicts_b = pd.concat([read_parquet(f) for f in snakemake.input.b], ignore_index=True)
    samples = pd.concat([read_parquet(f, columns=["problem_id", "sample_index", "text"]) for f in snakemake.input.samples],
                        ignore_index=True)
    report = grader_agreement_report(verdicts_a, verdicts_b, name_a, name_b, samples=samples,
                                     benchmark=snakemake.wildcards.benchmark)
    title = f"{snakemake.wildcards.model}, {snakemake.wildcards.benchmark}"
    written = write_report(report, Path(snakemake.output.summary).parent, title, snakemake.params.settings)
    # write_report names its files itself: fail loudly if the rule's declared outputs drift from them
    assert set(written.values()) == {Path(p) for p in snakemake.output}, (written, list(snakemake.output))
    print(report["summary"].T.to_string())
