"""Data pools (rules/pools.smk): parts of a processed variant by a meta field or by buckets of a
per-document score, ranked by the n-gram, and the mixtures searched over them (sandbox/mixture)."""
