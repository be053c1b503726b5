"""Text normalisation for key-fact matching: case, punctuation, number formats.

"Seven days", "7 days" and "7-day" all become ``7 day``; "1,500" becomes ``1500``;
"8:30 a.m." becomes ``8 30 am``; "20%" and "20 percent" become ``20 percent``.
"""

from __future__ import annotations

import re
import unicodedata

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_ORDINALS = {"first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th", "sixth": "6th",
             "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th", "twelfth": "12th"}


def _tokens(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("%", " percent ").replace("\u2019", "'")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,500 -> 1500
    text = re.sub(r"\b([ap])\.m\.?", r"\1m", text)  # a.m. -> am
    text = re.sub(r"(?<=\d)\.(?=\d)", "\u2024", text)  # keep decimal points through the next step
    text = re.sub(r"[^\w\u2024]+", " ", text).replace("\u2024", ".")
    text = re.sub(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)", " ", text)  # 30mg -> 30 mg
    return text.split()


def _numbers(tokens: list[str]) -> list[str]:
    """Replace runs of number words ("twenty four", "one hundred") with digits."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t in _UNITS or t in _TENS:
            total, current, j = 0, 0, i
            while j < len(tokens):
                w = tokens[j]
                if w in _UNITS:
                    current += _UNITS[w]
                elif w in _TENS:
                    current += _TENS[w]
                elif w in _SCALES and (current or total):
                    if _SCALES[w] == 100:
                        current *= 100
                    else:
                        total += current * _SCALES[w]
                        current = 0
                elif w == "and" and j + 1 < len(tokens) and (tokens[j + 1] in _UNITS or tokens[j + 1] in _TENS) and current >= 100:
                    pass
                else:
                    break
                j += 1
            out.append(str(total + current))
            i = j
            continue
        out.append(_ORDINALS.get(t, t))
        i += 1
    return out


def _stem(token: str) -> str:
    """Very light plural folding so "7 days" matches "7-day"; "08" and "8" are the same number."""
    if token.isdigit():
        return str(int(token))
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss") and not token.isdigit():
        return token[:-1]
    return token


def normalize(text: str) -> list[str]:
    """Comparable tokens of ``text``."""
    return [_stem(t) for t in _numbers(_tokens(text))]


def contains_fact(answer: str, fact: str) -> bool:
    """Whether the normalised fact occurs as a contiguous token run in the normalised answer."""
    needle = normalize(fact)
    if not needle:
        return False
    hay = normalize(answer)
    n = len(needle)
    return any(hay[i : i + n] == needle for i in range(len(hay) - n + 1))
