"""What a loader hands to the chunker: the extracted text plus its structural blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

BlockKind = Literal["paragraph", "list", "table_row", "row", "record", "code"]

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """A cheap, deterministic token count (words and punctuation marks), close to subword counts / 1.3."""
    return len(_TOKEN.findall(text))


@dataclass
class Block:
    """One structural unit of a document; ``start``/``end`` index into ``Document.text``."""

    start: int
    end: int
    kind: BlockKind = "paragraph"
    heading: str = ""  # heading path, e.g. "Handbook > 5. Medication"
    page: int | None = None
    row: int | None = None


@dataclass
class Document:
    """Extracted text of one file and where each block of it came from."""

    name: str  # file name only, never a path
    format: str
    text: str
    blocks: list[Block]
    warnings: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def block_text(self, block: Block) -> str:
        return self.text[block.start : block.end]


class TextBuilder:
    """Builds a document's text block by block, keeping exact character spans."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.blocks: list[Block] = []

    def add(self, text: str, **block: Any) -> None:
        text = text.strip()
        if not text:
            return
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        self.blocks.append(Block(start=start, end=self._length, **block))

    @property
    def text(self) -> str:
        return "".join(self._parts)
