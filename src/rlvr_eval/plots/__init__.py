"""Figures: pass@k curves and the analysis figures (workflow/rules/metrics.smk, analysis.smk)."""
