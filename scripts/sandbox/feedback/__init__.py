"""Model feedback (rules/feedback.smk): cross-fitted pool LMs and the recipes their scores refine."""
