"""rlvr_eval: sample, verify and measure pass@k for base vs RL-trained language models."""

__version__ = "0.1.0"
