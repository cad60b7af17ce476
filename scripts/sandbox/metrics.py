"""What each reported number means, with a version that changes whenever its definition does."""

METRIC_DEFINITIONS: dict[str, dict[str, str]] = {
    "heldout_bpb": {
        "version": "v1",
        "definition": "total negative log-likelihood in bits over total UTF-8 bytes of the held-out set; "
        "each document is scored in independent windows of seq_len bytes, each starting after a BOS token; "
        "per variant, the mean over seeds (heldout_bpb_std: sample std over seeds)",
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
    "paired_difference": {
        "version": "v1",
        "definition": "mean over shared seeds of (variant heldout_bpb - raw heldout_bpb), with a 95 % "
        "Student-t interval on n-1 degrees of freedom; significant when the interval excludes 0",
    },
    "fraction_of_oracle_gain": {
        "version": "v1",
        "definition": "(raw heldout_bpb - variant heldout_bpb) / (raw heldout_bpb - oracle heldout_bpb), "
        "means over seeds; only where an oracle (clean-tagged documents only) was trained",
    },
    "probe_bpb": {
        "version": "v1",
        "definition": "per-document bits per byte of a trained model on the probe set "
        "(the first max_bytes bytes of each document)",
    },
}
