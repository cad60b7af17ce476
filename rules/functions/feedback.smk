# The input, params and path functions of rules/feedback.smk, which includes this file after its constants.
import os


def feedback_fold_files(pattern: str) -> list[str]:
    """One path per fold of the pool's cross-fitted LM, in fold order ({k} in pattern is the fold)."""
    return [f"{OUT}/feedback/{pattern.format(k=k)}" for k in range(FEEDBACK["folds"])]


def feedback_lm_data(wildcards) -> str:
    """What a feedback LM learns from: the pool minus its fold, or the trusted reference sample."""
    if wildcards.lm.startswith("pool/"):
        fold = wildcards.lm.removeprefix("pool/")
        return f"{OUT}/feedback/folds/{fold}_train.jsonl"
    return FEEDBACK_REFERENCE


def feedback_recipe_models(wildcards) -> dict[str, str | list[str]]:
    """The LMs a method's filter reads: model (scored) and, for importance, background_model; the
    pool's LM is its K cross-fitted fold models."""
    pool = feedback_fold_files("models/pool/fold{k}.npz")
    reference = f"{OUT}/feedback/models/reference.npz"
    if wildcards.method == "classifier":
        return {"model": CLASSIFIER_MODELS}
    if wildcards.method == "self_loss":
        return {"model": pool}
    if wildcards.method == "reference_ppl":
        return {"model": reference}
    return {"model": reference, "background_model": pool}


def feedback_model_metas(wildcards) -> list[str]:
    """The train_meta.json of every model a method's filter reads (their seconds: the filter's cost)."""
    if wildcards.method == "classifier":
        return [f"{CLASSIFIER_DIR}/train_meta.json"]
    metas = []
    for paths in feedback_recipe_models(wildcards).values():
        paths = [paths] if isinstance(paths, str) else paths
        metas += [
            os.path.join(path.removesuffix(".npz"), "train_meta.json") for path in paths
        ]
    return metas


def feedback_model_args(wildcards) -> str:
    """feedback_scores.py's --model/--background-model arguments (several paths: fold models)."""
    args = []
    for name, paths in feedback_recipe_models(wildcards).items():
        paths = [paths] if isinstance(paths, str) else paths
        args.append(f"--{name.replace('_', '-')} {' '.join(paths)}")
    return " ".join(args)
