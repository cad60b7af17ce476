"""The demo's downstream task, sotu_hellaswag: HellaSwag's shape (a paragraph's opening, four candidate
continuations, one of them true) from State of the Union paragraphs that never enter the demo's pool.

The paragraphs come from the demo's eval speeches (sandbox.demo.corpus holds them out of the pool, noise
included) and are in neither eval.jsonl nor reference.jsonl, so the task shares no text with the pool,
the eval set or the feedback reference. The context is a paragraph's first sentence, the true ending
its second; the three distractors are the second sentences of other such paragraphs, drawn among the
NEIGHBOURS endings nearest in length on either side, so that length alone hardly tells the true one
(a log-likelihood summed over more bytes is lower, whichever ending is true). Seeded: the same
settings give byte-identical files (config/tasks/sotu_hellaswag/, built by scripts/build_demo_task.py).
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass
from typing import Any

from sandbox.demo.corpus import build_demo_with_reference, load_paragraphs, split_speeches
from sandbox.downstream.tasks import DEMO_TASK

TASK = DEMO_TASK
CHOICES = 4
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
NEIGHBOURS = 6  # distractors come from this many endings on either side in length order
MIN_CHARS, MAX_CHARS = 40, 400  # of the context and of an ending


@dataclass(frozen=True)
class DemoSettings:
    """The demo settings the task is held out for: they decide which speeches are eval speeches and
    which paragraphs the eval set and the reference sample took (config.yaml's demo: defaults)."""

    seed: int = 0
    pool_docs: int = 3000
    eval_docs: int = 400
    noise_fraction: float = 0.35
    reference_docs: int = 300
    eval_speech_fraction: float = 0.1
    min_chars: int = 200
    max_chars: int = 1500


def held_out_paragraphs(settings: DemoSettings) -> list[tuple[str, str]]:
    """(speech, paragraph) of the eval speeches that neither the eval set nor the reference took."""
    by_speech = load_paragraphs(settings.min_chars, settings.max_chars)
    # split_speeches is the demo's first draw from its generator, so this is its split
    _, eval_ids, _ = split_speeches(by_speech, random.Random(settings.seed), settings.eval_speech_fraction,
                                    settings.eval_docs, settings.reference_docs)
    _, eval_set, reference = build_demo_with_reference(
        settings.seed, settings.pool_docs, settings.eval_docs, settings.reference_docs,
        settings.noise_fraction, settings.eval_speech_fraction, settings.min_chars, settings.max_chars)
    taken = {record["text"] for record in eval_set + reference}
    return [(speech, text) for speech in eval_ids for text in by_speech[speech] if text not in taken]


def opening(text: str) -> tuple[str, str] | None:
    """(first sentence, second sentence) of a paragraph when both are of usable length."""
    sentences = SENTENCE_END.split(text.strip())
    if len(sentences) < 2:
        return None
    context, ending = sentences[0], sentences[1]
    if not (MIN_CHARS <= len(context) <= MAX_CHARS and MIN_CHARS <= len(ending) <= MAX_CHARS):
        return None
    return context, ending


def distractors(rank: int, by_length: list[str], rng: random.Random) -> list[str]:
    """CHOICES - 1 endings among the NEIGHBOURS on either side of by_length[rank] (sorted by length)."""
    near = by_length[max(0, rank - NEIGHBOURS) : rank] + by_length[rank + 1 : rank + 1 + NEIGHBOURS]
    return rng.sample(near, CHOICES - 1)


def build_items(items: int, seed: int = 0, settings: DemoSettings = DemoSettings()) -> list[dict[str, Any]]:
    """The task's items: {ind, ctx, endings, label, source_id}, in a seeded order."""
    rng = random.Random(f"{TASK}-{seed}")
    usable = [(speech, *pair) for speech, text in held_out_paragraphs(settings)
              if (pair := opening(text)) is not None]
    if len(usable) < items:
        raise ValueError(f"{TASK}: {len(usable)} usable held-out paragraphs, {items} items asked for")
    rng.shuffle(usable)
    chosen = usable[:items]
    by_length = sorted({ending for _, _, ending in chosen}, key=lambda ending: (len(ending), ending))
    rank = {ending: index for index, ending in enumerate(by_length)}
    rows = []
    for index, (speech, context, ending) in enumerate(chosen):
        candidates = distractors(rank[ending], by_length, rng)
        label = rng.randrange(CHOICES)
        candidates.insert(label, ending)
        rows.append({"ind": index, "ctx": context, "endings": candidates, "label": label,
                     "source_id": speech})
    return rows


def card_facts(rows: list[dict[str, Any]], settings: DemoSettings) -> dict[str, Any]:
    """What the data card states of a build: sizes, speeches and the settings it is held out for."""
    speeches = sorted({row["source_id"] for row in rows})
    return {"task": TASK, "items": len(rows), "choices": CHOICES, "chance": 1 / CHOICES,
            "speeches": speeches, "demo_settings": asdict(settings)}
