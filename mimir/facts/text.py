"""Fact sentences and fact strings: what a dialogue must teach, and how we check it did.

A *fact string* is a concrete, checkable token span — a number, time, date, phone number, room
code or proper name. A *fact sentence* is a sentence of a chunk that holds at least one. The
planner spreads scenarios over fact sentences; the metrics count expert turns that restate a
fact string of their source chunks.
"""

from __future__ import annotations

import re

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_ABBREV = re.compile(r"\b(Dr|Mr|Mrs|Ms|Prof|St|No|[Ee]\.g|[Ii]\.e|etc|approx|[Ee]xt|DR|MR|MRS|MS)\.$")  # "250 ms." ends a sentence
_STOP = {
    "The", "A", "An", "On", "In", "At", "From", "For", "To", "Of", "And", "Or", "If", "When", "Each", "Every",
    "Any", "All", "This", "That", "These", "Those", "It", "Its", "Our", "We", "You", "Your", "They", "There",
    "Please", "Only", "No", "Not", "After", "Before", "During", "Outside", "Inside", "With", "Without", "By",
    "Staff", "Patients", "Extensions", "Room", "Rooms",
}
_UNIT_QUALIFIERS = "business|working|calendar|consecutive|school|clear"
_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty"
_PATTERNS = [
    re.compile(r"\b(?:from )?\d{1,2}:\d{2}\s?(?:to|–|-)\s?\d{1,2}:\d{2}\b"),  # opening hours: one fact, not two ends
    re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)? (?:{_MONTHS})(?: \d{{4}})?\b"),  # 14 March 2009
    re.compile(rf"\b(?:{_MONTHS}) \d{{4}}\b"),  # September 2026
    re.compile(r"\b\d{1,2}(?:st|nd|rd|th) floor\b"),  # the 6th floor
    re.compile(rf"\b(?:{_MONTHS}) \d{{1,2}}(?:, \d{{4}})?\b"),  # March 14, 2009
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),  # ISO dates
    re.compile(r"\b\d{1,2}:\d{2}\b"),  # times
    re.compile(r"(?<![\w.])(?:\+\d{1,3}\s?)?0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}\b"),  # phone numbers: 01632 960 480
    re.compile(r"\b\d{3}-\d{4}\b"),  # phone numbers
    re.compile(r"\b[A-Z]\d{1,3}\b"),  # room / form codes (B7, C3)
    re.compile(rf"\b\d[\d,]*(?:\.\d+)?\s?(?:(?:{_UNIT_QUALIFIERS})\s)?(?:%|percent|seconds?|minutes?|hours?|days?|nights?|weeks?|months?|years?|mg|ml|kg|km|ms|GB|MB|TB|GiB|MiB|°C)(?![A-Za-z])"),
    re.compile(rf"\b(?:{_NUMBER_WORDS})-(?:quarters?|thirds?|fifths?|halves)\b", re.I),  # three-quarters
    re.compile(rf"\b(?:{_NUMBER_WORDS}) (?:(?:{_UNIT_QUALIFIERS})\s)?(?:minutes?|hours?|days?|weeks?|months?|years?)\b", re.I),
    re.compile(r"(?<![\w:.,-])\d(?:[\d,]*\d)?(?:\.\d+)?(?![\d:-])"),  # other numbers, not inside a code like SEV1 or p99
]
_NAME = re.compile(r"(?:(?:Dr|Mr|Mrs|Ms|Prof)\.\s)?[A-Z][a-zA-Z'’-]+(?:\s(?:of\s|de\s|van\s)?[A-Z][a-zA-Z'’-]+)*")


def clean_text(text: str, table_header: list[str] | None = None) -> str:
    """Markdown-ish text -> one logical line per paragraph or list item (hard wraps joined).

    A Markdown table row becomes one record line "Header: cell; Header: cell; ..." so every value
    keeps the column that says what it is; ``table_header`` is the header of a table that the text
    starts inside of (a chunk cut mid-table), used when the column counts match."""
    items: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        current: list[str] = []
        lines = [line.strip() for line in para.splitlines() if line.strip()]
        header = table_header
        for i, line in enumerate(lines):
            line = re.sub(r"\*\*(.+?)\*\*|`([^`]+)`", lambda m: m.group(1) or m.group(2), line)  # bold / code marks
            # italics ("the *Sea Pink*"): a name in emphasis is still the name; "* item" bullets keep their space
            line = re.sub(r"(?<![\w*])([*_])(?=\S)([^*_\n]+?)(?<=\S)\1(?![\w*])", r"\2", line)
            if line.startswith("|"):
                cells = _cells(line)
                if current:
                    items.append(" ".join(current))
                    current = []
                if _is_rule(cells):
                    continue
                if i + 1 < len(lines) and _is_rule(_cells(lines[i + 1])):
                    header = cells  # the header row names the columns; it states no fact itself
                    continue
                items.append(table_record(cells, header))
                continue
            if re.match(r"^(#+\s|[-*•]\s|\d+[.)]\s)", line) and current:
                items.append(" ".join(current))
                current = []
            current.append(line)
        if current:
            items.append(" ".join(current))
    return "\n".join(items)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _is_rule(cells: list[str]) -> bool:
    return bool(cells) and all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c) and any(cells)


def table_record(cells: list[str], header: list[str] | None) -> str:
    """One table row as a record line ("Severity: SEV1; Meaning: ...") or, without a matching
    header, its cells joined ("SEV1: ...")."""
    if header and len(header) == len(cells) and all(header):
        return "; ".join(f"{h}: {c}" for h, c in zip(header, cells) if c) + "."
    return ": ".join(c for c in cells if c) + "."


def table_header(text: str) -> list[str] | None:
    """The header cells of the last Markdown table in ``text`` (for the next chunk of the document)."""
    lines = [line.strip() for line in text.splitlines()]
    found = None
    for i in range(len(lines) - 1):
        if lines[i].startswith("|") and _is_rule(_cells(lines[i + 1])):
            found = _cells(lines[i])
    return found


_RECORD = re.compile(r"^[^;:]{1,40}: [^;]+(; [^;:]{1,40}: [^;]+){2,}\.?$")


def sentences(text: str, table_header: list[str] | None = None) -> list[str]:
    """Split text into sentences; headings and list items count as their own sentence."""
    out: list[str] = []
    for item in clean_text(text, table_header).splitlines():
        if item.startswith("#"):
            continue  # headings name a topic; they state no fact
        item = re.sub(r"^([-*•]\s+)", "", item).strip()
        if not item:
            continue
        if _RECORD.match(item):
            out.append(item)  # a table row is one fact line; its "; " separate fields, not sentences
            continue
        start, pieces = 0, []
        for match in re.finditer(r"[.!?;](?=\s+[A-Z0-9\"“(])", item):
            if _ABBREV.search(item[start : match.end()]):
                continue
            pieces.append(item[start : match.end()].strip())
            start = match.end()
        if item[start:].strip():
            pieces.append(item[start:].strip())
        out.extend(resolve_pronouns(in_context(pieces)))
    return [s for s in out if len(s) > 3]


_FINITE = "are|is|was|were|must|may|can|will|should|has|have|do|does|need|needs"
_SUBJECT = re.compile(rf"^(?P<subject>(?:[A-Za-z][\w&'-]*\s){{0,3}}?[A-Za-z][\w'-]*)\s+(?:{_FINITE})\b")
_PRONOUN = re.compile(rf"^(They|It)\s+(?=(?:{_FINITE}|always|never|only)\b)")


def resolve_pronouns(pieces: list[str]) -> list[str]:
    """A sentence opening with "They" / "It" made to stand alone from the sentence before it:
    "Contingency fees are offered ... They are capped at 30%" -> "Contingency fees are capped at 30%"
    (only when the previous subject is a short noun phrase that agrees in number)."""
    out = pieces[:1]
    for previous, piece in zip(pieces, pieces[1:]):
        pronoun, subject = _PRONOUN.match(piece), _SUBJECT.match(previous)
        if pronoun and subject:
            noun = subject.group("subject")
            plural = noun.split()[-1].lower().endswith("s") and not noun.lower().endswith(("ss", "us", "is"))
            if plural == (pronoun.group(1) == "They") and noun.split()[0].lower() not in ("it", "they", "we", "you", "there"):
                piece = noun[0].upper() + noun[1:] + piece[pronoun.end(1):]
        out.append(piece)
    return out


# Verbs that end a sentence's subject: auxiliaries and the common verbs of policies and manuals
# (a closed list: "-s" alone cannot tell "runs" from "searches" without a tagger).
_SUBJECT_END = (
    f"{_FINITE}|might|cannot|shall|had|gets|get|goes|go|runs|run|opens|open|closes|close|takes|take|pays|pay|covers|"
    "cover|requires|require|applies|apply|sits|sit|meets|meet|comes|come|leads|lead|owns|own|holds|hold|keeps|keep|"
    "sends|send|provides|provide|lasts|last|costs|cost|starts|start|ends|receives|receive|answers|answer|handles|"
    "handle|collects|collect|reviews|review|carries|carry|decides|decide|reports|report|leaves|leave|returns|return|"
    "uses|use|includes|include|contains|contain|sets|set|allows|allow|offers|offer|stays|stay|lives|live|reaches|"
    "reach|follows|follow|posts|checks|signs|approves|approve|manages|manage|belongs|belong|lists|list|works|work"
)
_SUBJECT_PHRASE = re.compile(
    rf"^(?P<subject>[A-Z][\w&'’.-]*(?: [\w&'’.-]+){{0,7}}?)\s+(?:(?:always|never|only|also|usually|normally|still|then)\s+)?"
    rf"(?:(?:{_FINITE})\b|(?:{_SUBJECT_END})\b(?!\s+(?:{_FINITE})\b))")  # "Annual leave is": a noun before "is"
_NOT_A_SUBJECT = {"her", "his", "its", "their", "our", "your", "my", "below", "above", "following", "how", "what", "why",
                  "it", "they", "this", "that", "these", "those", "we", "you", "he", "she", "there", "nor", "if", "where",
                  "when", "once", "unless", "while", "although", "because", "after", "before", "until", "as", "so", "but",
                  "and", "or", "for", "in", "on", "at", "by", "with", "from", "to", "during", "outside", "inside", "please"}


def subject_phrase(sentence: str) -> str | None:
    """The noun phrase a sentence opens with, as it reads inside a question: "Any unused retainer is
    returned within ..." -> "an unused retainer"; "The Records team (extension 630) runs ..." -> "the
    Records team". None when the sentence does not open with a plain subject (a condition, a pronoun,
    a relative clause, a value)."""
    text = re.sub(r"\s*\([^)]{0,60}\)", "", sentence)  # "(extension 630)": an aside, not the subject
    text = re.sub(r",\s[^,]{1,40},\s", " ", text, count=1)  # "Every first contact, however brief, must ..."
    match = _SUBJECT_PHRASE.match(text)
    if not match:
        return None
    words = match.group("subject").split()
    if any(w.lower() in _NOT_A_SUBJECT for w in words) or words[-1].lower() in _CLAUSE_WORDS \
            or any(w.endswith((",", ":", ";")) for w in words):
        return None
    if words[0].lower() in ("every", "each", "any", "all") and len(words) > 1:
        quantifier, words = words[0].lower(), words[1:]
        if quantifier != "all" and not words[-1].endswith("s"):  # "Every accident" -> "an accident"
            words = ["an" if words[0][:1].lower() in "aeiou" else "a"] + words
    subject = " ".join(words)
    if [f for f in fact_strings(subject) if not f[:1].isupper()] or len(words) > 6:
        return None  # "2 adults are ...": a value is not what the sentence is about
    if words[0] == "The":
        return "the " + subject[4:]  # "The Intake Partner" -> "the Intake Partner"
    return subject if _is_name(subject) else subject[0].lower() + subject[1:]


_CLAUSE_WORDS = {"that", "which", "who", "whose", "whom", "of", "the", "a", "an", "than", "not", "no"}


def _is_name(text: str) -> bool:
    """A proper name or a code keeps its capital ("Fenwick & Lowry", "ParentPay"); a sentence's capitalised first word does not."""
    words = text.split()
    return (len(words) > 1 and all(w[:1].isupper() or w in ("&", "of", "and") for w in words)) \
        or bool(re.search(r"[A-Z].*[A-Z0-9]", words[0]))


_ITEM_SUBJECT = re.compile(r"^(?P<subject>[A-Za-z][\w.-]*(?: [\w.-]+){0,3})\s*(?:\([^)]{1,40}\))?:\s")
_GENERIC_LABEL = re.compile(r"^(?P<label>[A-Z][a-z]+(?: [a-z]+){0,3}):\s+(?P<value>.+)$")


def in_context(pieces: list[str]) -> list[str]:
    """Sentences of one list item, each made to stand alone: in "ledger-api (Payments): a Go
    service. Its SLO is 99.95%. Runbook owner: Tomasz Reyes." the later sentences are about
    ledger-api, so they become "ledger-api's SLO is 99.95%" and "Runbook owner of ledger-api: ..."."""
    head = _ITEM_SUBJECT.match(pieces[0]) if len(pieces) > 1 else None
    if not head:
        return pieces
    subject = head.group("subject")
    out = pieces[:1]
    for piece in pieces[1:]:
        piece = re.sub(r"^Its\s", f"{subject}'s ", piece)
        label = _GENERIC_LABEL.match(piece)
        if label and subject not in piece:
            piece = f"{label.group('label')} of {subject}: {label.group('value')}"
        out.append(piece)
    return out


def fact_strings(text: str) -> list[str]:
    """Concrete fact strings of ``text`` in order of appearance, without duplicates."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, value: str) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        found.append((start, value))

    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            value = m.group(0).strip()
            if pattern is _PATTERNS[-1] and len(value) < 2 and _list_number(text, m.start(), m.end()):
                continue  # "1." / "2)" opening an item is numbering, not a fact
            add(m.start(), m.start() + len(m.group(0)), value)
    for m in _NAME.finditer(text):
        words = m.group(0).split()
        while words and words[0] in _STOP:
            words.pop(0)
        if not words:
            continue
        value = " ".join(words)
        start = m.start() + m.group(0).find(value)
        sentence_start = start == 0 or bool(re.search(r"(^|[.!?:]\s+|\n\s*)$", text[:start]))
        named_thing = text[start + len(value) : start + len(value) + 2] == " ("  # "Halvorin (for ...)"
        if len(words) == 1 and ((sentence_start and not named_thing) or len(value) < 3):
            continue  # a lone capitalised word opening a sentence is usually not a name
        add(start, start + len(value), value)
    return [v for _, v in sorted(found)]


def _list_number(text: str, start: int, end: int) -> bool:
    line_start = start == 0 or text[start - 1] == "\n" or not text[:start].strip(" \t").split("\n")[-1].strip()
    return line_start or text[end : end + 1] in (".", ")")


def fact_sentences(text: str, table_header: list[str] | None = None) -> list[str]:
    """Sentences that carry at least one fact string (all sentences if none do)."""
    all_sentences = sentences(text, table_header)
    with_facts = [s for s in all_sentences if fact_strings(s)]
    return with_facts or all_sentences[:3]


def cloze(sentence: str, which: int = 0) -> str:
    """The sentence with one fact string blanked out ("___"): what the asker wants to learn."""
    facts = fact_strings(sentence)
    if not facts:
        return sentence
    target = facts[which % len(facts)]
    return sentence.replace(target, "___", 1)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip().lower()


def contains_fact(answer: str, facts: list[str]) -> list[str]:
    """The fact strings that ``answer`` states (see :func:`mimir.facts.match.contains_fact`:
    case, number words and formats do not matter)."""
    from mimir.facts.match import contains_fact as states

    return [f for f in facts if states(answer, f)]


WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_WH_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^\d{1,2}:\d{2}$"), "what time"),
    (re.compile(r"^(?:from )?\d{1,2}:\d{2}\s?(?:to|–|-)\s?\d{1,2}:\d{2}$"), "during what hours"),
    (re.compile(rf"^({_MONTHS}) \d{{4}}$"), "in which month"),
    (re.compile(r"^\d{1,2}(?:st|nd|rd|th) floor$"), "on which floor"),
    (re.compile(rf"^(\d{{1,2}}(st|nd|rd|th)? ({_MONTHS})|({_MONTHS}) \d)|^\d{{4}}-\d{{2}}-\d{{2}}$"), "what date"),
    (re.compile(r"^\d{3}-\d{4}$"), "what number"),
    (re.compile(r"^[\d,.]+\s?(%|percent)$"), "what percentage"),
    (re.compile(rf"^[\d,.]+\s?((?:(?:{_UNIT_QUALIFIERS})\s)?[a-zA-Z°]+)$"), "how many {unit}"),
    (re.compile(r"^[A-Z]\d{1,3}$"), "which room"),
    (re.compile(r"^[\d,.]+$"), "what number"),
    (re.compile(rf"^(?:{_NUMBER_WORDS}) ((?:(?:{_UNIT_QUALIFIERS})\s)?[a-z]+)$", re.I), "how many {unit}"),
    (re.compile(rf"^({WEEKDAYS})s?$"), "which day"),
    (re.compile(r"^((Dr|Mr|Mrs|Ms|Prof)\.\s)?[A-Z][a-z'’-]+ [A-Z][a-z'’-]+$"), "who"),
]
# Capitalised words that make a name a title or a place, not a person.
_NOT_PEOPLE = re.compile(r"\b(Director|Manager|Officer|Lead|Nurse|Room|Wing|Lot|Road|Clinic|Ledger|Reminder|Code|Health|"
                         r"Control|Scale|Handbook|Hospital|Desk|Suite|Platform|Portal|Team|Unit|Office|"
                         # places and things named like people ("Pellow Quay", "Islander Card")
                         r"Quay|Harbour|Harbor|Point|Landing|Street|Square|Station|Building|Bank|Hall|Centre|Center|Park|"
                         r"Bridge|Airport|Port|Pier|Island|Bay|Avenue|Lane|Card|Line|Service|School|College|Library|Court)\b")


def phrase_in(clause: str, fact: str) -> str:
    """:func:`wh_phrase`, but a bare count before a noun asks "how many" ("3 missed appointments")."""
    phrase = wh_phrase(fact)
    if phrase == "what number" and re.fullmatch(r"\d{1,3}", fact):
        if re.search(r"(?<![\d:.-])" + re.escape(fact) + r"(?: [a-z][a-z-]+)? [a-z][a-z-]{2,}s\b", clause):
            return "how many"
    return phrase


def _priority(fact: str) -> int:
    """Concrete values make better questions than titles and terms: ask about them first."""
    phrase = wh_phrase(fact)
    order = ["what time", "what date", "how many", "which room", "what number", "who", "what percentage", "which day"]
    return next((i for i, p in enumerate(order) if phrase.startswith(p)), len(order))


def wh_phrase(fact: str) -> str:
    """The question phrase that asks for ``fact`` ("what time" for 07:30, "who" for a person ...)."""
    for pattern, phrase in _WH_RULES:
        match = pattern.match(fact)
        if match and phrase == "who" and _NOT_PEOPLE.search(fact):
            return "what"
        if match:
            unit = match.group(match.lastindex) if "{unit}" in phrase and match.lastindex else ""
            return phrase.format(unit=unit)
    return "what"


# Surface forms of one question. A fact asked about in one wording only is learned as that
# wording: a tuned 135M model answered "What is the extension of the security desk?" (its training
# question) but not "What extension does the security desk use?". So each exposure of a fact
# asks in another form, keyed on the same content words.
QUESTION_FORMS = (
    "{inplace}",
    "About {subject}: {phrase}?",
    "{Phrase}, for {subject}?",
    "Can you tell me {phrase} for {subject}?",
    "Do you know {phrase} for {subject}?",
    "{fronted}",
)
_EDGE_WORDS = set(
    "a an the is are was were be been being has have had of to in on at for by with and or from within into every "
    "each per than as last lasts opened opens open closes close must should can may will which who that it its "
    "this there also only no not room extension ext more than".split()
)


def _content_words(text: str) -> int:
    values = [f for f in fact_strings(text) if wh_phrase(f) != "what"]
    for value in values:
        text = text.replace(value, " ")
    return sum(1 for w in re.findall(r"[A-Za-z][A-Za-z'’-]{2,}", text) if w.lower() not in _EDGE_WORDS)


def subject_of(clause: str, target: str) -> str:
    """The words a clause says ``target`` about: the clause without its fact strings, trimmed
    to content words ("The infusion suite is Room B7 and ..." -> "the infusion suite")."""
    before, _, after = clause.partition(target)
    # the last part of what comes before ("X is A and the Y is <target>" -> "the Y is")
    parts = re.split(r",\s+|;\s+|:\s+(?=[A-Z])|\s+and\s+", before)
    before = next((p for p in reversed(parts) if _content_words(p) >= 2), parts[-1])
    text = before if _content_words(before) >= 2 else before + " " + after
    for fact in fact_strings(text):
        if wh_phrase(fact) != "what":  # values go; titles and terms ("Medical Director") are the subject
            text = text.replace(fact, " ")
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*", text)
    while words and words[-1].lower() in _EDGE_WORDS:
        words.pop()
    while words and words[0].lower() in _EDGE_WORDS - {"the"}:
        words.pop(0)
    words = words[-7:]
    if not words:
        return "this"
    subject = " ".join(words)
    return _lower_article(subject)


def question_for(sentence: str, which: int = 0, form: int = 0) -> str:
    """A plain question whose answer is one fact string of ``sentence`` (rule-built, no model).

    ``form`` picks one of :data:`QUESTION_FORMS` (0: the sentence's own clause with the fact
    replaced by its question phrase; others: the clause's subject with the question phrase).
    """
    inplace = _inplace_question(sentence, which)
    facts = fact_strings(sentence)
    if form % len(QUESTION_FORMS) == 0 or not facts or inplace.startswith("For "):
        return inplace
    target = sorted(facts, key=_priority)[which % len(facts)]
    clause = next((c for c in re.split(r";\s+", sentence) if target in c), sentence).strip().rstrip(".")
    phrase = phrase_in(clause, target)
    subject = subject_of(clause, target)
    if subject == "this":
        return inplace
    text = QUESTION_FORMS[form % len(QUESTION_FORMS)].format(
        inplace=inplace, inplace_lower=_lower_first(inplace), subject=subject, phrase=phrase,
        Phrase=phrase.capitalize(), fronted=_fronted_question(clause, target, phrase) or inplace,
    )
    return re.sub(r"\s+", " ", text).strip()


def _fronted_question(clause: str, target: str, phrase: str) -> str | None:
    """"The laboratory lead is Tomasz W." -> "Who is the laboratory lead?": the question phrase
    first, as people ask; only for "<subject> is/are <fact>" clauses (other verbs would need inflecting)."""
    match = re.match(r"^(?P<subject>.+?)\s+(?P<verb>is|are|was|were)\s+(?:(?:in|at|on)\s+)?(?:[Rr]oom\s+)?" + re.escape(target), clause)
    if not match or not _content_words(match.group("subject")) or phrase == "what" and not target[:1].isupper():
        return None
    subject = re.split(r",\s+(?:and\s+)?|;\s+|:\s+|\s+and\s+", match.group("subject"))[-1].strip()
    if not _content_words(subject):
        return None
    subject = _lower_article(subject)
    return f"{phrase.capitalize()} {match.group('verb')} {subject}?"


def _lower_article(text: str) -> str:
    """'The infusion suite' -> 'the infusion suite', to sit inside a question."""
    return text[0].lower() + text[1:] if text.split()[0] in {"The", "A", "An"} else text


def _lower_first(text: str) -> str:
    """'The clinic ...' -> 'the clinic ...', but names keep their capital."""
    first = text.split(" ", 1)[0]
    return text[0].lower() + text[1:] if first in {"The", "A", "An", "What", "Which", "Who", "How", "When", "For"} else text


def _inplace_question(sentence: str, which: int = 0) -> str:
    """Only the clause holding the blanked fact is kept; "key: value; key: value" records become
    "For <first key> <first value>, what is the <key>?"."""
    facts = fact_strings(sentence)
    if not facts:
        return f"Can you tell me about this: {sentence.rstrip('.')}?"
    ranked = sorted(facts, key=_priority)
    target = ranked[which % len(ranked)]
    fields = [f.split(":", 1) for f in sentence.rstrip(". ").split(";")]
    if len(fields) > 2 and all(len(f) == 2 for f in fields):  # a table row / CSV record
        keys = [k.strip().replace("_", " ") for k, _ in fields]
        values = [v.strip() for _, v in fields]
        hit = which % (len(values) - 1) + 1  # ask about a field other than the first (the record's key)
        return f"For {keys[0]} {values[0]}, what is the {keys[hit]}?"
    clauses = [c for c in re.split(r";\s+", sentence) if c.strip()]
    clause = next((c for c in clauses if target in c), sentence).strip().rstrip(".")
    phrase = phrase_in(clause, target)
    label = re.match(r"^([^:]{3,60}):\s*extension\s+" + re.escape(target) + r"\b", clause)
    if label:  # "Triage nurse line: extension 2147" -> "What is the extension of the triage nurse line?"
        return f"What is the extension of the {label.group(1)[0].lower() + label.group(1)[1:]}?"
    if phrase == "which room":
        clause = re.sub(r"\b[Rr]oom\s+" + re.escape(target), target, clause)
    blanked = clause.replace(target, "___", 1)
    if blanked.startswith("___"):
        text = phrase.capitalize() + blanked[3:]
    else:
        text = blanked.replace("___", phrase)
        text = text[0].upper() + text[1:]
    return re.sub(r"\s+", " ", text).strip(" ,;") + "?"
