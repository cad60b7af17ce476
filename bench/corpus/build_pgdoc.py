#!/usr/bin/env python3
"""Build a real, varied pool to measure recipes on, from Debian's PostgreSQL 15 HTML manual.

The manual (package ``postgresql-doc-15``) is about 1,170 real web pages of one project: prose,
reference pages, code listings and tables, wrapped in the usual navigation. This script turns it
into the files the workflow reads (``dataset_path``, ``eval_path``, ``trusted_path``):

- ``pool.jsonl``: clean documents (the body text of the manual's pages, split at their top-level
  sections) and real noise from the same files, each tagged ``meta.origin``: ``noise:html`` (raw
  HTML source, markup and all), ``noise:nav`` (navigation headers and footers, tables of contents,
  the book's index) and ``noise:release`` (release-notes change lists);
- ``eval.jsonl``: clean documents of whole chapters held out of the pool (no page, raw or
  navigation, of these chapters is in the pool);
- ``trusted.jsonl``: clean documents of yet other held-out chapters (a trusted sample);
- ``untagged_pool.jsonl``: the pool without ``meta``;
- ``manifest.json``: the seed, the package version, counts and bytes per origin for each file, the
  median document bytes and the sha256 of every file.

Which chapters are held out, which pages give raw HTML and how the HTML is cut are drawn from
``random.Random(seed)`` over sorted inputs: the same seed and package version give byte-identical
files. Pool documents sharing a run of 13 words with an eval or trusted document (after the
workflow's normalisation) are dropped, and trusted documents sharing one with the eval set, so the
workflow's own decontamination finds nothing to do.

Usage::

    python3 bench/corpus/build_pgdoc.py                 # writes bench/corpus/out/pgdoc
    python3 bench/corpus/build_pgdoc.py --check         # rebuilds in a temp folder, compares hashes

Standard library only; see bench/corpus/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

PACKAGE = "postgresql-doc-15"
DEFAULT_HTML_DIR = Path("/usr/share/doc/postgresql-doc-15/html")
DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "pgdoc"
INSTALL_FIX = f"Fix: apt-get update && apt-get install -y {PACKAGE}"
ROOT_PAGE = "index.html"
RELEASE_CHAPTER = "release"
BOOK_INDEX = "bookindex.html"
# Pages outside the Up-link tree that the manual has (legalnotice.html); more means a broken folder.
MAX_ORPHANS = 3

# Document shape: a page's top-level sections, merged in order until a document has this many bytes
# (--min-doc-bytes).
MIN_DOC_BYTES = 1000
# A longer document is cut at paragraph boundaries into pieces of about equal size (--max-doc-bytes).
MAX_DOC_BYTES = 3000
# Noise pieces that are cut (the book's index, release notes) are about this long.
NOISE_PIECE_BYTES = 3000
# Raw HTML is cut at a tag boundary into pieces of a length drawn between these.
HTML_PIECE_BYTES = (1000, 5000)
# A held-out chapter has at most this fraction (1/n) of the held-out set's upper size.
HOLD_OUT_CHAPTER_DIVISOR = 4
# The workflow's decontamination (config decontamination_words).
DECONTAMINATION_WORDS = 13

SECTION_CLASSES = frozenset({
    "sect1", "sect2", "sect3", "sect4", "sect5", "refsect1", "refsect2", "refsect3",
    "refsynopsisdiv", "refnamediv", "simplesect", "chapter", "appendix", "part", "preface",
    "refentry", "reference", "glossary", "glossdiv", "bibliography", "bibliodiv", "index",
    "indexdiv", "legalnotice", "book",
})
NAV_CLASSES = frozenset({"navheader", "navfooter"})
TOC_CLASSES = frozenset({"toc", "list-of-tables", "list-of-figures", "list-of-examples"})
BLOCK_TAGS = frozenset({
    "p", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "tr", "div",
    "table", "ul", "ol", "dl", "blockquote", "caption", "br", "hr", "tbody", "thead",
})
VOID_TAGS = frozenset({"br", "hr", "img", "col", "meta", "link", "input", "area", "base", "wbr"})
SPACES = re.compile(r"\s+")
WORD = re.compile(r"\w+")


class BuildError(Exception):
    """A problem with the input or the options; the message says what and ends with a Fix."""


@dataclass
class Block:
    """One block of text (a paragraph, a heading, a listing, a table row) and where it sits."""

    text: str
    channel: str  # body, nav or toc
    sections: tuple[str, ...]  # the ids of the section divisions around it, outermost first


@dataclass
class Page:
    """One HTML file of the manual, parsed."""

    name: str
    html: str
    up: str | None
    blocks: list[Block] = field(default_factory=list)

    def text(self, channel: str) -> list[Block]:
        """The page's blocks of one channel, in order."""
        return [block for block in self.blocks if block.channel == channel]


class PageParser(HTMLParser):
    """Splits a DocBook XHTML page into body, navigation and table-of-contents blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []  # (tag, role): role is nav, toc or a section id
        self.in_body = False
        self.up: str | None = None
        self.buffer: list[str] = []
        self.blocks: list[Block] = []
        self.pre_depth = 0

    def channel(self) -> str:
        """Where text goes now: nav or toc when inside such a division, else body."""
        for _, role in reversed(self.stack):
            if role in ("nav", "toc"):
                return role
        return "body"

    def sections(self) -> tuple[str, ...]:
        """The section ids around the current position, outermost first."""
        return tuple(role for _, role in self.stack if role and role.startswith("#"))

    def flush(self) -> None:
        """Closes the current block, if it holds any text."""
        raw = "".join(self.buffer)
        self.buffer = []
        if self.pre_depth:
            lines = [line.rstrip() for line in raw.split("\n")]
            text = "\n".join(lines).strip("\n")
        else:
            text = SPACES.sub(" ", raw).strip()
        if text.strip():
            self.blocks.append(Block(text, self.channel(), self.sections()))

    def role_of(self, tag: str, attrs: dict[str, str | None]) -> str | None:
        """nav, toc, a section id (prefixed with #) or None for an element."""
        classes = set((attrs.get("class") or "").split())
        if tag != "div":
            return None
        if classes & NAV_CLASSES:
            return "nav"
        if classes & TOC_CLASSES:
            return "toc"
        if classes & SECTION_CLASSES:
            return "#" + (attrs.get("id") or f"anon{len(self.blocks)}")
        return None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "body":
            self.in_body = True
            return
        if tag == "a" and attributes.get("accesskey") == "u" and self.up is None:
            self.up = attributes.get("href")
        if not self.in_body or tag in VOID_TAGS:
            if tag in ("br", "hr") and self.in_body:
                self.flush()
            return
        if tag in BLOCK_TAGS:
            self.flush()
        elif tag in ("td", "th"):
            self.buffer.append(" ")
        self.stack.append((tag, self.role_of(tag, attributes)))
        if tag == "pre":
            self.pre_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr") and self.in_body:
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if not self.in_body or tag in VOID_TAGS:
            return
        if tag == "body":
            self.flush()
            self.in_body = False
            return
        if not any(open_tag == tag for open_tag, _ in self.stack):
            return
        if tag in BLOCK_TAGS:
            self.flush()
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == "pre":
                self.pre_depth -= 1
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.in_body:
            self.buffer.append(data)


def parse_page(path: Path) -> Page:
    """Reads and parses one HTML file of the manual."""
    try:
        html = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise BuildError(f"{path}: not UTF-8 ({error}). Fix: reinstall the package "
                         f"(apt-get install --reinstall -y {PACKAGE}).") from error
    parser = PageParser()
    parser.feed(html)
    parser.close()
    parser.flush()
    up = parser.up.split("#")[0] if parser.up else None
    return Page(path.name, html, up, parser.blocks)


def read_pages(html_dir: Path) -> dict[str, Page]:
    """Every HTML page of the folder, by file name, in sorted order."""
    if not html_dir.is_dir():
        raise BuildError(f"{html_dir}: no such folder (the HTML manual of {PACKAGE}). {INSTALL_FIX}, "
                         "or pass --html-dir to the folder that holds index.html.")
    paths = sorted(html_dir.glob("*.html"))
    names = {path.name for path in paths}
    if ROOT_PAGE not in names or len(paths) < 100:
        raise BuildError(f"{html_dir}: holds {len(paths)} HTML files and "
                         f"{'an' if ROOT_PAGE in names else 'no'} {ROOT_PAGE}; expected the ~1,170 pages "
                         f"of the manual. {INSTALL_FIX}, or pass --html-dir to the manual's html folder.")
    return {path.name: parse_page(path) for path in paths}


def package_version() -> str:
    """The installed version of postgresql-doc-15, as dpkg-query gives it."""
    try:
        result = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", PACKAGE],
                                capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise BuildError(f"dpkg-query not found ({error}): the package version cannot be recorded. "
                         "Fix: run on a Debian or Ubuntu machine with the package installed.") from error
    if result.returncode != 0 or not result.stdout.strip():
        raise BuildError(f"dpkg-query -W {PACKAGE} failed: {result.stderr.strip() or 'no version'}. "
                         f"{INSTALL_FIX}")
    return result.stdout.strip()


def chapters(pages: dict[str, Page]) -> dict[str, str]:
    """Each page's chapter: the ancestor two levels below index.html (a chapter, reference or
    appendix), or the page itself for the parts, the pages directly below the root and the pages
    outside the tree (legalnotice.html, reached only by a link from the title page)."""
    def chain(name: str) -> list[str]:
        seen = [name]
        while True:
            up = pages[seen[-1]].up if seen[-1] in pages else None
            if up is None or up == seen[-1] or up not in pages or up in seen:
                return seen
            seen.append(up)

    result, orphans = {}, []
    for name in pages:
        ancestors = chain(name)  # name, parent, ..., index.html
        if ancestors[-1] != ROOT_PAGE:
            orphans.append(name)
        chapter = ancestors[-3] if len(ancestors) >= 3 else ancestors[0]
        result[name] = Path(chapter).stem
    if len(orphans) > MAX_ORPHANS:
        raise BuildError(f"{len(orphans)} pages have no Up link chain to {ROOT_PAGE} (first: {orphans[:3]}); "
                         f"the manual has {MAX_ORPHANS} or fewer (legalnotice.html). Fix: check that "
                         f"--html-dir is the complete manual (apt-get install --reinstall -y {PACKAGE}).")
    return result


def join_blocks(blocks: Iterable[Block]) -> str:
    """Blocks as one text, a blank line between them."""
    return "\n\n".join(block.text for block in blocks)


def section_units(page: Page) -> list[list[Block]]:
    """The page's body split at its top-level sections: the text before the first section, then
    each section of the page's root division with everything inside it."""
    units: list[list[Block]] = []
    key: tuple[str, ...] | None = None
    for block in page.text("body"):
        unit_key = block.sections[:2]
        if key is None or unit_key != key:
            units.append([])
            key = unit_key
        units[-1].append(block)
    return units


def block_bytes(blocks: list[Block]) -> int:
    """The UTF-8 length of the blocks joined as a document."""
    return len(join_blocks(blocks).encode())


def merged_units(page: Page, min_bytes: int) -> list[list[Block]]:
    """The page's top-level sections, merged in order until each has min_bytes; a remainder under
    half of that joins the last one."""
    merged: list[list[Block]] = []
    current: list[Block] = []
    for unit in section_units(page):
        current = current + unit
        if block_bytes(current) >= min_bytes:
            merged.append(current)
            current = []
    if current:
        if merged and block_bytes(current) < min_bytes // 2:
            merged[-1] = merged[-1] + current
        else:
            merged.append(current)
    return merged


def split_long(blocks: list[Block], max_bytes: int) -> list[list[Block]]:
    """The blocks cut at block boundaries into the fewest pieces of about equal size that keep each
    piece near max_bytes (a single longer block, such as a long listing, stays whole)."""
    size = block_bytes(blocks)
    parts = -(-size // max_bytes)
    if parts <= 1:
        return [blocks]
    target = size / parts
    pieces: list[list[Block]] = [[]]
    for block in blocks:
        if pieces[-1] and block_bytes(pieces[-1]) >= target:
            pieces.append([])
        pieces[-1].append(block)
    return pieces


def page_documents(page: Page, min_bytes: int, max_bytes: int) -> list[str]:
    """The page's clean documents: its top-level sections merged up to min_bytes, and documents over
    max_bytes cut at paragraph boundaries."""
    return [join_blocks(piece) for unit in merged_units(page, min_bytes)
            for piece in split_long(unit, max_bytes)]


def cut(text: str, size: int, separator: str) -> list[str]:
    """The text cut at separators into pieces of about size bytes (a piece ends at the first
    separator past size; a text without one stays whole)."""
    pieces, start = [], 0
    while start < len(text):
        end = text.find(separator, start + size)
        end = len(text) if end < 0 else end + len(separator)
        piece = text[start:end].strip()
        if piece:
            pieces.append(piece)
        start = end
    return pieces


def nav_documents(page: Page) -> list[str]:
    """The page's navigation noise: its header and footer as one document ("Prev Up ... Next" and
    the neighbours' titles), and its table of contents as another."""
    documents = []
    nav = "\n".join(block.text for block in page.text("nav"))
    if nav:
        documents.append(nav)
    toc = page.text("toc")
    if toc:
        documents.extend(cut("\n".join(block.text for block in toc), NOISE_PIECE_BYTES, "\n"))
    return documents


def index_documents(page: Page) -> list[str]:
    """The book's index (term, page references) cut into pieces of about NOISE_PIECE_BYTES."""
    return cut("\n".join(block.text for block in page.blocks if block.channel != "nav"),
               NOISE_PIECE_BYTES, "\n")


def release_documents(page: Page) -> list[str]:
    """A release-notes page's body (change lists with authors) cut into pieces."""
    return cut("\n".join(block.text for block in page.text("body")), NOISE_PIECE_BYTES, "\n")


def html_documents(page: Page, rng: random.Random) -> list[str]:
    """The page's raw HTML source cut at tag boundaries into pieces of random length."""
    pieces, start, html = [], 0, page.html
    while start < len(html):
        end = html.find(">", start + rng.randint(*HTML_PIECE_BYTES))
        end = len(html) if end < 0 else end + 1
        pieces.append(html[start:end].strip())
        start = end
    return [piece for piece in pieces if piece]


def record(text: str, origin: str, page: str, chapter: str) -> dict[str, Any]:
    """One output line."""
    return {"text": text, "meta": {"origin": origin, "page": page, "chapter": chapter}}


def clean_records(pages: Iterable[Page], chapter_of: dict[str, str], min_bytes: int, max_bytes: int
                  ) -> list[dict[str, Any]]:
    """The clean documents of the pages, in page order."""
    return [record(text, "clean", page.name, chapter_of[page.name])
            for page in pages for text in page_documents(page, min_bytes, max_bytes)]


Records = list[dict[str, Any]]


def hold_out(by_chapter: dict[str, Records], rng: random.Random, size: tuple[int, int], what: str,
             index: set[tuple[str, ...]]) -> tuple[list[str], Records, int]:
    """(chapters, their records, records dropped): whole chapters drawn in a seeded order, each without
    its records that share a 13-word run with index, until they add up to size's [low, high]. No
    chapter has more than a quarter of high, so the set spans many topics and no giant chapter (the
    SQL command reference) leaves the pool."""
    low, high = size
    order = sorted(by_chapter)
    rng.shuffle(order)
    chosen: list[str] = []
    records: Records = []
    dropped = 0
    for chapter in order:
        admitted, drops = decontaminate(by_chapter[chapter], index)
        if 0 < len(admitted) <= high // HOLD_OUT_CHAPTER_DIVISOR and len(records) + len(admitted) <= high:
            chosen.append(chapter)
            records += admitted
            dropped += sum(drops.values())
        if len(records) >= low:
            return sorted(chosen), records, dropped
    raise BuildError(f"cannot hold out {low}-{high} clean documents for the {what} set from whole chapters "
                     f"(reached {len(records)}). Fix: widen the range (--{what}-docs) or try another --seed.")


def normalized(text: str) -> str:
    """Text as the workflow compares it (scripts/sandbox/eval_set.py): NFKC, casefold, spaces."""
    return SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def word_runs(text: str, n: int = DECONTAMINATION_WORDS) -> set[tuple[str, ...]]:
    """The text's runs of n words (a shorter text gives its whole word sequence)."""
    words = WORD.findall(normalized(text))
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[start:start + n]) for start in range(len(words) - n + 1)}


def contaminates(text: str, index: set[tuple[str, ...]], n: int = DECONTAMINATION_WORDS) -> bool:
    """Whether the text shares a run of n words with the index; a text shorter than n words matches
    only a reference text of the same words (as the workflow's decontamination does)."""
    runs = word_runs(text, n)
    return not index.isdisjoint(runs)


def ngram_index(references: list[dict[str, Any]]) -> set[tuple[str, ...]]:
    """Every 13-word run of the references (and each short reference's whole word sequence)."""
    index: set[tuple[str, ...]] = set()
    for reference in references:
        index |= word_runs(reference["text"])
    return index


def decontaminate(records: list[dict[str, Any]], index: set[tuple[str, ...]]
                  ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """(records sharing no 13-word run with the index, dropped count per origin)."""
    kept, dropped = [], defaultdict(int)
    for item in records:
        if contaminates(item["text"], index):
            dropped[item["meta"]["origin"]] += 1
        else:
            kept.append(item)
    return kept, dict(sorted(dropped.items()))


def dedupe(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records without later copies of a normalised text."""
    seen, kept = set(), []
    for item in records:
        key = normalized(item["text"])
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def noise_records(pages: list[Page], chapter_of: dict[str, str], rng: random.Random,
                  html_budget: int) -> list[dict[str, Any]]:
    """Every nav and release noise document of the pool's pages, and raw HTML pieces of pages drawn
    in a seeded order until html_budget bytes."""
    records = []
    for page in pages:
        chapter = chapter_of[page.name]
        if page.name == BOOK_INDEX:
            records += [record(text, "noise:nav", page.name, chapter) for text in index_documents(page)]
        elif chapter == RELEASE_CHAPTER and page.name != f"{RELEASE_CHAPTER}.html":
            records += [record(text, "noise:release", page.name, chapter)
                        for text in release_documents(page)]
        records += [record(text, "noise:nav", page.name, chapter) for text in nav_documents(page)]
    order = [page for page in pages if page.name != BOOK_INDEX]
    rng.shuffle(order)
    used = 0
    for page in order:
        if used >= html_budget:
            break
        for text in html_documents(page, rng):
            records.append(record(text, "noise:html", page.name, chapter_of[page.name]))
            used += len(text.encode())
    return records


def shuffled(records: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """The records in a seeded random order (noise spread through the file, as in a crawl)."""
    result = list(records)
    rng.shuffle(result)
    return result


@dataclass(frozen=True)
class Options:
    """What a build draws from: the seed and the sizes asked for."""

    seed: int
    eval_docs: tuple[int, int]
    trusted_docs: tuple[int, int]
    noise_share: float
    min_doc_bytes: int
    max_doc_bytes: int

    def manifest(self) -> dict[str, Any]:
        """The options as the manifest records them (with the fixed cutting sizes)."""
        return {"eval_docs": list(self.eval_docs), "trusted_docs": list(self.trusted_docs),
                "noise_share": self.noise_share, "min_doc_bytes": self.min_doc_bytes,
                "max_doc_bytes": self.max_doc_bytes,
                "noise_piece_bytes": NOISE_PIECE_BYTES, "html_piece_bytes": list(HTML_PIECE_BYTES),
                "hold_out_chapter_divisor": HOLD_OUT_CHAPTER_DIVISOR}


@dataclass
class Corpus:
    """The built files' records and what the manifest reports about how they were made."""

    pool: list[dict[str, Any]]
    eval: list[dict[str, Any]]
    trusted: list[dict[str, Any]]
    eval_chapters: list[str]
    trusted_chapters: list[str]
    dropped: dict[str, dict[str, int]]


def text_bytes(records: list[dict[str, Any]]) -> int:
    """The UTF-8 bytes of the records' texts."""
    return sum(len(item["text"].encode()) for item in records)


def by_chapter(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Records grouped by meta.chapter, in their order."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in records:
        groups[item["meta"]["chapter"]].append(item)
    return dict(groups)


def build(pages: dict[str, Page], options: Options) -> Corpus:
    """The pool, eval and trusted records for the options' seed."""
    rng = random.Random(options.seed)
    chapter_of = chapters(pages)
    ordered = [pages[name] for name in sorted(pages)]
    content = [page for page in ordered if chapter_of[page.name] != RELEASE_CHAPTER
               and page.up is not None and page.name != BOOK_INDEX]
    clean = by_chapter(dedupe(clean_records(content, chapter_of, options.min_doc_bytes,
                                                  options.max_doc_bytes)))
    eval_chapters, eval_records, _ = hold_out(clean, rng, options.eval_docs, "eval", set())
    rest = {chapter: records for chapter, records in clean.items() if chapter not in eval_chapters}
    trusted_chapters, trusted_records, trusted_drops = hold_out(rest, rng, options.trusted_docs, "trusted",
                                                                ngram_index(eval_records))
    held_out = set(eval_chapters) | set(trusted_chapters)

    pool_pages = [page for page in ordered if chapter_of[page.name] not in held_out]
    held_out_index = ngram_index(eval_records + trusted_records)
    pool_clean, dropped_clean = decontaminate(
        [item for chapter, records in sorted(clean.items()) if chapter not in held_out for item in records],
        held_out_index)
    other_noise, _ = decontaminate(noise_records(pool_pages, chapter_of, rng, 0), held_out_index)
    html_budget = max(0, round(text_bytes(pool_clean) * options.noise_share / (1 - options.noise_share))
                      - text_bytes(other_noise))
    noise, dropped_noise = decontaminate(
        noise_records(pool_pages, chapter_of, random.Random(options.seed + 1), html_budget), held_out_index)
    dropped_pool = dict(sorted({**dropped_clean, **dropped_noise}.items()))
    return Corpus(shuffled(pool_clean + noise, rng), eval_records, trusted_records, eval_chapters,
                  trusted_chapters, {"pool": dropped_pool, "trusted": {"clean": trusted_drops}})


def jsonl(records: Iterable[dict[str, Any]]) -> bytes:
    """Records as JSON lines (UTF-8, keys in the order given)."""
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in records).encode("utf-8")


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts, bytes (UTF-8 of the text) and median bytes of records, in all and per origin."""
    sizes = [len(item["text"].encode()) for item in records]
    per_origin: dict[str, list[int]] = defaultdict(list)
    for item, size in zip(records, sizes, strict=True):
        per_origin[item.get("meta", {}).get("origin", "untagged")].append(size)
    total = sum(sizes)
    by_origin = {origin: {"documents": len(values), "bytes": sum(values),
                          "byte_share": round(sum(values) / total, 4) if total else 0.0,
                          "median_doc_bytes": statistics.median(values)}
                 for origin, values in sorted(per_origin.items())}
    return {"documents": len(records), "bytes": total,
            "median_doc_bytes": statistics.median(sizes) if sizes else 0, "by_origin": by_origin}


def write(corpus: Corpus, out: Path, options: Options, version: str, html_dir: Path) -> dict[str, Any]:
    """Writes the four JSONL files and manifest.json; returns the manifest."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BuildError(f"{out}: cannot create the output folder ({error}). Fix: pass a writable --out.") \
            from error
    untagged = [{"text": item["text"]} for item in corpus.pool]
    contents = {"pool.jsonl": jsonl(corpus.pool), "eval.jsonl": jsonl(corpus.eval),
                "trusted.jsonl": jsonl(corpus.trusted), "untagged_pool.jsonl": jsonl(untagged)}
    for name, data in contents.items():
        (out / name).write_bytes(data)
    manifest = {
        "source": {"package": PACKAGE, "version": version, "html_dir": str(html_dir)},
        "seed": options.seed,
        "options": options.manifest(),
        "eval_chapters": corpus.eval_chapters,
        "trusted_chapters": corpus.trusted_chapters,
        "decontamination": {"words": DECONTAMINATION_WORDS, "dropped": corpus.dropped},
        "files": {
            "pool.jsonl": summary(corpus.pool),
            "eval.jsonl": summary(corpus.eval),
            "trusted.jsonl": summary(corpus.trusted),
            "untagged_pool.jsonl": summary(untagged),
        },
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def run(html_dir: Path, out: Path, options: Options) -> dict[str, Any]:
    """Reads the manual, builds the corpus and writes it to out; returns the manifest."""
    if not 0 <= options.noise_share < 1:
        raise BuildError(f"--noise-share {options.noise_share} is outside [0, 1). Fix: pass e.g. 0.35.")
    if not 0 < options.min_doc_bytes <= options.max_doc_bytes:
        raise BuildError(f"--min-doc-bytes {options.min_doc_bytes} and --max-doc-bytes "
                         f"{options.max_doc_bytes}: need 0 < min <= max. Fix: pass e.g. {MIN_DOC_BYTES} "
                         f"and {MAX_DOC_BYTES}.")
    pages = read_pages(html_dir)
    version = package_version()
    return write(build(pages, options), out, options, version, html_dir)


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check(out: Path, html_dir: Path) -> list[str]:
    """Rebuilds out's corpus (its manifest's seed and options) in a temp folder and compares: the
    problems found, empty when every file on disk and rebuilt matches the manifest's sha256."""
    manifest_path = out / "manifest.json"
    if not manifest_path.is_file():
        raise BuildError(f"{manifest_path}: no manifest to check against. Fix: build first "
                         f"(python3 bench/corpus/build_pgdoc.py --out {out}).")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        saved = manifest["options"]
        options = Options(manifest["seed"], tuple(saved["eval_docs"]), tuple(saved["trusted_docs"]),
                          saved["noise_share"], saved["min_doc_bytes"], saved["max_doc_bytes"])
        digests = dict(manifest["sha256"])
    except (ValueError, KeyError, TypeError) as error:
        raise BuildError(f"{manifest_path}: not a manifest this script wrote ({error!r}). Fix: rebuild "
                         f"(python3 bench/corpus/build_pgdoc.py --out {out}).") from error
    if saved != options.manifest():
        raise BuildError(f"{manifest_path}: built with other fixed sizes ({saved}) than this script's "
                         f"({options.manifest()}). Fix: rebuild with this script, then check.")
    problems = []
    for name, digest in digests.items():
        if not (out / name).is_file():
            problems.append(f"{out / name}: missing")
        elif file_hash(out / name) != digest:
            problems.append(f"{out / name}: sha256 differs from the manifest (edited after the build?)")
    with tempfile.TemporaryDirectory(prefix="pgdoc-check-") as temp:
        rebuilt = run(html_dir, Path(temp), options)
    if rebuilt["source"]["version"] != manifest["source"]["version"]:
        problems.append(f"package version {rebuilt['source']['version']} differs from the manifest's "
                        f"{manifest['source']['version']}")
    for name, digest in digests.items():
        if rebuilt["sha256"].get(name) != digest:
            problems.append(f"{name}: the rebuild's sha256 {rebuilt['sha256'].get(name)} differs from the "
                            f"manifest's {digest}")
    return problems


def doc_range(text: str) -> tuple[int, int]:
    """An argparse type: LOW-HIGH as two ints."""
    try:
        low, high = (int(part) for part in text.split("-"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not LOW-HIGH. Fix: pass e.g. 600-800.") from error
    if not 0 < low <= high:
        raise argparse.ArgumentTypeError(f"{text!r}: need 0 < LOW <= HIGH. Fix: pass e.g. 600-800.")
    return low, high


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html-dir", type=Path, default=DEFAULT_HTML_DIR,
                        help=f"the manual's HTML folder (default {DEFAULT_HTML_DIR})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every draw (default 0)")
    parser.add_argument("--eval-docs", type=doc_range, default=(600, 800),
                        help="clean documents of the held-out eval chapters, LOW-HIGH (default 600-800)")
    parser.add_argument("--trusted-docs", type=doc_range, default=(250, 350),
                        help="clean documents of the trusted chapters, LOW-HIGH (default 250-350)")
    parser.add_argument("--noise-share", type=float, default=0.35,
                        help="share of the pool's bytes that is noise (default 0.35)")
    parser.add_argument("--min-doc-bytes", type=int, default=MIN_DOC_BYTES,
                        help="a clean document is a page's top-level sections merged until this many "
                             "bytes (default %(default)s)")
    parser.add_argument("--max-doc-bytes", type=int, default=MAX_DOC_BYTES,
                        help="a longer one is cut at paragraph boundaries (default %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="rebuild --out's corpus in a temp folder and compare with its manifest")
    return parser.parse_args(argv)


def report(manifest: dict[str, Any], out: Path) -> str:
    """A few lines on what was written."""
    lines = [f"{out}: {PACKAGE} {manifest['source']['version']}, seed {manifest['seed']}"]
    for name, stats in manifest["files"].items():
        kinds = ", ".join(f"{origin} {entry['documents']} ({entry['byte_share']:.1%}, median "
                          f"{entry['median_doc_bytes']} B)"
                          for origin, entry in stats["by_origin"].items())
        lines.append(f"  {name}: {stats['documents']} documents, {stats['bytes']} bytes, median "
                     f"{stats['median_doc_bytes']} B; {kinds}")
    lines.append(f"  dropped (13-word runs): {manifest['decontamination']['dropped']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Builds (or checks) the corpus; 0 on success, 1 with a message on a problem."""
    args = parse_args(argv)
    try:
        if args.check:
            problems = check(args.out, args.html_dir)
            if problems:
                print("check failed:\n  " + "\n  ".join(problems) + "\nFix: rebuild with "
                      f"python3 bench/corpus/build_pgdoc.py --out {args.out}, and if the rebuild differs "
                      "from itself, report it: the builder is not deterministic.", file=sys.stderr)
                return 1
            print(f"check passed: a rebuild of {args.out} matches every sha256 of its manifest")
            return 0
        options = Options(args.seed, args.eval_docs, args.trusted_docs, args.noise_share,
                          args.min_doc_bytes, args.max_doc_bytes)
        manifest = run(args.html_dir, args.out, options)
        print(report(manifest, args.out))
        return 0
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
