"""Code benchmarks: program execution in a sandbox, evalplus and LiveCodeBench tests, code verdicts
(workflow/rules/code.smk)."""
