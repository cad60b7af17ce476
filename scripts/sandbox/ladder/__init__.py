"""The scale ladder (rules/ladder.smk): configuration, decision accuracy and scaling fits, its summary."""
