"""Datamodels (rules/datamodels.smk): which operator or data source earns its place."""
