"""Find checkable facts in text: numbers (with units), times, dates, codes and proper names.

The same extractor serves both sides of the grounding check: on an expert turn it yields the
*claims*, on sources it builds the *evidence*. Values are normalised so that "07:30" and
"7:30 am", "8 hours" and "eight hours", "14 March 2009" and "March 14th, 2009", "72 hours"
and "3 days" compare equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

MONTHS = {
    m: i
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
         ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
         ("november", "nov"), ("december", "dec")],
        1,
    )
    for m in names
}
WEEKDAYS = {d: i for i, d in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}
_WEEKDAY_ABBR = {d[:3]: i for d, i in WEEKDAYS.items()}

_UNITS_WORDS = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "dozen": 12,
}
_TENS_WORDS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
# Claimed only when unambiguous; "one", "first", "second" and "half" are too often not facts,
# but they still count as evidence.
_EVIDENCE_ONLY_WORDS = {"one": 1, "once": 1, "first": 1, "second": 2, "half": 0.5, "quarter": 0.25,
                        "twice": 2, "thrice": 3}  # "twice a day" is often a count the expert derived
_MULTIPLIERS: dict[str, int] = {}
_ORDINALS = {"third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
             "eleventh": 11, "twelfth": 12}
_FRACTIONS = {"three-quarters": 0.75, "three quarters": 0.75, "two-thirds": 2 / 3, "one-third": 1 / 3}

# unit word -> (dimension, factor to the dimension's base unit)
_UNITS: dict[str, tuple[str, float]] = {}
for _names, _dim, _factor in [
    (("mg", "milligram", "milligrams"), "mass", 1.0),
    (("g", "gram", "grams"), "mass", 1000.0),
    (("kg", "kilogram", "kilograms", "kilo", "kilos"), "mass", 1e6),
    (("mcg", "µg", "microgram", "micrograms"), "mass", 0.001),
    (("ml", "millilitre", "millilitres", "milliliter", "milliliters"), "volume", 1.0),
    (("l", "litre", "litres", "liter", "liters"), "volume", 1000.0),
    (("second", "seconds", "sec", "secs"), "duration", 1 / 60),
    (("minute", "minutes", "min", "mins"), "duration", 1.0),
    (("hour", "hours", "hr", "hrs", "h"), "duration", 60.0),
    (("day", "days", "night", "nights"), "duration", 1440.0),
    (("week", "weeks", "wk", "wks"), "duration", 10080.0),
    (("month", "months"), "months", 1.0),
    (("year", "years", "yr", "yrs"), "months", 12.0),
    (("km", "kilometre", "kilometres", "kilometer", "kilometers"), "length", 1000.0),
    (("m", "metre", "metres", "meter", "meters"), "length", 1.0),
    (("cm", "centimetre", "centimetres"), "length", 0.01),
    (("mile", "miles"), "length", 1609.344),
    (("°c", "ºc", "degrees", "degree", "celsius", "c"), "temperature", 1.0),
    (("%", "percent", "per cent"), "percent", 1.0),
    (("$", "dollar", "dollars", "usd"), "money", 1.0),
    (("mmol/l",), "mmol/l", 1.0),
    (("g/l",), "g/l", 1.0),
]:
    for _n in _names:
        _UNITS[_n] = (_dim, _factor)

_NUMBER_WORD = "|".join(sorted({*_UNITS_WORDS, *_TENS_WORDS, *_EVIDENCE_ONLY_WORDS, *_MULTIPLIERS, *_ORDINALS}, key=len, reverse=True))
_TENS = "|".join(_TENS_WORDS)
_UNITS_ALT = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True) if u != "$")
_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
_AMPM = r"(?P<ampm>a\.?\s?m\.?|p\.?\s?m\.?)(?![a-z])"

_TIME = re.compile(
    rf"\b(?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?:\s*{_AMPM})?|\b(?P<h2>\d{{1,2}})(?:\.(?P<m2>\d{{2}}))?\s*(?P<ampm2>a\.?\s?m\.?|p\.?\s?m\.?)(?![a-z])"
    r"|\b(?P<noon>noon|midday|midnight)\b",
    re.I,
)
_DAY_PART = re.compile(r"^\s*(?:o'clock\s*)?in the (?P<part>morning|afternoon|evening)|^\s*(?:o'clock\s*)?at night", re.I)
_DATE = re.compile(
    rf"\b(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<mon1>{_MONTH_ALT})\.?(?:,?\s+(?P<y1>\d{{4}}))?\b"
    rf"|\b(?P<mon2>{_MONTH_ALT})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y2>\d{{4}}))?"
    r"|\b(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})\b"
    r"|\b(?P<sa>\d{1,2})/(?P<sb>\d{1,2})/(?P<sy>\d{2,4})\b",
    re.I,
)
_MONTH_OR_DAY = re.compile(rf"\b(?P<mon>{_MONTH_ALT})\b|\b(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b", re.I)
_WEEKDAY_RANGE = re.compile(
    r"\b(?P<a>mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?\s*(?:to|through|thru|until|till|-|–|—)\s*(?P<b>mon|tue|wed|thu|fri|sat|sun)[a-z]*\b",
    re.I,
)
_PHONE = re.compile(r"(?<![\w.])\d{2,4}(?:[-‑–]\d{2,4}){1,3}(?![\w.])")
# a one-letter identifier after a place label: "Parking Lot C", "Ward B"
_LETTER_CODE = re.compile(r"\b(?P<label>lot|room|wing|ward|bay|gate|block|level|floor|zone|building|unit|bed|entrance|exit)\s+(?P<id>[A-Z])\b(?!['’])", re.I)
_CODE = re.compile(r"\b(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{2,}\b")
_NUMBER = re.compile(
    rf"(?P<cur>\$)?\b(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<frac>/\d+)?"
    rf"|\b(?P<word>(?:(?:{_TENS})[-\s](?:one|two|three|four|five|six|seven|eight|nine))|three[-\s]quarters|two-thirds|one-third|{_NUMBER_WORD})\b",
    re.I,
)
_UNIT_AFTER = re.compile(rf"^\s*(?:-\s*)?(?P<unit>{_UNITS_ALT})(?![a-z])", re.I)
_LIST_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+", re.M)


@dataclass(frozen=True)
class Fact:
    """One checkable fact: ``kind`` plus normalised ``keys`` (any key found in evidence supports it)."""

    kind: str  # number | quantity | time | date | weekday | month | code | name; unitnum: evidence-only
    # number that was not written bare (it had a unit, or was part of a time, date or phone number)
    text: str  # the surface form, for reasons
    keys: tuple[Any, ...]
    start: int = 0
    claimable: bool = True  # False: counts as evidence but is never flagged as a claim
    value: float | None = None  # quantities: the number as written, before unit conversion
    anchor: tuple[str, str] | None = None  # bare numbers: the label before or the noun after ("RAS 2", "3 doses")
    also: tuple[tuple[str, str], ...] = ()  # evidence only: the second word after ("four reclining chairs")


def number_value(word: str) -> float | None:
    """The value of a numeral written in digits or words ("1,200", "twenty-four", "twice")."""
    w = word.lower().replace("‑", "-").strip()
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", w):
        return float(w.replace(",", ""))
    for table in (_UNITS_WORDS, _TENS_WORDS, _EVIDENCE_ONLY_WORDS, _MULTIPLIERS, _ORDINALS, _FRACTIONS):
        if w in table:
            return float(table[w])
    parts = re.split(r"[-\s]", w)
    if len(parts) == 2 and parts[0] in _TENS_WORDS:
        ones = {"one": 1, **_UNITS_WORDS}.get(parts[1])
        if ones is not None and ones < 10:
            return float(_TENS_WORDS[parts[0]] + ones)
    return None


def _time_minutes(hour: int, minute: int, ampm: str | None) -> tuple[int, ...]:
    """Minutes after midnight; without am/pm a 1..12 hour could be either half of the day."""
    if hour > 24 or minute > 59:
        return ()
    if ampm:
        pm = ampm.lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
        return (hour * 60 + minute,)
    if 1 <= hour <= 12:
        return (hour * 60 + minute, ((hour % 12) + 12) * 60 + minute)
    return ((hour % 24) * 60 + minute,)


def extract_facts(text: str) -> list[Fact]:
    """Every fact in ``text`` except names, left to right; spans are not counted twice."""
    facts: list[Fact] = []
    taken = [False] * len(text)

    def free(a: int, b: int) -> bool:
        return not any(taken[a:b])

    def take(a: int, b: int) -> None:
        for i in range(a, b):
            taken[i] = True

    for m in _LIST_MARKER.finditer(text):  # "1. Take ..." is a list, not a claim
        take(m.start(), m.end())
    for m in _DATE.finditer(text):
        if not free(m.start(), m.end()):
            continue
        keys = _date_keys(m)
        if keys:
            take(m.start(), m.end())
            facts.append(Fact("date", m.group(0), tuple(keys), m.start()))
            year = m.group("y1") or m.group("y2") or m.group("iy")
            if year:
                facts.append(Fact("unitnum", year, (float(year),), m.start(), claimable=False))
    for m in _TIME.finditer(text):
        if not free(m.start(), m.end()):
            continue
        if m.group("noon"):
            keys = (0,) if m.group("noon").lower() == "midnight" else (720,)
        else:
            h = int(m.group("h") or m.group("h2"))
            mi = int(m.group("m") or m.group("m2") or 0)
            ampm = m.group("ampm") or m.group("ampm2")
            if not ampm:
                part = _DAY_PART.match(text[m.end():])
                if part:
                    ampm = "am" if (part.group("part") or "").lower() == "morning" else "pm"
            if not ampm and (m.group("h") or "").startswith("0"):
                ampm = "am"  # "07:30" is a 24-hour clock time
            keys = _time_minutes(h, mi, ampm)
        if keys:
            take(m.start(), m.end())
            facts.append(Fact("time", m.group(0), tuple(keys), m.start()))
            for k in keys:  # "opens at 7" later in the text is supported by "07:30"
                facts.append(Fact("unitnum", m.group(0), (float(k // 60),), m.start(), claimable=False))
    for m in _PHONE.finditer(text):
        if free(m.start(), m.end()):
            take(m.start(), m.end())
            facts.append(Fact("code", m.group(0), (re.sub(r"\D", "", m.group(0)),), m.start()))
            for part in re.findall(r"\d+", m.group(0)):
                facts.append(Fact("unitnum", part, (float(part),), m.start(), claimable=False))
    for m in _LETTER_CODE.finditer(text):
        if m.group("id").isupper() and free(m.start(), m.end()):
            take(m.start("id"), m.end())
            facts.append(Fact("code", m.group(0), (f"{m.group('label').lower()} {m.group('id').lower()}",), m.start()))
    for m in _CODE.finditer(text):
        if free(m.start(), m.end()) and not re.fullmatch(r"\d+(?:st|nd|rd|th|am|pm|h|mg|g|kg|ml|l|km|m|cm|min|mins|hrs?|s)", m.group(0), re.I):
            take(m.start(), m.end())
            facts.append(Fact("code", m.group(0), (m.group(0).lower(),), m.start()))
    for m in _WEEKDAY_RANGE.finditer(text):
        a, b = _WEEKDAY_ABBR[m.group("a").lower()], _WEEKDAY_ABBR[m.group("b").lower()]
        days = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
        facts.append(Fact("weekday", m.group(0), tuple(days), m.start(), claimable=False))
    for m in re.finditer(r"\bweekdays?\b|\bweek ?ends?\b", text, re.I):
        days = (0, 1, 2, 3, 4) if m.group(0).lower().startswith("weekday") else (5, 6)
        facts.append(Fact("weekday", m.group(0), days, m.start(), claimable=False))
    for m in _MONTH_OR_DAY.finditer(text):
        if not free(m.start(), m.end()):
            continue
        if m.group("mon"):
            word = m.group("mon")
            # "may" and "mar" are also ordinary words: only the capitalised month counts
            if word.lower() in ("may", "mar", "jan", "feb", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec") and not word[0].isupper():
                continue
            if word.lower() == "may" and not re.search(r"\b(?:in|of|since|until|by|from|every|each|through|early|late|mid|last|next|this)\s+$", text[: m.start()], re.I):
                continue  # "May I ask ..." is the verb
            facts.append(Fact("month", word, (MONTHS[word.lower()],), m.start()))
        else:
            facts.append(Fact("weekday", m.group(0), (WEEKDAYS[m.group("wd").lower()],), m.start()))
        take(m.start(), m.end())
    for m in _NUMBER.finditer(text):
        if not free(m.start(), m.end()):
            continue
        facts.extend(_number_fact(text, m))
    return facts


def _number_fact(text: str, m: re.Match[str]) -> Iterator[Fact]:
    raw = m.group("num") or m.group("word")
    value = number_value(raw.replace(" ", "-") if m.group("word") and " " in raw else raw)
    if value is None:
        return
    word = (m.group("word") or "").lower()
    claimable = word not in _EVIDENCE_ONLY_WORDS
    if m.group("frac"):  # "24/7", "1/2": keep both parts as evidence, claim nothing
        yield Fact("number", m.group(0), (value,), m.start(), claimable=False)
        return
    if m.group("num") and value == 1:
        claimable = False  # "1" is as vague as "one" in conversation ("1 more thing")
    unit = None
    if m.group("cur"):
        unit = "$"
    else:
        after = _UNIT_AFTER.match(text[m.end():])
        if after:
            unit = after.group("unit").lower()
    if unit is None:
        yield Fact("number", m.group(0), (round(value, 4),), m.start(), claimable=claimable, anchor=_anchor(text, m), also=_second_word(text, m))
        return
    # the bare value as evidence for unitless claims ("the dose is 250"), never claimed twice
    yield Fact("unitnum", m.group(0), (round(value, 4),), m.start(), claimable=False)
    if unit is not None:
        dim, factor = _UNITS[unit]
        yield Fact("quantity", f"{m.group(0)} {unit}" if unit != "$" else m.group(0), ((dim, round(value * factor, 4)),), m.start(), claimable=claimable, value=round(value, 4))


def _date_keys(m: re.Match[str]) -> list[tuple[int, int]]:
    """(month, day) pairs the match may mean; a d/m/y date is ambiguous and yields both readings."""
    if m.group("mon1"):
        pairs = [(MONTHS[m.group("mon1").lower()], int(m.group("d1")))]
    elif m.group("mon2"):
        pairs = [(MONTHS[m.group("mon2").lower()], int(m.group("d2")))]
    elif m.group("iy"):
        pairs = [(int(m.group("im")), int(m.group("id")))]
    else:
        a, b = int(m.group("sa")), int(m.group("sb"))
        pairs = [(b, a), (a, b)]
    return [(mo, d) for mo, d in pairs if 1 <= mo <= 12 and 1 <= d <= 31]


_LABEL_WORDS = {"room", "extension", "ext", "pager", "edition", "code", "level", "stage", "step", "grade", "phase",
                "ward", "bed", "floor", "lot", "gate", "line", "option", "number", "no", "version", "table", "section"}
_STOP_AFTER = {"a", "an", "the", "and", "or", "to", "of", "in", "on", "at", "for", "by", "per", "each", "every", "is",
               "are", "was", "were", "be", "it", "that", "this", "with", "from", "than", "as", "if", "so", "but", "more",
               "less", "times", "time", "other", "others", "which", "who", "you", "we", "they", "he", "she", "i"}


def _second_word(text: str, m: re.Match[str]) -> tuple[tuple[str, str], ...]:
    after = re.match(r"\s+[A-Za-z][A-Za-z\-]*\s+([A-Za-z][A-Za-z\-]*)", text[m.end():])
    if not after or after.group(1).lower() in _STOP_AFTER:
        return ()
    return (("after", _singular(after.group(1).lower())),)


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _anchor(text: str, m: re.Match[str]) -> tuple[str, str] | None:
    """What a bare number counts: a label before it ("RAS 2", "extension 2100") or the word after ("3 doses")."""
    before = re.search(r"([A-Za-z][A-Za-z\-]*)\s*$", text[: m.start()])
    if before and m.start() - before.end() <= 1:
        word = before.group(1)
        if word.lower() in _LABEL_WORDS or (word.isupper() and len(word) >= 2):
            return ("before", word.lower())
    after = re.match(r"\s+([A-Za-z][A-Za-z\-]*)", text[m.end():])
    if after and after.group(1).lower() not in _STOP_AFTER:
        return ("after", _singular(after.group(1).lower()))
    return None
