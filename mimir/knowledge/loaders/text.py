"""Plain text and Markdown: headings, paragraphs, list items, table rows and code fences.

Markdown is parsed line by line for its block structure only (we need where sections and
paragraphs start and end, not rendered HTML), so spans index the original text exactly.
Plain text goes through the same parser: blank lines separate paragraphs and a Markdown-style
heading line, if present, still opens a section.
"""

from __future__ import annotations

import re

from mimir.knowledge.config import KnowledgeConfig
from mimir.knowledge.documents import Block, Document
from mimir.knowledge.loaders._common import decode_text

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_LIST = re.compile(r"^ {0,3}([-*+]|\d{1,9}[.)])[ \t]+")
_TABLE = re.compile(r"^ {0,3}\|")
_TABLE_RULE = re.compile(r"^ {0,3}\|?[ \t]*:?-{3,}:?[ \t]*(\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def load_markdown(data: bytes, name: str, config: KnowledgeConfig) -> Document:
    text = decode_text(data, name)
    return Document(name=name, format="markdown", text=text, blocks=parse_markdown(text))


def load_text(data: bytes, name: str, config: KnowledgeConfig) -> Document:
    text = decode_text(data, name)
    return Document(name=name, format="text", text=text, blocks=parse_markdown(text))


def parse_markdown(text: str) -> list[Block]:
    """Blocks with heading paths; each block's span covers its lines in ``text``."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    headings: list[tuple[int, str]] = []  # (level, title) stack
    blocks: list[Block] = []
    current: list[int] = []  # line numbers of the open block
    kind = "paragraph"
    in_fence = False

    def path() -> str:
        return " > ".join(title for _, title in headings)

    def flush() -> None:
        nonlocal current, kind
        if current:
            start = offsets[current[0]]
            end = offsets[current[-1]] + len(lines[current[-1]])
            segment = text[start:end]
            lead = len(segment) - len(segment.lstrip())
            trail = len(segment) - len(segment.rstrip())
            if segment.strip():
                blocks.append(Block(start=start + lead, end=end - trail, kind=kind, heading=path()))  # type: ignore[arg-type]
        current, kind = [], "paragraph"

    def open_heading(level: int, title: str) -> None:
        while headings and headings[-1][0] >= level:
            headings.pop()
        headings.append((level, title.strip()))

    for number, line in enumerate(lines):
        if in_fence:
            current.append(number)
            if _FENCE.match(line):
                in_fence = False
                flush()
            continue
        if _FENCE.match(line):
            flush()
            in_fence, kind = True, "code"
            current.append(number)
            continue
        if not line.strip():
            flush()
            continue
        atx = _ATX.match(line)
        if atx:
            flush()
            open_heading(len(atx.group(1)), atx.group(2))
            continue
        if _SETEXT.match(line) and current and kind == "paragraph" and len(current) == 1:
            title = lines[current[0]].strip()
            current = []
            open_heading(1 if line.strip()[0] == "=" else 2, title)
            continue
        if _TABLE.match(line):
            if _TABLE_RULE.match(line):
                continue  # the |---|---| separator carries no content
            flush()
            current, kind = [number], "table_row"
            flush()
            continue
        if _LIST.match(line):
            flush()
            current, kind = [number], "list"
            continue
        if kind == "table_row":
            flush()
        current.append(number)
    flush()
    return blocks
