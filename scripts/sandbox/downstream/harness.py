"""The proxies' trained models as lm-evaluation-harness models, registered through lm-eval's own
registry: `sandbox-gpt` (model.pt), `sandbox-ngram` (model.npz), `sandbox-hf` (a save_pretrained
folder), each from the file its training job wrote (sandbox.downstream.tasks.HARNESS_MODELS).

They score text exactly as the proxy's held-out scoring does, so a task's numbers and held-out bpb
come from one instrument: `loglikelihood_rolling(text)` is the proxy's own score of the document
(sandbox.proxies.gpt_model / sandbox.proxies.ngram / sandbox.proxies.hf score_documents), and
`loglikelihood(context,
continuation)` sums the log-probabilities that scoring gives the continuation's bytes (tokens for a
tokenizer) within the document context + continuation: the GPT's sliding windows from the document
start, the n-gram's order - 1 bytes, the hf model's windows of seq_len tokens. Log-probabilities are
natural logs, as lm-eval expects. They score and do not generate: `generate_until` refuses.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from sandbox.downstream.items import LOGLIKELIHOOD, SCORED_TYPES, item_row
from sandbox.downstream.tasks import TaskSpec, missing_data
from sandbox.io.jsonl import InputError
from sandbox.proxies import hf as hf_proxy
from sandbox.proxies.gpt_model import document_windows, load_checkpoint, pick_device
from sandbox.proxies.gpt_model import score_documents as gpt_score_documents
from sandbox.proxies.ngram import N_BYTES, KneserNeyLM, Stream

GENERATE_REFUSAL = (
    "{name} scores text with a proxy model and does not generate, so it cannot run generate_until tasks. "
    "Fix: choose tasks whose output_type is multiple_choice, loglikelihood or loglikelihood_rolling.")
GREEDY_CHUNK = 2048  # n-gram positions whose full distribution is computed at once (x 256 lookups)


def split_pair(context: str, continuation: str) -> tuple[bytes, int]:
    """The document context + continuation as UTF-8, and where the continuation's bytes start."""
    head = context.encode("utf-8")
    return head + continuation.encode("utf-8"), len(head)


class ProxyLM(LM):
    """Per-position log-probabilities of a document, summed over a continuation's positions."""

    name = "sandbox"

    def document_nats(self, texts: list[str]) -> list[float]:
        """Negative log-likelihood (nats) of each whole text, as the proxy's held-out scoring gives it."""
        raise NotImplementedError

    def continuation_scores(self, pairs: list[tuple[str, str]]) -> list[tuple[float, bool]]:
        """(log-probability, greedy) of each continuation after its context."""
        raise NotImplementedError

    def loglikelihood(self, requests: list[Any]) -> list[tuple[float, bool]]:
        return self.continuation_scores([tuple(request.args) for request in requests])

    def loglikelihood_rolling(self, requests: list[Any]) -> list[float]:
        return [-nats for nats in self.document_nats([request.args[0] for request in requests])]

    def generate_until(self, requests: list[Any]) -> list[str]:
        raise NotImplementedError(GENERATE_REFUSAL.format(name=self.name))


def byte_scores(logprobs: Sequence[np.ndarray], greedy: Sequence[np.ndarray],
                starts: Sequence[int]) -> list[tuple[float, bool]]:
    """Sum and all-greedy of each document's positions from its start on."""
    return [(float(values[start:].sum()), bool(flags[start:].all()))
            for values, flags, start in zip(logprobs, greedy, starts)]


@register_model("sandbox-gpt")
class GPTLM(ProxyLM):
    """The byte-level GPT of a model.pt (its trainer: sandbox.proxies.train_gpt)."""

    name = "sandbox-gpt"

    def __init__(self, model: str, device: str = "auto", batch_size: int | str = 64, **_: Any) -> None:
        super().__init__()
        self._device = pick_device(device)
        self.model, _ = load_checkpoint(model, self._device)
        self.seq_len = self.model.config.seq_len
        self.batch_size = int(batch_size)

    def document_nats(self, texts: list[str]) -> list[float]:
        scores = gpt_score_documents(self.model, texts, self.seq_len, self.batch_size, self._device)
        return [bits * math.log(2) for bits, _ in scores]

    def continuation_scores(self, pairs: list[tuple[str, str]]) -> list[tuple[float, bool]]:
        documents, starts = zip(*(split_pair(*pair) for pair in pairs)) if pairs else ((), ())
        logprobs, greedy = gpt_byte_logprobs(self.model, documents, self.batch_size, self._device, starts)
        return byte_scores(logprobs, greedy, starts)


def gpt_byte_logprobs(model: torch.nn.Module, documents: Sequence[bytes], batch_size: int,
                      device: torch.device, starts: Sequence[int] | None = None,
                      ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Log-probability of every byte of each document from starts[i] on (0 elsewhere) and whether it
    was the argmax, in the windows of sandbox.proxies.gpt_model.score_documents (BOS, then sliding
    windows over the same document); windows that score only bytes before the start are skipped."""
    seq_len = model.config.seq_len
    starts = starts if starts is not None else [0] * len(documents)
    pieces = []  # (document, its first byte this window scores, inputs, targets, scored_from)
    for index, data in enumerate(documents):
        scored = 0
        for inputs, targets, scored_from in document_windows(list(data), seq_len):
            count = len(targets) - scored_from
            if scored + count > starts[index]:
                pieces.append((index, scored, inputs, targets, scored_from))
            scored += count
    logprobs = [np.zeros(len(data)) for data in documents]
    greedy = [np.ones(len(data), dtype=bool) for data in documents]
    pieces.sort(key=lambda piece: len(piece[2]), reverse=True)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(pieces), batch_size):
            batch = pieces[start : start + batch_size]
            length = max(len(piece[2]) for piece in batch)
            inputs = torch.zeros(len(batch), length, dtype=torch.long)
            targets = torch.zeros(len(batch), length, dtype=torch.long)
            for row, (_, _, window_inputs, window_targets, _) in enumerate(batch):
                inputs[row, : len(window_inputs)] = torch.tensor(window_inputs)
                targets[row, : len(window_targets)] = torch.tensor(window_targets)
            values, best = target_logprobs(model(inputs.to(device)).float(), targets.to(device))
            for row, (index, scored, _, window_targets, scored_from) in enumerate(batch):
                count = len(window_targets) - scored_from
                logprobs[index][scored : scored + count] = values[row, scored_from : len(window_targets)]
                greedy[index][scored : scored + count] = best[row, scored_from : len(window_targets)]
    return logprobs, greedy


def target_logprobs(logits: torch.Tensor, targets: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """log p(target) at every position of a batch, and whether the target was the argmax."""
    log_probs = torch.log_softmax(logits, dim=-1)
    values = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    best = log_probs.argmax(dim=-1) == targets
    return values.double().cpu().numpy(), best.cpu().numpy()


@register_model("sandbox-ngram")
class NgramLM(ProxyLM):
    """The Kneser-Ney n-gram of a model.npz (rule ngram_model). is_greedy costs 256 lookups a byte, so
    it is computed only with greedy=True (multiple-choice tasks never read it; lm-eval's
    loglikelihood tasks do)."""

    name = "sandbox-ngram"

    def __init__(self, model: str, greedy: bool | str = True, **_: Any) -> None:
        super().__init__()
        self.lm = KneserNeyLM.load(Path(model))
        self.greedy = str(greedy).lower() not in ("false", "0")

    def document_nats(self, texts: list[str]) -> list[float]:
        bits = self.lm.document_nll_bits([text.encode("utf-8") for text in texts])
        return [float(value) * math.log(2) for value in bits]

    def continuation_scores(self, pairs: list[tuple[str, str]]) -> list[tuple[float, bool]]:
        if not pairs:
            return []
        documents, starts = zip(*(split_pair(*pair) for pair in pairs))
        stream = Stream.of(documents)
        targets = stream.symbols[stream.positions]
        # only the continuations' bytes: a byte's probability reads the bytes before it, not their scores
        scored = stream.depths > np.repeat(np.array(starts), [len(data) for data in documents])
        logprob = np.zeros(len(targets))
        logprob[scored] = np.log(self.lm.probabilities(stream.symbols, stream.positions[scored],
                                                       stream.depths[scored], targets[scored]))
        greedy = self.argmax_hits(stream, targets, scored) if self.greedy else np.zeros(len(targets), bool)
        bounds = np.cumsum([0, *(len(data) for data in documents)])
        return [(float(logprob[low:high][scored[low:high]].sum()),
                 bool(greedy[low:high][scored[low:high]].all()))
                for low, high in zip(bounds[:-1], bounds[1:])]

    def argmax_hits(self, stream: Stream, targets: np.ndarray, scored: np.ndarray) -> np.ndarray:
        """Whether each scored byte is the most probable byte after its context."""
        hits = np.zeros(len(targets), dtype=bool)
        chosen = np.flatnonzero(scored)
        every_byte = np.arange(N_BYTES)
        for start in range(0, len(chosen), GREEDY_CHUNK):
            index = chosen[start : start + GREEDY_CHUNK]
            probs = self.lm.probabilities(stream.symbols, np.repeat(stream.positions[index], N_BYTES),
                                          np.repeat(stream.depths[index], N_BYTES),
                                          np.tile(every_byte, len(index)))
            hits[index] = probs.reshape(len(index), N_BYTES).argmax(axis=1) == targets[index]
        return hits


@register_model("sandbox-hf")
class HFLM(ProxyLM):
    """A causal LM trained by the hf trainer (its --save-model folder), with its tokenizer or bytes."""

    name = "sandbox-hf"

    def __init__(self, model: str, device: str = "auto", batch_size: int | str = 32, **_: Any) -> None:
        super().__init__()
        folder = Path(model)
        settings = json.loads((folder / hf_proxy.SETTINGS).read_text(encoding="utf-8"))
        self._device = pick_device(device)
        self.model = hf_proxy.load_model(folder, "pretrained", settings["hub"], seed=0).to(self._device)
        self.codec = hf_proxy.load_codec(folder, settings["hub"], self.model)
        self.seq_len = int(settings["seq_len"])
        self.batch_size = int(batch_size)

    def document_nats(self, texts: list[str]) -> list[float]:
        scores = hf_proxy.score_documents(self.model, self.codec, [text.encode("utf-8") for text in texts],
                                          self.seq_len, self.batch_size, self._device)
        return [bits * math.log(2) for bits, _ in scores]

    def continuation_scores(self, pairs: list[tuple[str, str]]) -> list[tuple[float, bool]]:
        token_lists, starts = [], []
        for context, continuation in pairs:
            context, continuation = self.move_spaces(context, continuation)
            head = self.codec.encode(context.encode("utf-8"))
            whole = self.codec.encode((context + continuation).encode("utf-8"))
            token_lists.append([self.codec.start_id, *whole])
            # the continuation's tokens are those after the context's own (as lm-eval's HFLM splits)
            starts.append(len(head))
        logprobs, greedy = hf_token_logprobs(self.model, token_lists, self.seq_len, self.batch_size,
                                             self._device, starts)
        return byte_scores(logprobs, greedy, starts)

    def move_spaces(self, context: str, continuation: str) -> tuple[str, str]:
        """With a tokenizer, trailing spaces of the context go to the continuation (as lm-eval's HFLM
        does: BPE merges a space into the next word); bytes are left where they are."""
        if self.codec.name == "bytes":
            return context, continuation
        spaces = len(context) - len(context.rstrip())
        return (context[: len(context) - spaces], context[len(context) - spaces :] + continuation)


def hf_token_logprobs(model: torch.nn.Module, token_lists: Sequence[Sequence[int]], seq_len: int,
                      batch_size: int, device: torch.device, starts: Sequence[int] | None = None,
                      ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Log-probability of every token after the first of each list (start id first), from target
    starts[i] on (0 elsewhere), and whether it was the argmax, in the windows of
    sandbox.proxies.hf.score_documents (seq_len targets each, from the start); windows wholly before the
    start are skipped."""
    starts = starts if starts is not None else [0] * len(token_lists)
    pieces = [(index, offset, window) for index, ids in enumerate(token_lists)
              for offset, window in zip(range(0, len(ids), seq_len), hf_proxy.windows(ids, seq_len))
              if offset + len(window) - 1 > starts[index]]
    logprobs = [np.zeros(max(len(ids) - 1, 0)) for ids in token_lists]
    greedy = [np.ones(max(len(ids) - 1, 0), dtype=bool) for ids in token_lists]
    pieces.sort(key=lambda piece: len(piece[2]), reverse=True)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(pieces), batch_size):
            batch = pieces[start : start + batch_size]
            input_ids, attention, labels = hf_proxy.batch_tensors([window for _, _, window in batch], device)
            logits = model(input_ids=input_ids, attention_mask=attention).logits[:, :-1].float()
            values, best = target_logprobs(logits, labels[:, 1:].clamp(min=0))
            for row, (index, offset, window) in enumerate(batch):
                count = len(window) - 1
                logprobs[index][offset : offset + count] = values[row, :count]
                greedy[index][offset : offset + count] = best[row, :count]
    return logprobs, greedy


class TrainerLM(ProxyLM):
    """Any registered proxy without a wrapper of its own, through its trainer: the model its rule saved
    (Trainer.load) and the trainer's own held-out scoring (Trainer.score_texts). A continuation's
    log-probability is that of context + continuation less that of the context, every byte scored from
    the document's start, as held-out scoring does; whether it was the greedy choice is unknown
    (False), so loglikelihood tasks' greedy match reads 0 for such a proxy."""

    def __init__(self, proxy: str, model: str, device: str = "auto", **_: Any) -> None:
        super().__init__()
        from sandbox.proxies.registry import trainer_class

        self.name = f"sandbox-{proxy}"
        self.trainer = trainer_class(proxy)()
        self.trainer.load(Path(model), device)

    def document_nats(self, texts: list[str]) -> list[float]:
        return [bits * math.log(2) for bits, _ in self.trainer.score_texts(texts)]

    def continuation_scores(self, pairs: list[tuple[str, str]]) -> list[tuple[float, bool]]:
        contexts = self.document_nats([context for context, _ in pairs])
        wholes = self.document_nats([context + continuation for context, continuation in pairs])
        return [(context - whole, False) for context, whole in zip(contexts, wholes)]


# --- running one task offline ---


def load_task(spec: TaskSpec) -> tuple[Any, dict[str, Any]]:
    """(the TaskManager, leaf task name -> lm-eval Task) of one configured task; an InputError names
    the task and the data it wanted when that is not on disk."""
    import datasets
    from lm_eval.tasks import TaskManager

    problem = missing_data(spec)
    if problem:
        raise InputError(problem)
    # lm-eval's own catalogue is indexed only for tasks it defines (about 10 s)
    manager = TaskManager(include_path=str(spec.include_path) if spec.include_path else None,
                          include_defaults=spec.yaml_path is None)
    try:
        loaded = manager.load([spec.name])
    except KeyError:
        raise InputError(f"task {spec.name}: neither a task YAML under the tasks path nor a task of lm-eval "
                         "(lm_eval --tasks list). Fix: add its YAML to tasks_path, or give the YAML's path "
                         "in tasks.") from None
    except (OSError, ValueError) as error:  # ConnectionError and FileNotFoundError are OSErrors
        raise InputError(
            f"task {spec.name}: its data is not on disk ({type(error).__name__}: {error}). Downstream jobs "
            f"run offline (HF_DATASETS_OFFLINE=1), so a hub dataset must already be in the Hugging Face "
            f"datasets cache, {datasets.config.HF_DATASETS_CACHE}. Fix: load it once on a machine with "
            "network and the same HF_HOME / HF_DATASETS_CACHE (config/README.md, Downstream tasks)."
        ) from None
    refuse_generation(loaded["tasks"])
    return manager, loaded["tasks"]


def refuse_generation(tasks: dict[str, Any]) -> None:
    """InputError naming the tasks a scoring-only model cannot run."""
    generating = sorted(name for name, task in tasks.items()
                        if task.config.output_type not in SCORED_TYPES)
    if generating:
        raise InputError(f"task(s) {', '.join(generating)}: output_type generate_until. "
                         + GENERATE_REFUSAL.format(name="A proxy model"))


def harness_model(proxy: str, model: Path, device: str, batch_size: int, greedy: bool) -> ProxyLM:
    """The registered wrapper of a proxy, on its trained model file."""
    from lm_eval.api.registry import get_model

    if not model.exists():
        raise InputError(f"{model}: the {proxy} model is not there. Fix: train it first (its rule "
                         "writes it).")
    arguments: dict[str, Any] = {"model": str(model)}
    if proxy == "ngram":
        arguments["greedy"] = greedy
    else:
        arguments.update(device=device, batch_size=batch_size)
    try:
        wrapper = get_model(f"sandbox-{proxy}")
    except ValueError:  # no wrapper of its own: its trainer scores
        return TrainerLM(proxy, **arguments)
    return wrapper(**arguments)


def run_task(spec: TaskSpec, make_model: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every item's row of one task (its leaf tasks in name order) and lm-eval's own results; the
    model is built (make_model(greedy)) only once the task's data has loaded."""
    from lm_eval import simple_evaluate

    manager, tasks = load_task(spec)
    greedy = any(task.config.output_type == LOGLIKELIHOOD for task in tasks.values())
    results = simple_evaluate(model=make_model(greedy), tasks=list(tasks.values()), task_manager=manager,
                              log_samples=True, bootstrap_iters=0)
    rows = [item_row(sample, tasks[name].config.output_type, name)
            for name in sorted(tasks) for sample in results["samples"][name]]
    return rows, {"results": results["results"], "versions": results["versions"],
                  "n-shot": results["n-shot"], "lm_eval_version": results.get("lm_eval_version")}
