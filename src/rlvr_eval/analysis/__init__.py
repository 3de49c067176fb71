"""What the analyses compute from verdicts and per-problem metrics: coverage, accuracy histograms, bootstrap, ΔSE,
perplexity, token NLL, review sheets, grader agreement (workflow/rules/analysis.smk, grading.smk)."""
