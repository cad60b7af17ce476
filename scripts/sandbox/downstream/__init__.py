"""Downstream tasks through lm-evaluation-harness (rules/downstream.smk)."""
