"""Models a run evaluates: staging hub and local weights, the tiny text and vision-language models, RLVR training (workflow/rules/models.smk)."""
