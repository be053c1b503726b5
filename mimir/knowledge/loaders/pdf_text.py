"""Cleaning PDF page text: word spacing, table-of-contents leaders, running headers, fragments.

* pypdf has two extraction modes. Its plain mode can run words together where a PDF positions
  words instead of writing spaces; its layout mode places glyphs by their coordinates and can do
  better there (and worse elsewhere). Each page keeps whichever text has fewer run-together words.
* Table-of-contents lines (``2.1 Naming . . . . . . 3``) and bare page numbers carry no knowledge.
* A line repeated at the top or bottom of most pages is a running header or footer.
* A paragraph shorter than a floor is merged into its neighbour on the page instead of becoming a
  chunk of its own (nothing is dropped, so no fact is lost).
"""

from __future__ import annotations

import re
from collections import Counter

FRAGMENT_FLOOR = 30  # characters: shorter paragraphs are merged into a neighbour
_LEADER = re.compile(r"(?:\.\s*){4,}\s*[\divxlcIVXLC]{0,6}\s*$|(?:…\s*){2,}\s*\d*\s*$|(?:_\s*){6,}\d*\s*$")
_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?(?:\d{1,4}|[ivxlc]{1,6})(?:\s*(?:/|of)\s*\d{1,4})?\s*$", re.I)
_JOINED = re.compile(r"[a-z]{2,}[A-Z][a-z]+[A-Z]?[a-z]*|[A-Za-z]{18,}")


def run_together(text: str) -> int:
    """How many words look like several words written without spaces."""
    return len(_JOINED.findall(text))


def best_spacing(plain: str, layout: str | None) -> str:
    """The plain text, unless the layout text has clearly fewer run-together words."""
    if not layout:
        return plain
    joined_plain = run_together(plain)
    if joined_plain >= 3 and run_together(layout) * 2 <= joined_plain:
        return layout
    return plain


def is_leader_line(line: str) -> bool:
    """A table-of-contents entry with dot leaders, or a bare page number."""
    return bool(_LEADER.search(line) or _PAGE_NUMBER.match(line))


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", line.strip().lower())


def running_lines(pages: list[list[str]]) -> set[str]:
    """Shapes of lines found at the top or bottom of at least half the pages (at least 3)."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        content = [l for l in lines if l.strip()]
        edges = {_shape(l) for l in content[:2] + content[-2:]}
        counts.update(e for e in edges if e)
    need = max(3, (len(pages) + 1) // 2)
    return {shape for shape, n in counts.items() if n >= need}


def clean_lines(lines: list[str], running: set[str]) -> tuple[list[str], int]:
    """Lines without leaders, page numbers and running headers; (kept lines, how many dropped)."""
    kept, dropped = [], 0
    for line in lines:
        if line.strip() and (is_leader_line(line) or _shape(line) in running):
            dropped += 1
            continue
        kept.append(line)
    return kept, dropped


def merge_fragments(paragraphs: list[tuple[str, str]], floor: int = FRAGMENT_FLOOR) -> list[tuple[str, str]]:
    """Paragraphs under ``floor`` characters joined to the next paragraph (or the previous one).

    A "heading" directly followed by another is a table row or a list line: it is demoted to
    text. A heading with nothing after it on the page becomes ``heading_only``: it names the
    section of what follows (on the next page) without being a chunk of its own.
    """
    demoted = []
    for i, (kind, text) in enumerate(paragraphs):
        following = paragraphs[i + 1][0] if i + 1 < len(paragraphs) else None
        if kind == "heading" and following == "heading":
            kind = "paragraph"
        elif kind == "heading" and following is None:
            kind = "heading_only"
        demoted.append((kind, text))
    out: list[tuple[str, str]] = []
    carry = ""
    for kind, text in demoted:
        if kind in ("heading", "heading_only"):
            if carry:
                out.append(("paragraph", carry))
                carry = ""
            out.append((kind, text))
            continue
        text = f"{carry} {text}".strip() if carry else text
        carry = ""
        if len(text) < floor:
            carry = text
            continue
        out.append((kind, text))
    if carry:
        if out and out[-1][0] == "paragraph":
            out[-1] = ("paragraph", f"{out[-1][1]} {carry}")
        elif out:
            out.append(("paragraph", carry))
        else:  # all the page says is a few words: a title page or a section start
            out.append(("heading_only" if len(carry.split()) <= 8 else "paragraph", carry))
    return out
