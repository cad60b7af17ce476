"""Simulated experiments with a known truth, used by the tests and bench/ only: the calibration of
the paired comparison and of the ladder's intervals."""
