"""Samples from models: prompts, the sampling of shards, backends (transformers, vLLM) and imports of responses made elsewhere (workflow/rules/sampling.smk)."""
