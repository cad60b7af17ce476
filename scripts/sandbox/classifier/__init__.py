"""The quality classifier (rules/classifier.smk): P(trusted) of a document, as
filter, feedback and evaluator."""
