"""What Snakemake imports while it builds the DAG (config check, code inputs, variant kinds); no numpy."""
