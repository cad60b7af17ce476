"""The statistics every verdict shares: paired comparisons with two variance components, intervals."""
