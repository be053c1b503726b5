"""What a loader hands to the chunker: the extracted text plus its structural blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

BlockKind = Literal["paragraph", "list", "table_row", "row", "record", "code"]

# Scripts written without spaces between words: each character counts as a token of its own.
_NO_SPACE_SCRIPTS = (
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3031-\u303c\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"  # Han, kana, bopomofo
    "\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff"  # Thai, Lao, Myanmar, Khmer
)
# A token is one such character, a word of at most 24 characters (longer runs, base64 and the
# like, count one token per 24 characters), or one punctuation mark. Ordinary words count as before.
TOKEN = re.compile(rf"[{_NO_SPACE_SCRIPTS}]|(?:(?![{_NO_SPACE_SCRIPTS}])\w){{1,24}}|[^\w\s]")


def count_tokens(text: str) -> int:
    """A cheap, deterministic token count (words and punctuation marks), close to subword counts / 1.3."""
    return len(TOKEN.findall(text))


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
