"""One normal form for comparing untrusted text: what the eye reads, not how it was encoded.

``fold`` applies NFKC (fullwidth ``ｉｇｎｏｒｅ`` -> ``ignore``, ligatures, compatibility forms),
removes format characters (zero-width spaces and joiners, bidi overrides, soft hyphens), maps
Cyrillic and Greek letters that look Latin onto Latin inside Latin words, drops accents, and
casefolds. ``words`` splits folded text into word tokens; characters of scripts written without
spaces (Han, kana, Thai ...) are tokens of their own.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that render like Latin ones (the usual homoglyph substitutions).
_CONFUSABLE = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ո": "n", "ս": "u", "ν": "v", "ο": "o", "α": "a", "ι": "i",
    "κ": "k", "τ": "t", "ρ": "p", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K",
    "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "А": "A", "В": "B", "Е": "E",
    "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "І": "I",
})
_LATIN = re.compile(r"[a-zA-Z]")
_MIXED_WORD = re.compile(r"\w+")
_NO_SPACE = "\u2e80-\u2fdf\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
_WORD = re.compile(rf"[{_NO_SPACE}]|(?:(?![{_NO_SPACE}])\w)+")


def _unconfuse(match: re.Match[str]) -> str:
    word = match.group()
    return word.translate(_CONFUSABLE) if _LATIN.search(word) else word


def fold(text: str) -> str:
    """The comparable form of ``text`` (see the module docstring)."""
    text = unicodedata.normalize("NFKC", str(text))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = _MIXED_WORD.sub(_unconfuse, text)
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"\s+", " ", text.casefold())


def words(text: str) -> list[str]:
    """Word tokens of the folded text."""
    return _WORD.findall(fold(text))
