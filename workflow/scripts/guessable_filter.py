"""pass@k of one (base, RL) pair on one benchmark without the problems a direct-answer model guesses (rule
guessable_filter; logic in rlvr_eval.analysis.guessable)."""

from rlvr_eval.analysis.guessable import filtered_passk
from rlvr_eval.io import read_parquet, write_json, write_text
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    p = snakemake.params
    table, detail = filtered_passk(read_parquet(snakemake.input.base), read_parquet(snakemake.input.rl),
                                   read_parquet(snakemake.input.direct), p.max_rate, pair=p.pair, benchmark=p.benchmark,
                                   base_model=p.base, rl_model=p.rl)
    write_text(snakemake.output.table, table.to_csv(index=False))
    write_json(snakemake.output.ids, {"direct_model": p.direct_model, **detail})
    print(f"kept {len(detail['kept'])} problems, removed {len(detail['removed'])} as guessable: {detail['removed']}")
    print(table.to_string(index=False))
