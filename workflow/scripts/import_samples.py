"""One sample shard of a model whose responses were generated elsewhere (rule import_samples; logic in
rlvr_eval.sampling.importing)."""

from rlvr_eval.sampling.importing import import_shards, source_metadata
from rlvr_eval.io import read_parquet, write_parquet
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake) as prov:
    p, w = snakemake.params, snakemake.wildcards
    shards = import_shards(snakemake.input.responses, read_parquet(snakemake.input.problems), p.n, p.shard_size,
                           benchmark=w.benchmark)
    shard = shards[int(w.shard)]
    write_parquet(snakemake.output[0], shard, {"spec": {"model": w.model, "benchmark": w.benchmark, "shard": int(w.shard)},
                                              "problems": int(shard["problem_id"].nunique()),
                                              **source_metadata(snakemake.input.responses)})
    print(f"{len(shard)} responses imported from {snakemake.input.responses}")
