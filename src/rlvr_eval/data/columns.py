"""The columns of a canonical problem table, what every benchmark loader returns (schema: rlvr_eval.data.benchmarks)."""

CANONICAL_COLUMNS = ["problem_id", "question", "reference", "solution", "metadata"]
