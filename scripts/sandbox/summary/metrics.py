"""What each reported number means, with a version that changes whenever its definition does."""

METRIC_DEFINITIONS: dict[str, dict[str, str]] = {
    "heldout_bpb": {
        "version": "v3",
        "definition": "per proxy model: total negative log-likelihood in bits over total UTF-8 bytes of the "
        "held-out set; every byte of every document is predicted once (gpt: the first seq_len bytes after "
        "the BOS token that starts the document, later ones in sliding windows of seq_len tokens over the "
        "preceding bytes of the same document, each scoring seq_len // 2 new bytes; ngram: from the "
        "document's start, after a separator); per "
        "variant, the mean over seeds (heldout_bpb_std: sample std over seeds)",
    },
    "eval_split": {
        "version": "v1",
        "definition": "the eval set's validation and test parts: a document is validation when a salted "
        "sha256 of its normalised text (NFKC, casefolded, spaces folded) falls below eval_split, else test; "
        "a test document sharing a run of decontamination_words words with a validation document joins "
        "validation, until none does. Every selection (the HPO objective and confirmation, best_recipe.yaml, "
        "the summary's best variant) reads validation; every reported number reads test",
    },
    "validation_bpb": {
        "version": "v1",
        "definition": "heldout_bpb on the validation part of the eval split (eval_split): what selections "
        "read",
    },
    "test_bpb": {
        "version": "v1",
        "definition": "heldout_bpb on the test part of the eval split (eval_split): what the summary, its "
        "comparisons, oracle fractions and agreement report (test_bpb_std: sample std over seeds)",
    },
    "paired_comparison": {
        "version": "v2",
        "definition": "difference of held-out bpb (variant - reference), the mean over shared seeds of each "
        "seed's difference on the same eval documents, with a Student-t interval; its variance is a document "
        "component (the delta-method variance of the ratio of totals under resampling of documents, what the "
        "document bootstrap estimates) plus a seed component (the variance over seeds of the per-seed "
        "differences over n_seeds, less the seed x document interaction the document component already "
        "holds), never below either component; degrees of freedom by Welch-Satterthwaite (n_docs - 1 and "
        "n_seeds - 1); the interval is the wider of that and the t-interval over seeds alone; significant "
        "when it excludes 0; one seed of a seed-dependent proxy (sandbox.proxies) gets no interval and "
        "significant None, with the reason in no_claim; mde_percent: the minimum detectable effect at 80 % "
        "power, the true difference a two-sided test at this confidence finds with probability 0.8 "
        "(noncentral t: about 2.8 standard errors for many df, 5.6 for 2), in percent of the reference; "
        "percentages take the reference's bpb as known; calibration: bench/calibration.py",
    },
    "kept_fraction": {
        "version": "v1",
        "definition": "documents in the variant's training data divided by documents in the pool",
    },
    "noise_precision": {
        "version": "v1",
        "definition": "removed documents tagged noise (meta.origin other than 'clean') over all removed "
        "documents",
    },
    "noise_recall": {
        "version": "v1",
        "definition": "removed documents tagged noise over all noise-tagged documents in the pool",
    },
    "noise_recall_interval": {
        "version": "v1",
        "definition": "the Wilson score interval (95 %) of noise_recall, overall and per noise kind "
        "(recall_interval, recall_per_kind_interval): removed documents of the kind as successes out of the "
        "pool's documents of the kind",
    },
    "quality_score": {
        "version": "v1",
        "definition": "per document: P(trusted) under the quality classifier (sandbox.classifier: hashed "
        "word bigrams and logistic regression, or fastText) that learned the trusted sample against an "
        "equal number of raw-pool documents (with classifier.shuffled_negatives, part of them word-shuffled "
        "trusted documents), cross-fitted over feedback.folds: each document scored by the fold model whose "
        "negatives exclude its fold; per variant: the mean over its documents with a Student-t interval "
        "over documents (the models held fixed), quantiles and a histogram on [0, 1]; separation (raw pool, "
        "origin tags): AUC of clean over noise, and the noise precision and recall of removing scores below "
        "the pool's (1 - keep_fraction) quantile, with Wilson intervals",
    },
    "fraction_of_oracle_gain": {
        "version": "v4",
        "definition": "per proxy, on the test part of the eval split: (raw test_bpb - variant test_bpb) / "
        "(raw test_bpb - oracle test_bpb), means over shared seeds, with a delta-method interval: the "
        "paired_comparison interval of the contrast (raw - variant) - fraction x (raw - oracle), over the "
        "raw - oracle gap; none with one seed of a seed-dependent proxy; only where an oracle (clean-tagged "
        "documents only) was trained",
    },
    "agreement": {
        "version": "v4",
        "definition": "between two proxies: Kendall tau of their rankings of the variants by test bpb; per "
        "comparison, whether the rungs whose interval excludes 0 agree in sign (better or worse than the "
        "reference): each proxy's held-out bpb (paired_comparison) and, with downstream tasks, each task "
        "metric under each proxy (downstream_comparison)",
    },
    "downstream_acc": {
        "version": "v1",
        "definition": "per task, proxy and variant: lm-eval's acc (acc_norm) of each item, 1 when the "
        "choice of highest log-likelihood (per character) is the gold one, the mean over items of each "
        "seed's model, then over seeds; the proxy models score as their held-out scoring does "
        "(sandbox.downstream.harness); chance: the mean over items of 1 / choices",
    },
    "gold_bpb": {
        "version": "v1",
        "definition": "per task, proxy and variant: total negative log2-likelihood of the gold answers "
        "(continuation as scored, target delimiter included) given their contexts over their total UTF-8 "
        "bytes, per seed, then the mean over seeds; items.jsonl also has each item's gold_logprob_per_byte "
        "(natural log) and gold_prob_per_byte (exp of it)",
    },
    "downstream_comparison": {
        "version": "v1",
        "definition": "paired_comparison with the items of a task in place of eval documents: acc and "
        "acc_norm with every item weighted 1, the difference in points; gold_bpb as a ratio of totals over "
        "the gold answers' bytes, the difference in percent of the reference; no validation/test split (no "
        "selection reads the items); calibration on binary items: bench/calibration.py",
    },
    "probe_bpb": {
        "version": "v1",
        "definition": "per-document bits per byte of a trained model on the probe set "
        "(the first max_bytes bytes of each document)",
    },
}
