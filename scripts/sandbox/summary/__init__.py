"""The summary (rules/evaluate.smk): every variant against raw and k_sigma, the verdicts and their tables."""
