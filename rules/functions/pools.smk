# The input, params and path functions of rules/pools.smk, which includes this file after its constants.
import json


def mixture_target(wildcards) -> list[str]:
    """Input function of `mixture`: the pools' summary, or the reason the search cannot run."""
    if POOLS_PROBLEM:
        raise WorkflowError(POOLS_PROBLEM)
    return [f"{POOLS_DIR}/summary.md", f"{POOLS_DIR}/summary.json"]


def pools_split_inputs(wildcards) -> dict[str, list[str] | str]:
    """The scores the splitters read: the quality classifier's fold models, the raw stats cache."""
    inputs: dict[str, list[str] | str] = {}
    if QUALITY in POOL_SPLITTERS:
        inputs["models"] = CLASSIFIER_MODELS
    if any(s.startswith((STAT_PREFIX, FEEDBACK_PREFIX)) for s in POOL_SPLITTERS):
        inputs["stats_cache"] = f"{OUT}/analysis/raw/stats.parquet"
    feedback = [
        s.removeprefix(FEEDBACK_PREFIX)
        for s in POOL_SPLITTERS
        if s.startswith(FEEDBACK_PREFIX)
    ]
    if feedback:
        inputs["feedback_stats"] = [
            f"{OUT}/analysis/feedback_{method}/stats.parquet" for method in feedback
        ]
    return inputs


def pools_score_args(wildcards, input) -> str:
    """Params function: pools_split.py's score inputs."""
    args = ""
    if "models" in input.keys():
        args += f" --classifier-models {' '.join(input.models)}"
    if "stats_cache" in input.keys():
        args += f" --stats-cache {input.stats_cache}"
    if "feedback_stats" in input.keys():
        pairs = [
            f"{Path(path).parent.name.removeprefix('feedback_')}={path}"
            for path in input.feedback_stats
        ]
        args += f" --feedback-stats {' '.join(pairs)}"
    return args


def pools_index() -> dict:
    """pools/index.json, once the checkpoint wrote it (Snakemake re-plans after it)."""
    return json.loads(
        Path(checkpoints.pools_split.get().output.index).read_text(encoding="utf-8")
    )


def search_pools() -> list[str]:
    """The pools the search uses: the index's, narrowed to pools.only."""
    names = [entry["name"] for entry in pools_index()["pools"]]
    if not POOLS["only"]:
        return names
    unknown = sorted(set(POOLS["only"]) - set(names))
    if unknown:
        raise WorkflowError(
            f"pools.only: {unknown} are not pools of {POOLS_INDEX} (it has {names}). Fix: name pools "
            "from the index."
        )
    if len(POOLS["only"]) < 2:
        raise WorkflowError(
            "pools.only: a mixture needs two pools. Fix: name two or more."
        )
    return [name for name in names if name in POOLS["only"]]


def pool_file_of(pool: str) -> str:
    """A pool's documents (inside the checkpoint's parts folder)."""
    return f"{checkpoints.pools_split.get().output.parts}/{pool}.jsonl"


def pool_file(wildcards) -> str:
    """Input function: the job's pool's documents."""
    return pool_file_of(wildcards.pool)


def ranking_budget() -> int:
    """The ranking's byte budget: the smallest pool of the search (every pool judged on as much)."""
    sizes = {entry["name"]: entry["bytes"] for entry in pools_index()["pools"]}
    return min(sizes[name] for name in search_pools())


def smallest_pool_docs() -> int:
    """The documents of the search's smallest pool (by documents): what pools_downsample keeps."""
    docs = {entry["name"]: entry["docs"] for entry in pools_index()["pools"]}
    return min(docs[name] for name in search_pools())


def swarm_members() -> int:
    """pools.swarm.members, or max(10 x pools, 64) (every 4th held out: at least 16)."""
    return POOLS["swarm"]["members"] or max(10 * len(search_pools()), 64)


def swarm_chunks(wildcards) -> list[str]:
    """The swarm's chunk files, members_per_job members each (the last may be shorter)."""
    size, total = POOLS["swarm"]["members_per_job"], swarm_members()
    return [
        f"{POOLS_DIR}/swarm/chunks/{start}-{min(start + size, total)}.npz"
        for start in range(0, total, size)
    ]


def rank_scores(proxy: str) -> list[str]:
    """The scores a proxy ranks the pools by: the n-gram's one file per pool (pool_rank_train), another
    proxy's held-out scores of its models of every pool-<pool> variant, per seed."""
    if proxy == "ngram":
        return expand(f"{POOLS_DIR}/rank/ngram/{{pool}}.npz", pool=search_pools())
    return [
        path
        for pool in search_pools()
        for path in heldout_scores(proxy, ranked_pool_variant(pool), PROXY_SEEDS[proxy])
    ]


def rankings() -> list[str]:
    """Every ranking file: the first proxy's (it picks best_pool), then the others'."""
    return [f"{POOLS_DIR}/ranking.json"] + [
        f"{POOLS_DIR}/ranking.{proxy}.json" for proxy in RANK_PROXIES[1:]
    ]


def mixture_claims(proxies: list[str], kind: str) -> list[str]:
    """The exported mixtures' claims (kind "claims") or dj-process's counts (kind "counts"): the
    n-gram's, then those at the budget of each proxy of `proxies` that repeats data."""
    if kind == "claims":
        own, at = (
            f"{POOLS_DIR}/mixtures/{{mix}}.json",
            f"{POOLS_DIR}/mixtures/{{proxy}}/{{mix}}.json",
        )
    else:
        own = f"{POOLS_DIR}/variants/{{mix}}/counts.json"
        at = f"{POOLS_DIR}/variants/{{mix}}/{{proxy}}/counts.json"
    repeating = [proxy for proxy in proxies if proxy in REPEATING_PROXIES]
    return expand(own, mix=MIXTURES) + expand(at, mix=MIXTURES, proxy=repeating)
