"""Math answer grading: the graders, their deadline pool and the verdict drivers (workflow/rules/verification.smk)."""
