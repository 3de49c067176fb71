"""The plan of a run: config validation, the grid of jobs, cluster resources and the checks before any job (workflow/rules/common.smk)."""
