# The input, params and path functions of rules/report.smk, which includes this file after its constants.
from sandbox.proxies.registry import REGISTRY as PROXY_REGISTRY
from sandbox.workflow.variants import K_SIGMA, is_processed


def report_files() -> list[str]:
    """What `all` adds for the report: the verdict page, held-out bpb per proxy, the k-sigma
    thresholds, removals per processed variant, the training curves of proxies that draw them and the
    mixture search's weights and fit.
    """
    files = [f"{REPORT}/verdict.html"]
    files += [f"{REPORT}/bpb_{proxy}.png" for proxy in PROXIES]
    if K_SIGMA in VARIANTS:
        files.append(f"{REPORT}/thresholds.png")
    files += [f"{REPORT}/removals/{v}.png" for v in VARIANTS if is_processed(v)]
    files += [
        f"{REPORT}/loss_{p}.png" for p in PROXIES if PROXY_REGISTRY[p].loss_figure
    ]
    if MIXTURE_IN_SUMMARY:
        files.append(f"{REPORT}/mixture.png")
    return files
