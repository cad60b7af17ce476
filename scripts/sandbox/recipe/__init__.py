"""The recipe step (rules/recipe.smk): Data-Juicer recipes, analysis, k-sigma refinement, processing
and its counts."""
