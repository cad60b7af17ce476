"""What each reported number means, with a version that changes whenever its definition does."""

METRIC_DEFINITIONS: dict[str, dict[str, str]] = {
    "heldout_bpb": {
        "version": "v3",
        "definition": "per proxy model: total negative log-likelihood in bits over total UTF-8 bytes of the "
        "held-out set; every byte of every document is predicted once (gpt: the first seq_len bytes after the "
        "BOS token that starts the document, later ones in sliding windows of seq_len tokens over the preceding "
        "bytes of the same document, each scoring seq_len // 2 new bytes; ngram: from the document's start, "
        "after a separator); per "
        "variant, the mean over seeds (heldout_bpb_std: sample std over seeds)",
    },
    "paired_bootstrap": {
        "version": "v1",
        "definition": "difference of held-out bpb (variant - reference) with a percentile interval over "
        "bootstrap replicates; each replicate draws the eval documents with replacement and, with two or more "
        "seeds, the seeds with replacement, the same draw for every variant (paired); a variant's replicate "
        "value is total NLL bits over total bytes of the drawn (seed, document) cells; significant when the "
        "interval excludes 0; half_width_percent (half the interval's width, in percent of the reference) is "
        "the minimum detectable effect",
    },
    "kept_fraction": {
        "version": "v1",
        "definition": "documents in the variant's training data divided by documents in the pool",
    },
    "noise_precision": {
        "version": "v1",
        "definition": "removed documents tagged noise (meta.origin other than 'clean') over all removed documents",
    },
    "noise_recall": {
        "version": "v1",
        "definition": "removed documents tagged noise over all noise-tagged documents in the pool",
    },
    "paired_t_interval": {
        "version": "v1",
        "definition": "mean over shared seeds of (variant heldout_bpb - raw heldout_bpb), with a 95 % "
        "Student-t interval on n-1 degrees of freedom; significant when the interval excludes 0",
    },
    "fraction_of_oracle_gain": {
        "version": "v2",
        "definition": "per proxy: (raw heldout_bpb - variant heldout_bpb) / (raw heldout_bpb - oracle "
        "heldout_bpb), means over seeds, with a percentile interval from the paired_bootstrap replicates; only "
        "where an oracle (clean-tagged documents only) was trained",
    },
    "agreement": {
        "version": "v1",
        "definition": "between two proxies: Kendall tau of their rankings of the variants by held-out bpb; per "
        "comparison, whether the proxies whose paired_bootstrap interval excludes 0 agree in sign",
    },
    "probe_bpb": {
        "version": "v1",
        "definition": "per-document bits per byte of a trained model on the probe set "
        "(the first max_bytes bytes of each document)",
    },
}
