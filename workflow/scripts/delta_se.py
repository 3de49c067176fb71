"""The sampling-efficiency gap ΔSE = base pass@k − RL pass@1 of every RL pair on every benchmark, with paired
bootstrap intervals, in one table (rule delta_se; logic in rlvr_eval.analysis.sampling_efficiency)."""

from rlvr_eval.analysis.sampling_efficiency import delta_se, delta_se_table, to_markdown
from rlvr_eval.io import read_parquet, write_text
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    p = snakemake.params
    rows = []
    for entry in p.entries:  # {pair, benchmark, base, rl, k, base_file, rl_file}
        gap = delta_se(read_parquet(entry["base_file"]), read_parquet(entry["rl_file"]), entry["k"],
                       num_resamples=p.num_resamples, seed=p.seed, confidence=p.confidence)
        rows.append({k: entry[k] for k in ("pair", "benchmark", "base", "rl")} | gap)
    table = delta_se_table(rows)
    write_text(snakemake.output.csv, table.to_csv(index=False))
    write_text(snakemake.output.md, to_markdown(table, p.left_out, p.settings))
    print(table.to_string(index=False))
