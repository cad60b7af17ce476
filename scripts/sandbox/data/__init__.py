"""The data step (rules/data.smk): the eval set's source, split and what it can judge."""
