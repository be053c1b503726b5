"""What a web-search query may carry: the asker's words, never a span of private knowledge.

An expert agent searches the web with a query it writes. If retrieved text talked it into
pasting part of the private knowledge base into that query, the search would send the
knowledge to a third party. :class:`LeakGuard` checks each query before it is sent and refuses
one that repeats, beyond what the asker wrote:

* three or more consecutive words (folded: case, accents, width, zero-width characters and
  look-alike letters do not matter) found together in a knowledge chunk, or
* a code-like token of the knowledge (one with a digit, e.g. ``K-4471``, ``2230``, ``6.2``).

The asker's question is allowed text: a query derived from it may repeat its words even where
the knowledge has them too. The caller names it with :func:`asking` around the tool call.
A refusal raises :class:`ToolCallRefused`; the generation stage then rejects the dialogue.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from typing import Any, Iterator

from mimir.errors import ToolCallRefused  # noqa: F401  (re-exported: raised by the guard, caught by the engine)
from mimir.tools.textnorm import words

_N = 3  # words in a span that counts as copied
_FULL_SCAN_CHUNKS = 20_000  # above this, only the chunks the query retrieves are compared
_STOP = frozenset(
    "a an the of to in on at for by with and or is are was were be been it its this that these those as from "
    "what which who whom when where why how do does did can could should would will may might must not no "
    "i you he she we they my your our their me him her us them if then than so but about into over under".split()
)
_asked: contextvars.ContextVar[str] = contextvars.ContextVar("mimir_asked", default="")


@contextlib.contextmanager
def asking(question: str) -> Iterator[None]:
    """Within this block, ``question`` is what the asker wrote (its words may appear in queries)."""
    token = _asked.set(question or "")
    try:
        yield
    finally:
        _asked.reset(token)


def _coded(token: str) -> bool:
    return any(ch.isdigit() for ch in token) and len(token) >= 2


def _spans(tokens: list[str]) -> set[tuple[str, ...]]:
    spans = set()
    for i in range(len(tokens) - _N + 1):
        span = tuple(tokens[i : i + _N])
        if sum(1 for t in span if t not in _STOP) >= 2:
            spans.add(span)
    return spans


class LeakGuard:
    """Checks outgoing queries against a knowledge base (anything with ``chunks()`` and ``search()``)."""

    def __init__(self, knowledge: Any) -> None:
        self.knowledge = knowledge
        self.refusals = 0
        self._lock = threading.Lock()
        self._spans: set[tuple[str, ...]] | None = None
        self._codes: set[str] = set()
        self._full = False

    def _load(self) -> None:
        with self._lock:
            if self._spans is not None:
                return
            spans: set[tuple[str, ...]] = set()
            chunks = self.knowledge.chunks()
            self._full = len(chunks) <= _FULL_SCAN_CHUNKS
            if self._full:
                for chunk in chunks:
                    tokens = words(f"{chunk.heading}\n{chunk.text}" if chunk.heading else chunk.text)
                    spans |= _spans(tokens)
                    self._codes.update(t for t in tokens if _coded(t))
            self._spans = spans

    def _candidates(self, query: str) -> tuple[set[tuple[str, ...]], set[str]]:
        self._load()
        if self._full:
            return self._spans or set(), self._codes
        spans: set[tuple[str, ...]] = set()
        codes: set[str] = set()
        for chunk, _ in self.knowledge.search(query, k=20):
            tokens = words(chunk.text)
            spans |= _spans(tokens)
            codes.update(t for t in tokens if _coded(t))
        return spans, codes

    def leaks(self, query: str, allowed: str | None = None) -> list[str]:
        """What in ``query`` comes from the knowledge and not from ``allowed`` (the asker's words)."""
        allowed = _asked.get() if allowed is None else allowed
        tokens = words(query)
        if not tokens:
            return []
        spans, codes = self._candidates(query)
        allowed_tokens = words(allowed)
        allowed_spans = _spans(allowed_tokens)
        allowed_set = set(allowed_tokens)
        found = [" ".join(s) for s in sorted(_spans(tokens) & spans - allowed_spans)]
        found += sorted({t for t in tokens if _coded(t) and t in codes and t not in allowed_set})
        return found

    def check(self, query: str, tool: str = "web search") -> None:
        """Raise :class:`ToolCallRefused` if ``query`` would carry private knowledge."""
        found = self.leaks(query)
        if found:
            with self._lock:
                self.refusals += 1
            raise ToolCallRefused(
                f"{tool}: the query repeats {len(found)} span(s) of the private knowledge base that the asker did "
                "not write; it was not sent (tool use that copies private data out is refused)"
            )
