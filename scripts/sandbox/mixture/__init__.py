"""Mixture search (rules/pools.smk, `snakemake mixture`): a swarm of n-gram models on mixtures of the
data pools, a regression of validation bpb on the weights, and the exported Data-Juicer config."""
