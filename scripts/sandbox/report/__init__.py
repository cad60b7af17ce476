"""The report (rules/report.smk): the verdict page and the figures."""
