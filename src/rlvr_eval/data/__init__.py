"""Benchmarks as canonical problem tables: math and code loaders, visual benchmarks, the synthetic task (rules in workflow/rules/data.smk)."""
