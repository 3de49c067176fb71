"""Bootstrap over problems for one (base, RL) pair on one benchmark: pass@k intervals, paired base − RL
intervals and the crossover k (rule bootstrap_passk; logic in rlvr_eval.analysis.bootstrap)."""

from rlvr_eval.analysis.bootstrap import bootstrap_pair
from rlvr_eval.io import read_parquet, write_json, write_text
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    p = snakemake.params
    report = bootstrap_pair(read_parquet(snakemake.input.base), read_parquet(snakemake.input.rl), p.base, p.rl,
                            ks=p.ks, num_resamples=p.num_resamples, seed=p.seed, confidence=p.confidence,
                            labels={"pair": p.pair, "benchmark": p.benchmark})
    write_text(snakemake.output.passk, report["passk"].to_csv(index=False))
    write_text(snakemake.output.difference, report["difference"].to_csv(index=False))
    write_json(snakemake.output.crossover, report["crossover"])
    print(report["difference"].to_string(index=False), report["crossover"], sep="\n")
