"""The perplexity job's hold on its output: its claim and lock (rlvr_eval.sampling.holds), for the rule script, which
imports from its stage's subpackage. Not in `perplexity`: the stages that import that module for its columns (the
figures) would see this code in their logic stamps."""

from rlvr_eval.sampling.holds import OutputHold

__all__ = ["OutputHold"]
