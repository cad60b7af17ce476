"""Recipe HPO (rules/hpo.smk): W&B sweep configs, their checks, and the Optuna study."""
