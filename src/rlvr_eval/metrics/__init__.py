"""pass@k from verdicts: per-problem metrics, tables and checkpoint series (workflow/rules/metrics.smk, checkpoints.smk)."""
