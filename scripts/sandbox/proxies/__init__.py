"""The proxy models (rules/proxies.smk): the registry, the trainers' shared parts,
the GPT, the n-gram and hf."""
