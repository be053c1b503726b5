"""Echo turns: a message that says again what was already said adds nothing to a dialogue.

A turn is an echo of an earlier one when, over their content words, most of the new turn is in
the old one (containment >= 0.8) or the two mostly coincide (Jaccard >= 0.6), or when it has
fewer than three content words of its own ("Please go on.", "Yes, exactly.").
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9][a-z0-9'.:-]*")
_STOP = set("a an the is are was were be been am of to in on at for by with and or so but what which who whom when where "
            "how does do did can could would should will shall may might must you your i me my we our us it its this that "
            "these those there here from about please tell also any if just yes no not very really okay ok thanks thank "
            "sure great good well i'm it's that's".split())


def content_words(text: str) -> set[str]:
    return {w.strip(".:'") for w in _WORD.findall(text.lower())} - _STOP - {""}


def similarity(new: str, old: str) -> float:
    """max(containment of ``new`` in ``old``, Jaccard) over content words (0 when ``new`` has none)."""
    a, b = content_words(new), content_words(old)
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return max(shared / len(a), shared / len(a | b) / 0.75)


def is_echo(text: str, earlier: list[str], *, min_words: int = 3) -> bool:
    """Whether ``text`` repeats one of ``earlier`` (or is too thin to add anything)."""
    words = content_words(text)
    if len(words) < min_words:
        return True
    return any(similarity(text, old) >= 0.8 for old in earlier if old)
