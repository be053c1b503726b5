"""Near-duplicate dialogues: MinHash signatures over word 3-grams, candidates from LSH, then the
estimated Jaccard similarity decides. The first dialogue in file order is the one kept, so a
resumed run makes the same calls as a fresh one.
"""

from __future__ import annotations

import re
from typing import Iterable

from mimir.types import Dialogue

NUM_PERM = 128


def shingles(dialogue: Dialogue, n: int = 3) -> set[str]:
    """Word n-grams of the spoken text (tool observations are shared sources, not the dialogue)."""
    words = re.findall(r"\w+", " ".join(t.content for t in dialogue.turns if t.role != "tool").lower())
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


class NearDuplicateIndex:
    """Remembers dialogues and answers: is this one nearly the same as one seen before?"""

    def __init__(self, threshold: float) -> None:
        from datasketch import MinHashLSH

        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._hashes: dict = {}

    def _minhash(self, grams: Iterable[str]):
        from datasketch import MinHash

        m = MinHash(num_perm=NUM_PERM, seed=1)
        m.update_batch([g.encode("utf-8") for g in grams])
        return m

    def check_and_add(self, dialogue: Dialogue) -> tuple[str, float] | None:
        """(id, similarity) of the earlier dialogue this one duplicates; else remember it and return None."""
        grams = shingles(dialogue)
        if not grams:
            return None
        m = self._minhash(grams)
        best: tuple[str, float] | None = None
        for other in self._lsh.query(m):
            sim = m.jaccard(self._hashes[other])
            if sim >= self.threshold and (best is None or sim > best[1]):
                best = (other, sim)
        if best is not None:
            return best
        if dialogue.id not in self._hashes:
            self._lsh.insert(dialogue.id, m)
            self._hashes[dialogue.id] = m
        return None
