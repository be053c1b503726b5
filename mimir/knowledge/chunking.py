"""Structure-aware chunking: sections stay whole where they fit, blocks are never merged
across a heading (or a PDF page), rows and records are chunks of their own, and long blocks
split at sentence boundaries. Consecutive chunks of one section overlap by whole trailing
blocks (or sentences) up to the overlap budget.

A chunk's text is an exact slice of the document text, so its span is real provenance and
a key fact found in the source is found verbatim in the chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mimir.knowledge.documents import TOKEN, Block, Document, count_tokens
from mimir.types import Chunk, stable_id

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+|(?<=[。！？；])")
_STANDALONE = {"row", "record"}


@dataclass
class _Piece:
    start: int
    end: int
    tokens: int
    block: Block


def chunk_document(doc: Document, chunk_tokens: int = 200, overlap_tokens: int = 40) -> list[Chunk]:
    """Chunks of ``doc`` in document order; same document and budget, same ids."""
    chunks: list[Chunk] = []
    group: list[_Piece] = []

    def emit(pieces: list[_Piece]) -> None:
        first = pieces[0].block
        start, end = pieces[0].start, pieces[-1].end
        text = doc.text[start:end]
        rows = [p.block.row for p in pieces if p.block.row is not None]
        meta = {"format": doc.format}
        if len(set(rows)) > 1:
            meta["rows"] = [min(rows), max(rows)]
        chunks.append(
            Chunk(
                id=stable_id(doc.name, first.heading, start, end, text, prefix="ch_"),
                text=text,
                source=doc.name,
                kind="passage",
                heading=first.heading,
                page=first.page,
                row=first.row,
                start=start,
                end=end,
                meta=meta,
            )
        )

    def close_group() -> None:
        nonlocal group
        if group:
            _pack(group, chunk_tokens, overlap_tokens, emit)
        group = []

    for block in doc.blocks:
        pieces = _split_block(doc, block, chunk_tokens)
        if block.kind in _STANDALONE:
            close_group()
            _pack(pieces, chunk_tokens, 0, emit)
            continue
        if group and (group[-1].block.heading != block.heading or group[-1].block.page != block.page):
            close_group()
        group.extend(pieces)
    close_group()
    return chunks


def _pack(pieces: list[_Piece], budget: int, overlap: int, emit) -> None:  # type: ignore[no-untyped-def]
    """Greedy packing of consecutive pieces into chunks of at most ``budget`` tokens."""
    i = 0
    while i < len(pieces):
        j, total = i, 0
        while j < len(pieces) and (j == i or total + pieces[j].tokens <= budget):
            total += pieces[j].tokens
            j += 1
        emit(pieces[i:j])
        if j >= len(pieces):
            break
        # step back over trailing pieces that fit the overlap budget, but always make progress
        back, carried = j, 0
        while back - 1 > i and carried + pieces[back - 1].tokens <= overlap:
            back -= 1
            carried += pieces[back].tokens
        i = back


def _split_block(doc: Document, block: Block, budget: int) -> list[_Piece]:
    """A block as one piece, or as sentence pieces (then word windows) when over budget."""
    text = doc.text[block.start : block.end]
    tokens = count_tokens(text)
    if tokens <= budget:
        return [_Piece(block.start, block.end, tokens, block)]
    pieces: list[_Piece] = []
    cursor = 0
    for match in list(_SENTENCE_END.finditer(text)) + [None]:
        stop = match.start() if match else len(text)
        sentence = text[cursor:stop]
        if sentence.strip():
            pieces.extend(_word_windows(block, block.start + cursor, sentence, budget))
        if match:
            cursor = match.end()
    return pieces


def _word_windows(block: Block, offset: int, sentence: str, budget: int) -> list[_Piece]:
    tokens = count_tokens(sentence)
    if tokens <= budget:
        return [_Piece(offset, offset + len(sentence), tokens, block)]
    pieces = []
    words = list(re.finditer(r"\S+", sentence))
    window: list[re.Match[str]] = []
    window_tokens = 0
    for word in words:
        t = count_tokens(word.group())
        if t > budget:  # no whitespace to split at (CJK text, base64, a long URL): cut at token edges
            if window:
                pieces.append(_Piece(offset + window[0].start(), offset + window[-1].end(), window_tokens, block))
                window, window_tokens = [], 0
            pieces.extend(_token_windows(block, offset + word.start(), word.group(), budget))
            continue
        if window and window_tokens + t > budget:
            pieces.append(_Piece(offset + window[0].start(), offset + window[-1].end(), window_tokens, block))
            window, window_tokens = [], 0
        window.append(word)
        window_tokens += t
    if window:
        pieces.append(_Piece(offset + window[0].start(), offset + window[-1].end(), window_tokens, block))
    return pieces


def _token_windows(block: Block, offset: int, text: str, budget: int) -> list[_Piece]:
    """``text`` (no whitespace in it) cut into spans of at most ``budget`` tokens."""
    edges = [m.end() for m in TOKEN.finditer(text)]
    pieces = []
    start = 0
    for i in range(budget - 1, len(edges), budget):
        pieces.append(_Piece(offset + start, offset + edges[i], budget, block))
        start = edges[i]
    if start < len(text):
        pieces.append(_Piece(offset + start, offset + len(text), max(1, count_tokens(text[start:])), block))
    return pieces
