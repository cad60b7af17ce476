"""Datasets and per-document rows in and out, in the formats Data-Juicer reads, and user-facing errors."""
