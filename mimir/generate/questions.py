"""Natural, self-contained questions about one fact of a sentence — and the check that keeps them so.

A question teaches a fact only if it names what it asks about: "Within how many minutes must a
RAS 2 patient be seen?" can be asked again later; "Seen within how many hours?" cannot. So every
question MIMIR trains on is built from the *clause* that holds the fact, in one of a few forms
that English speakers use (question word first, with the auxiliary moved or "do" added, or the
clause itself with the value replaced by a question phrase), and then passes
:func:`question_problem`, which rejects fragments, cloze remnants, answers given away and
questions that do not name their subject. Rejections are counted by reason.

A model may word questions too (:func:`mimir.generate.recipe.model_questions`); they pass the same
check plus a type check (a "how long" question must ask for a duration).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mimir.facts.text import _MONTHS, _NOT_PEOPLE, WEEKDAYS, fact_strings, phrase_in, wh_phrase
from mimir.generate.contacts import TITLE_WORD, contact_line
from mimir.generate.predicates import first_verb, reads_as_third_person, split_predicates
from mimir.generate.words import (AUX, BASE_FORM_VERBS, DETERMINERS, FUNCTION_WORDS, MODALS, PLURAL_NOUN_HINT, PREPS,
                                  PRONOUN_SUBJECTS, SUBORDINATORS)

_QUESTION_START = re.compile(
    r"^(what|which|who|whom|whose|when|where|how|why|at what|on what|in what|within how|for how|after how|by what|by whom|to whom|with whom|"
    r"from what|until what|before what|to what|is|are|was|were|do|does|did|can|must|should|may|will|has|have)\b", re.I)
_BAD_PATTERNS = [
    (re.compile(r"^how many (is|are|was|were)\b", re.I), "count_without_noun"),  # "How many is the ferry licensed to carry?"
    (re.compile(r"\b(at|in|on|from|to|by|with)\s+what\s*\?$", re.I), "bare_what"),  # "... leaves from berth 2 at what?"
    (re.compile(r"\b(the|a|an|and)\s+(what|which|who|how many|how much)\b|\bof\s+(what|which|who)\b", re.I), "question_word_in_name"),
    (re.compile(r"^(about|for|regarding)\b[^?]*:\s", re.I), "template_fragment"),
    (re.compile(r"^(what|which [a-z]+|how many [a-z°]+|who),\s+for\b", re.I), "template_fragment"),
    (re.compile(r"_{2,}|\bfill(s)? (in )?the blank\b|\bmissing part\b", re.I), "cloze_remnant"),
    (re.compile(r"\([^()]*\b(what|which|how many|how much|who)\b[^()]*\)", re.I), "question_word_in_parentheses"),
    (re.compile(r"^(what|which|who|how many [a-z°]+|how long)\s*:\s", re.I), "template_fragment"),
    (re.compile(r"\b(\w+)\s+\1\b", re.I), "repeated_word"),
    (re.compile(r"\d\s+(what|which|who)\b", re.I), "question_word_in_name"),
    (re.compile(r"[$€£]\s*(what|how)\b", re.I), "question_word_in_amount"),
    (re.compile(r":[^:?]*:\s"), "table_fragment"),
    (re.compile(r"^(they|it|this|these|those|he|she|we|its|their|his|her|him|our|your|you)\b", re.I), "pronoun_subject"),
    (re.compile(r",\s+(?:currently\s+|namely\s+)?(who|what|what number)\s*[,?(]", re.I), "question_word_in_apposition"),
    (re.compile(r"\bdifference between\b|_", re.I), "template_fragment"),
    (re.compile(r"\b(is|are)\b[^?]*\b\1\s+(in|at|on)\?$", re.I), "double_verb"),
    (re.compile(r"\b(every|each)\s+(which|what|how)\b", re.I), "question_word_in_name"),
    (re.compile(r"[\"“'‘]\s*(who|what|which)\s*[\"”'’]", re.I), "question_word_in_quotes"),
    (re.compile(r"\b(what|which)(\s+number)?\s+\d"), "question_word_in_name"),
    (re.compile(r"\b(?!(?:On|In|At|For|By|To|From|What|Which|When|Where|How|Who|If|After|Before|Within|Until|During|The|A|An|I)\b)"
                r"[A-Z][A-Za-z0-9.-]*\s+what(\s+number)?\b(?!\s+(is|are|was|were|do|does|did|must|should|can|will)\b)"),
     "question_word_in_name"),
    (re.compile(r"\*\*|`"), "markup"),
    (re.compile(r"\bones\b|\b(is|are|was|were|do|does|did|must|can|should|will)\s+(it|they|(this|these|those)(?!\s+(?!(?:for|from|about|with|into|and|the)\b)[a-z]{3,}))\b", re.I),
     "pronoun_subject"),  # "is this policy" names its noun; "is this" alone does not
    (re.compile(r"\b(extension|ext\.?|port|room|pager|version|cabinet|building|office|bay|locker|shelf|cupboard|lab|laboratory|"
                r"point|gate|door|level|block|wing|bus)\s+(what|which)\b|\b(on|at|in)\s+(extension|port|room|pager)\?$", re.I),
     "question_word_in_name"),
    (re.compile(r"\s:\s"), "template_fragment"),
    (re.compile(r"\b(first|second|third|fourth|last|next)\s+(which|what)\b", re.I), "question_word_in_name"),
    # a pronoun for a person or a possessive left from the sentence: "What number can she be reached on?"
    (re.compile(r"\b(is|are|was|were|do|does|did|must|can|should|will|may)\s+(he|she|we|you|his|her|their|our|its)\b", re.I),
     "pronoun_subject"),
    # the value cut out of "above 2 mol/dm³" leaves its unit behind
    (re.compile(r"\b(above|below|over|under|than|at|of|to|by|within|least|most)\s+(mol|ml|mg|kg|g|km|cm|mm|°C|%|per cent|percent)(?![\w])",
                re.I), "dangling_unit"),
    # "gather at who C", "from which room, G11": the question word stands inside a name or beside its code
    (re.compile(r"\b(?:[Ww]ho|[Ww]hat)\s+[A-Z]\b|\b(?:[Ww]hich|[Ww]hat)\s+[a-z]+,\s+[A-Z]{0,3}\d"), "question_word_in_name"),
    # "The prep room, which room, is restricted ...": an apposition turned into the question word
    (re.compile(r"^[^,?]+,\s+(which|what|who)\b[^,?]*,\s", re.I), "question_word_in_apposition"),
    # "If a spill is larger than about how many ml, or gives off fumes?": a condition with no main clause
    (re.compile(r"^(if|when|unless|although|because|while|once)\b[^,?]*,\s*(or|and)\b", re.I), "fragment"),
    # "At how many minutes it pages the secondary ...": the sentence's pronoun kept after a fronted question phrase
    (re.compile(r"^(at|in|on|after|within|for|by|from|until)\s+how\s+(many|much|long)\s+[a-z]+\s+(it|they|he|she|we)\b", re.I),
     "pronoun_subject"),
    # "Atlas-search (Platform): an OpenSearch cluster of how many data nodes?": a label and a noun phrase, no question
    (re.compile(r"^[^?]{2,80}:\s+(a|an|the)\s", re.I), "template_fragment"),
    # "In what do lunchtime clubs run?": a place asked with a bare "what" (the builders also ask "where")
    (re.compile(r"^(in|at|on) what (do|does|did|is|are|was|were)\b", re.I), "place_asked_with_what"),
    (re.compile(r"[$€£¥](?!\s*\d)"), "currency_split"),  # "a goodwill voucher worth up to £?": the sign without its amount
    # "Members on which get a head start?": a preposition, its question word and then a verb, no noun
    (re.compile(r"\b(on|in|at|for|from|to|with|by)\s+(which|what)\s+(is|are|was|were|get|gets|have|has|must|can|may|will|"
                r"pay|pays|do|does|run|runs)\b", re.I), "question_word_in_name"),
    # "On bank holidays the hours are during what hours?": the noun asked about asked for again
    (re.compile(r"\b(hours|times|days|dates)\s+(is|are)\s+(during|at|on)\s+what\s+\1\b", re.I), "repeated_word"),
    # "... is run by the Council and sits?": a second verb left without its complement
    (re.compile(r"\b(and|or)\s+(sits|is|are|has|have|runs|opens|closes|takes|costs|lasts|stays|gets|goes|holds|keeps|needs|"
                r"pays|lies|stands)\?$"), "ellipsis"),
    # "During what hours are On bank holidays the hours?": a sentence's opening phrase moved inside the question
    (re.compile(r"(?<=\s)(On|In|At|During|If|When|Unless|After|Before)\s+[a-z]"), "fragment"),
    # "which park B", "which room G11": the question word stands beside the code of the name it replaced
    (re.compile(r"\b(?:[Ww]hich|[Ww]hat)\s+[a-z]+\s+(?:[A-Z]\b|[A-Z]?\d)"), "question_word_in_name"),
    # "on which channel 12?", "a book of ten who singles": the question word beside a number it does not replace
    (re.compile(r"\b(which|what)\s+[a-z]+\s+\d|\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve)\s+(who|what|which)\b",
                re.I), "question_word_in_name"),
    (re.compile(r"\b(?:whom?|what|which [a-z]+),\s+(?:currently\s+)?[A-Z]"), "question_word_in_apposition"),  # "run by whom, Jonah Mbeki?"
    (re.compile(r"\b(?:unless|if|when|because|while|until|although|whereas)\s+(?:who|what|which)\b", re.I), "question_word_in_subclause"),
    (re.compile(r"\b(?:a|an)\s+(?:[a-z]+\s+)?(?:what|which|who)\b"), "question_word_in_name"),  # "holding a green what pay"
    (re.compile(r"\b(?:a|an|the)\?$"), "dangling_article"),  # "What number are staff entitled to a?"
    (re.compile(r"\bwhich\s+(?:outside|inside|during|before|after|on|in|at|from|to|for|when|if|and|or|because|unless|although|"
                r"since|so)\b"), "bare_which"),
    (re.compile(r"\b(?:at|in|on|near|beside|outside)\s+who\b"), "place_asked_with_who"),  # "the forecast wind at who is above ..."
    (re.compile(r"\bwhom\s+[a-z]+\?$"), "question_word_in_name"),  # "except for whom holders?"
    (re.compile(r"^If\b[^,]*\?$"), "conditional_fragment"),  # "If an instalment is more than how many days late?": no main clause
    # "How many does the hall house?": a count whose noun was cut off with the rest of the clause
    (re.compile(r"\bhow many\s+(does|do|did|is|are|was|were|must|can|should|will|may)\b", re.I), "count_without_noun"),
    # "... end at 10:00 on what date, and you must have moved out by that time?": a second clause rides along
    (re.compile(r",\s+and\s+(you|we|they|he|she|it)\s"), "two_clauses"),
    # "What should I know about Please collect your washing promptly?": an instruction is no topic
    (re.compile(r"(?<=\s)Please\b"), "imperative_inside"),
    # "... always call 999 first and then let which know?": the question word as the object of "let"
    (re.compile(r"\blet\s+(which|what|who|whom)\b", re.I), "question_word_in_name"),
    # "The Porters' Lodge in which entrance hall is staffed ...?": the question word inside the subject
    (re.compile(r"^(The|A|An)\s+[\w' -]+?\s+(in|on|at|of)\s+(which|what)\s+[\w -]+?\s+(is|are|was|were|has|have|must)\s"),
     "question_word_in_subject"),
]
IN_PLACE_MAX_WORDS = 22
MAX_WORDS = 32


@dataclass(frozen=True)
class FactQuestion:
    """One question about ``target`` (a fact string of ``sentence``), and how it was built."""

    text: str
    sentence: str
    target: str
    form: str


def clause_of(sentence: str, target: str) -> str:
    """The part of ``sentence`` that states ``target``: split at ';', at ', and' / ' and' that join
    two full clauses, and before a contrasting clause (", whereas ...", ", but ..."); a verbless piece
    ("RAS 2 within 15 minutes") or one inside a relative clause keeps the whole sentence."""
    sentence = sentence.strip().rstrip(".")
    for piece in re.split(r";\s+", sentence):
        if target in piece:
            sentence = piece.strip()
            break
    pieces = re.split(r",\s+(?=(?:whereas|while|but|so|although|though|where|which|who|after which)\s)", sentence)
    holder = next((p for p in pieces if target in p), sentence)
    if holder != sentence:
        if re.match(r"(where|which|who|after which)\s", holder):
            holder = sentence  # a relative clause has no subject of its own
        else:
            # "although the ticket may be moved ..." is a clause of its own, asked with a capital
            concessive = re.match(r"(although|though)\s", holder)
            holder = re.sub(r"^(whereas|while|but|so|although|though)\s+", "", holder)
            holder = _cap(holder) if concessive else holder
    shared = _shared_subject(holder, target)
    if shared:
        return shared
    parts = re.split(r",?\s+and\s+(?=(?:the|a|an|[A-Z])\b)|,\s+and\s+|,\s+(?=(?:the|a|an)\s)", holder)
    for part in parts:
        if re.match(rf"{_VERB_GROUP}\b", part.strip()):
            continue  # "must report back within 3 days": no subject of its own
        if target in part and _has_verb(part) and _content_words(part.replace(target, " ")) >= 2:
            part = part.strip().rstrip(",")
            return split_predicates(part, target) or part
    return holder if _has_verb(holder) and _content_words(holder.replace(target, " ")) >= 2 else sentence


_VERB_GROUP = r"(?:must|should|can|may|will|is|are|was|were|has|have)"
_PARTICIPLES = r"(?:held|run|led|kept|chaired|located|based|hosted|staffed|managed|owned|open|opened|stored)"


def _shared_subject(clause: str, target: str) -> str | None:
    """A second verb phrase that shares the first one's subject, made a clause of its own:
    "Swaps are arranged directly and must be entered ... at least 48 hours before" -> "Swaps must be
    entered ... at least 48 hours before"; "discussed at the weekly review, held on Thursday at 16:00"
    -> "The weekly review is held on Thursday at 16:00"."""
    match = re.match(rf"^(?P<subject>[A-Z][^,;:()]*?)(?:\s+\([^)]*\))?\s+(?:{_VERB_GROUP}|[a-z]{{3,}}(?<!s)s(?=\s+(?:up|to|the|a|an|at|in|on|for|about|every|each|no|all|\d)\b))\b.*?\s+and\s+"
                     rf"(?P<second>{_VERB_GROUP}\b.+)$", clause)
    if match and target in match.group("second") and len(match.group("subject").split()) <= 6:
        return f"{match.group('subject')} {match.group('second')}"
    match = re.search(r"\b(?P<np>(?:[Tt]he|[Aa]n?)\s+[A-Za-z][\w -]{2,40}?|[A-Z][a-z]+(?: [A-Z][a-z'-]+)+),\s+who\s+(?P<rest>.+)$", clause)
    if match and target in match.group("rest"):  # "the Intake Partner, who decides within 2 days" -> a clause
        np = match.group("np")
        return f"{np[0].upper()}{np[1:]} {match.group('rest')}"
    match = re.search(rf"\b(?P<np>(?:the|a|an)\s+[a-z][\w -]{{2,40}}?),\s+(?P<part>{_PARTICIPLES})\s+(?P<rest>.+)$", clause)
    if match and target in match.group("rest"):
        np = match.group("np")
        verb = "are" if np.split()[-1].endswith("s") and not np.endswith("ss") else "is"
        return f"{np[0].upper()}{np[1:]} {verb} {match.group('part')} {match.group('rest')}"
    return None


def _has_verb(text: str) -> bool:
    words = re.findall(r"[A-Za-z'-]+", text.lower())
    if any(w in AUX + MODALS + ("has", "have", "had", "do", "does", "did") for w in words):
        return True
    # a present or past tense verb after the first word ("closes", "opened", "last")
    if any(w in BASE_FORM_VERBS for w in words[1:]):
        return True
    return any(re.fullmatch(r"[a-z]{3,}(ed|es|s)", w) and w not in PLURAL_NOUN_HINT for w in words[1:])


def _content_words(text: str) -> int:
    return len(content_words(text))


def content_words(text: str) -> set[str]:
    """Lower-cased words that carry meaning (no function words, no values)."""
    for value in fact_strings(text):
        if wh_phrase(value) != "what":
            text = text.replace(value, " ")
    return _words(text)


def _words(text: str) -> set[str]:
    """Stems of every word that is not a function word, names included ("Intake Coordinator")."""
    return {_stem(w.lower()) for w in re.findall(r"[A-Za-z][A-Za-z'’-]{2,}", text) if w.lower() not in FUNCTION_WORDS}


def _stem(word: str) -> str:
    """'leads' / 'leading' / 'led' ask about the same thing as 'lead': compare crude stems."""
    if word.endswith(("sses", "ches", "shes", "xes", "zes")):
        return word[:-2]
    for suffix in ("ing", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _lower_article(text: str) -> str:
    first = text.split(" ", 1)[0]
    return text[0].lower() + text[1:] if first in {"The", "A", "An", "Any", "Each", "Every", "All"} else text


def _cap(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" ,;:")
    text = re.sub(r"\s+([,?])", r"\1", text)
    return _cap(text.rstrip("?.").strip()) + "?"


def _span(clause: str, target: str) -> tuple[str, str, str]:
    """(before, the value with a 'Room ' prefix when there is one, after)."""
    match = re.search(r"(?:\b[Rr]oom\s+(?=[A-Z]?\d))?" + re.escape(target), clause)
    if not match:
        return clause, target, ""
    return clause[: match.start()], match.group(0), clause[match.end():]


def fronted_copular(clause: str, target: str, phrase: str) -> str | None:
    """"The laboratory lead is Tomasz Wierzbicki" -> "Who is the laboratory lead?"."""
    match = re.match(r"^(?P<subject>.+?)\s+(?P<verb>is|are|was|were)\s+(?:(?:in|at|on)\s+)?(?:[Rr]oom\s+)?"
                     + re.escape(target) + r"(?P<rest>.*)$", clause)
    if not match or _content_words(match.group("subject")) < 1:
        return None
    subject = re.split(r",\s+(?:and\s+)?|:\s+", match.group("subject"))[-1].strip()
    if re.match(r"(on|in|at|during|for|from|after|before|by|until|if|when|unless)\b", subject, re.I):
        return None  # "On bank holidays the hours are ...": a fronted phrase is no subject
    rest = match.group("rest")
    if rest.strip() and not re.match(r"^\s*(and|,|;|\(|next to|near|beside|behind|opposite)\b", rest):
        return None  # "is 15 minutes late" — the value sits inside a longer phrase
    if phrase == "what" and not target[:1].isupper():
        return None
    return _tidy(f"{phrase} {match.group('verb')} {_lower_article(subject)}")


def subject_first(clause: str, target: str, phrase: str) -> str | None:
    """"Room C3 is the only isolation room" -> "Which room is the only isolation room?"."""
    before, _, after = _span(clause, target)
    if before.strip() not in ("", "The", "the") or not re.match(r"\s*(is|are|was|were|must|can|may|should|will|has|have|[a-z]{3,}(?:s|ed))\b", after):
        return None
    words = after.split()
    if len(words) > 1 and re.fullmatch(r"[a-z]{3,}s", words[0]) and re.fullmatch(r"[a-z]{3,}", words[1]) \
            and words[1] not in FUNCTION_WORDS and words[0] not in AUX:
        return None  # "Customer Support escalations arrive ...": the value names the subject's kind
    if phrase == "what" and re.match(r"\s*(is|are)\s+(Dr\.|Mr\.|Ms\.|Mrs\.|[A-Z])", after):
        return None  # "What is Dr. Okafor?" asks for a title in a way nobody asks
    return _tidy(f"{phrase} {after.strip()}")


def labelled(clause: str, target: str, phrase: str) -> str | None:
    """"Triage nurse line: extension 2147" -> "What is the extension of the triage nurse line?"."""
    match = re.match(r"^(?P<label>[^:]{3,60}?)\s*(?:\((?P<note>[^)]*)\))?\s*:\s*(?P<key>[a-z][a-z -]{1,20}?\s+)?"
                     + re.escape(target) + r"\b(?P<rest>.*)$", clause)
    if not match:
        return None
    label = _lower_article(match.group("label").strip())
    if label[:1].isupper() and not fact_strings(label):
        label = label[0].lower() + label[1:] if label.split()[0].lower() in _COMMON_LABEL_START else label
    key = (match.group("key") or "").strip()
    if key and key not in _LABEL_KEYS:
        return None
    rest = match.group("rest").strip(" ,.")
    if key:
        return _tidy(f"What is the {key} of the {label}")
    if phrase in ("what number",):
        return _tidy(f"What number should I call for the {label}")
    if not rest and not match.group("note") and phrase in ("who", "what", "which room") and len(label.split()) <= 5 \
            and not re.search(r"[(),]", label):
        noun = label if label.isupper() else label[0].lower() + label[1:]
        return _tidy(f"{'Who' if phrase == 'who' else 'What'} is the {noun}")
    if phrase.startswith("how many") or phrase == "what time":
        tail = f" {rest}" if rest and len(rest.split()) <= 6 and not fact_strings(rest) else ""
        return _tidy(f"For {label}, {phrase}{tail}")
    return None


_LABEL_KEYS = {"extension", "ext", "number", "phone", "phone number", "code", "room", "fee", "email", "price", "cost", "rate"}
_COMMON_LABEL_START = {"front", "triage", "security", "laboratory", "after-hours", "in-house", "occupational"}


def do_support(clause: str, target: str, phrase: str) -> str | None:
    """"Walk-in registration closes at 17:45 on weekdays" -> "What time does walk-in registration
    close on weekdays?"; "Standard appointments last 20 minutes" -> "How long do standard appointments last?"."""
    before, value, after = _span(clause, target)
    if before.endswith(("£", "$", "€")):  # "Non-members pay £12 for ..." -> "How much do non-members pay for ...?"
        before, phrase = before[:-1], "how much"
    if re.match(r"^you\s", before, re.I):
        return _do_you(before, after, phrase)
    match = re.match(r"^(?P<subject>[^,;:()]+?)\s+(?P<verb>[a-z]{3,})\s+(?P<prep>(?:" + "|".join(PREPS)
                     + r")\s+)?(?:(?:about|around|up to|at least|at most|no more than|more than|less than)\s+)?$", before)
    if not match or after.strip()[:1] in (")",) or after.strip().startswith("of "):
        return None
    follows = re.match(r"\s*([a-z]+)\b", after)
    if follows and follows.group(1) in _BASE_VERBS | BASE_FORM_VERBS:
        return None  # "Emergency consultations at Fenwick cost ...": the verb comes after the value, "consultations" is a noun
    subject, verb, prep = match.group("subject").strip(), match.group("verb"), (match.group("prep") or "").strip()
    words = subject.split()
    if re.search(r"\b(who|which|that|whose)\b", subject, re.I):
        return None  # "a patient who arrive": the subject's own clause, not its verb
    if any(re.fullmatch(r"[a-z]{3,}ing", w) for w in words) or (phrase == "what number" and re.match(r"\s+[A-Z]", after)):
        return None  # "residents holding a green Islander Card pay": a participle in the subject; "at 3 Ropewalk Lane": an address
    found = first_verb([*words, verb, "at"])
    if found is not None and found < len(words):
        # "The Intake Coordinator posts the duty rota | on": the verb is inside the "subject", with its object after it
        return _do_with_object(before, after, phrase)
    if words[-1].lower() in PREPS:
        return None  # "Requests for | practicals on a Monday": a noun after a preposition is no verb
    if words[0].lower() in PREPS + ("after", "before", "if", "when", "once", "while") or len(words) > 7 or not _words(subject) or any(w.lower() in AUX + MODALS + ("has", "have", "needs", "takes") for w in words):
        return None
    last = words[-1].lower()
    if verb.endswith("s") and last.endswith("s") and not last.endswith(("ss", "us", "is")) and len(words) > 1:
        return None  # "The courier collects | specimens at 10:15": the subject ends in the verb, the "verb" is its object
    if verb.endswith("s") and not verb.endswith("ss"):
        singular, base = True, _base_form(verb)
    elif verb in _BASE_VERBS and words[-1].lower().endswith("s"):
        singular, base = False, verb
    else:
        return None
    aux = "does" if singular else "do"
    rest = _tail(after)
    lead = _do_lead(phrase, prep)
    return _tidy(f"{lead} {aux} {_subject(subject)} {base} {rest}") if lead else None


def _base_form(verb: str) -> str:
    """The base form of a third-person verb, as do-support needs it: "closes" -> "close", "reaches" -> "reach"."""
    return verb[:-2] if re.search(r"(ss|sh|ch|x|z|o)es$", verb) else verb[:-1]


def _do_with_object(before: str, after: str, phrase: str) -> str | None:
    """Do-support over a verb and its object: "The Intake Coordinator posts the duty rota on Friday each
    week" -> "On which day does the Intake Coordinator post the duty rota each week?"."""
    words = before.split()
    prep = words[-1].lower() if words and words[-1].lower() in PREPS else ""
    core = words[:-1] if prep else words
    at = first_verb([*core, "at"])
    if not at:
        return None
    subject, verb, obj = core[:at], core[at], core[at + 1:]
    if verb in AUX + MODALS + ("has", "have") or not obj or len(obj) > 6 or len(subject) > 7 or subject[0].lower() in PREPS \
            or prep == "between" or fact_strings(" ".join(obj)) \
            or any(w.endswith(",") or w.lower() in SUBORDINATORS | {"and", "or"} for w in obj) \
            or any(re.fullmatch(r"[a-z]{3,}ing", w) for w in subject + obj[-1:]) \
            or obj[-1].lower() in DETERMINERS | FUNCTION_WORDS | _OPEN_ENDS \
            or re.match(r"\s*(of|before|ahead|prior|earlier|later|after|per)\b", after):
        # the value inside the object ("cover the past 10 years", "hold a current ..."), a participle ("owner
        # holding"), a preposition left hanging ("reach the primary through"), a value measured from what follows
        return None
    if verb.endswith("s") and not verb.endswith("ss"):
        aux, base = "does", _base_form(verb)
    elif subject[-1].lower() in PRONOUN_SUBJECTS or (subject[-1].lower().endswith("s") and not subject[-1].endswith("ss")):
        aux, base = "do", verb
    else:
        return None
    lead = _do_lead(phrase, prep)
    return _tidy(f"{lead} {aux} {_subject(' '.join(subject))} {base} {' '.join(obj)} {_tail(after)}") if lead else None


_OPEN_ENDS = {"past", "last", "next", "first", "current", "single", "flat", "through", "via", "into", "onto", "across", "beside",
              "behind", "near", "above", "below", "inside", "outside", "of", "with", "without", "online", "than"}


def _do_lead(phrase: str, prep: str) -> str | None:
    """The question phrase of a do-support question, with the preposition that stood before the value:
    "last 20 minutes" -> "how long", "within 3 days" -> "within how many days", "every Monday" -> "on which
    day of the week"; None for a cycle ("every 2 weeks": ``how_often`` asks it)."""
    if re.fullmatch(r"how many (minutes?|hours?|days?|weeks?|months?|years?|nights?)", phrase) and prep in ("", "for", "until"):
        return "how long"  # "hold a booking until five minutes after ..." -> "How long do you hold a booking ...?"
    if prep == "every":
        return "on which day of the week" if phrase == "which day" else None
    if prep and prep != "at" and not phrase.startswith("who"):
        return f"{prep} {phrase}"
    if prep in ("to", "by", "with", "from") and phrase == "who":
        return f"{prep} whom"  # "goes to the Intake Partner" -> "To whom does ... go?"
    if prep == "at" and phrase == "which room":
        return "in which room"
    return phrase


def _do_you(before: str, after: str, phrase: str) -> str | None:
    """"you keep lost property for" (a "we" handbook, addressed) -> "How long do you keep lost property?"."""
    match = re.match(r"^you\s+(?P<verb>[a-z]{3,})\s+(?P<obj>[^,;:()]*?)\s*(?:\b(?P<prep>" + "|".join(PREPS)
                     + rf")\s+)?(?:(?:{_MODIFIERS})\s+)?$", before, re.I)
    if not match or match.group("verb").endswith(("ed", "s")) or match.group("verb") in FUNCTION_WORDS or after.strip().startswith("of ") \
            or re.search(r"\d|\s(and|or)\s", match.group("obj")):
        return None  # "keep ordinary items for 28 days and valuables for ...": another value, a gapped clause
    lead = _do_lead(phrase, match.group("prep") or "")
    return _tidy(f"{lead} do you {match.group('verb')} {match.group('obj')} {_tail(after)}") if lead else None


_BASE_VERBS = {"last", "run", "open", "close", "start", "end", "take", "need", "cost", "begin", "happen", "expire", "stay", "meet",
               "pay", "receive", "get", "keep", "charge"}


def _tail(after: str) -> str:
    """What follows the value, fit to end a question: up to the next clause, and nothing when it
    carries other values, is long, or continues the value's own name ("Switchboard console")."""
    rest = re.split(r",|;|(?:^|\s)(?:and|or|but|whereas|while)\s", after.strip(" ,."))[0].strip()
    rest = re.sub(r"^(UTC|GMT|CET|ET|PT)\b\s*", "", rest)  # a time zone belongs to the value
    first = rest.split(" ", 1)[0] if rest else ""
    if fact_strings(rest) or len(rest.split()) > 8 or (first.isalpha() and first.islower() and first not in FUNCTION_WORDS
                                                        and first not in PREPS):
        return ""
    return rest


def _subject(text: str) -> str:
    """A sentence's subject inside a question: "Walk-in registration" -> "walk-in registration"; names keep capitals."""
    text = _lower_article(text.strip())
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and not any(first in f for f in fact_strings(text)):
        text = text[0].lower() + text[1:]
    return text


_MONTH_NAMES = _MONTHS.split("|")
_RANGE_END = re.compile(r"(\d|day|[A-Z]\w*)\s+(to|and|or|-|–)\s*$")


def passive(clause: str, target: str, phrase: str) -> str | None:
    """"Specimens are collected by courier at 10:15" -> "What time are specimens collected by courier?"."""
    before, _, after = _span(clause, target)
    if _RANGE_END.search(before):
        return None  # "staffed Monday to Friday": one end of a range is no question by itself
    match = re.match(r"^(?P<subject>.+?)\s+(?P<aux>is|are|must be|should be|can be|will be)\s+(?P<part>[a-z]+(?:ed|en|wn|un|lt|pt|ld|nt|ght))"
                     r"(?P<mid>(?:\s+[a-z]+){0,4}?)\s+(?P<prep>" + "|".join(PREPS) + r")\s+(?:(?:at least|at most|no more than|more than|the)\s+)?$",
                     before)
    if not match or _content_words(match.group("subject")) < 1 or after.strip().startswith("of ") \
            or re.search(r"[:;()]", match.group("subject")) or match.group("subject").count(",") == 1 \
            or re.search(r"\b(when|if|unless|because|while|whenever|where|once)\b", match.group("mid")) \
            or re.search(r"\bup$", match.group("mid")) \
            or re.search(r"\b(is|are|was|were|must|has|have)\b", match.group("subject")) \
            or re.search(r"\b[a-z]{3,}s\s+(up|to|for|about|at|in|on|within|\d)\b", match.group("subject")):
        return None
    aux = match.group("aux")
    words = aux.split()
    prep = match.group("prep")
    if prep == "every":  # "reviewed every April" -> "In which month is ... reviewed?"
        lead = {"which day": "on which day of the week"}.get(phrase) or ("in which month" if target in _MONTH_NAMES else "")
        if not lead:
            return None
        phrase, prep = lead, ""
    if phrase == "who" and prep in ("in", "at", "on", "into", "from", "under"):
        phrase = "what"  # "filed in the Incident Archive": a place or thing, not a person
    # "collected at 10:15" -> "What time ...", but "capped at 20" -> "At what number ..."
    lead = phrase if (prep == "at" and phrase in ("what time", "when", "where")) or phrase.startswith("who") or not prep else f"{prep} {phrase}"
    if prep in ("to", "with", "by") and (phrase == "who" or (phrase == "what" and target[:1].isupper())):
        lead = f"{prep} whom"  # "reported to the Nurse Manager" -> "To whom is ... reported?"
    if phrase == "what" and prep in ("in", "at", "on") and target[:1].isupper():
        lead = "where"  # "written in the Amber Ledger" -> "Where is the count written?"
    if phrase.startswith("how many") and prep in ("within", "after", "for"):
        lead = f"{prep} {phrase}"
    rest = _tail(after)
    mid = match.group("mid")
    if len(words) == 1:
        return _tidy(f"{lead} {aux} {_subject(match.group('subject'))} {match.group('part')}{mid} {rest}")
    return _tidy(f"{lead} {words[0]} {_subject(match.group('subject'))} {words[1]} {match.group('part')}{mid} {rest}")


_MODIFIERS = r"at least|at most|about|around|up to|more than|no more than|less than|fewer than|over|under"


def fronted(clause: str, target: str, phrase: str) -> str | None:
    """The question phrase moved to the front and the auxiliary before the subject: "Swaps must be
    entered in the rota sheet at least 48 hours before the shift begins" -> "At least how many hours
    must swaps be entered in the rota sheet before the shift begins?"."""
    if phrase == "what" or phrase == "who":
        return None  # names inside a phrase ("the Golden Signals board in Pulse") do not front cleanly
    before, _, after = _span(clause, target)
    match = re.match(r"^(?P<subject>[A-Z][^,;:()]*?)\s+(?P<aux>is|are|was|were|must|should|can|may|will)\s+(?P<mid>[^,;:()]*?)\s*$", before)
    if not match or _RANGE_END.search(before):
        return None
    subject, aux, mid = match.group("subject"), match.group("aux"), match.group("mid")
    if re.match(r"(a|an|the)\s", mid):
        return None  # "is a 38-lawyer firm founded in 1994": the predicate is a noun phrase
    if subject.split()[0].lower() in ("no", "never", "if", "when", "there", "it", "this", "that", "these", "those") \
            or re.search(rf"\b(who|which|that|{'|'.join(AUX + MODALS)}|has|have)\b", subject) or len(mid.split()) > 10:
        return None
    lead = [phrase]
    modifier = re.search(rf"\s*\b({_MODIFIERS})\s*$", mid)
    if modifier:
        lead.insert(0, modifier.group(1))
        mid = mid[: modifier.start()]
    prep = re.search(r"\s*\b(" + "|".join(PREPS) + r")\s*$", mid)
    if prep:
        if prep.group(1) == "every":
            return None
        if not (prep.group(1) == "at" and phrase == "what time"):
            lead.insert(0, prep.group(1))
        mid = mid[: prep.start()]
    of = re.match(r"\s*(of\s+[^,;:()]+?)(?=,|;|\s(?:and|or|but)\s|$)", after)
    if of:  # "after 45 seconds of failed health checks": the "of" phrase goes with the value
        if fact_strings(of.group(1)) or len(of.group(1).split()) > 6:
            return None
        lead.append(of.group(1))
        after = after[of.end():]
    if not mid.strip() or re.search(r"\d", mid):
        return None  # "may carry 96 and the Little Auk no more than 42": another value sits in between
    return _tidy(f"{' '.join(lead)} {aux} {_subject(subject)} {mid} {_tail(after)}")


def how_often(clause: str, target: str, phrase: str) -> str | None:
    """"Each crew must carry out a man-overboard drill once every 10 days" -> "How often must each crew
    carry out a man-overboard drill?"; "The committee meets every 3 months" -> "How often does the committee meet?"."""
    if not re.fullmatch(r"how many (minutes|hours|days|weeks|months|years)", phrase):
        return None
    before, _, after = _span(clause, target)
    cycle = re.search(rf"\s+(?:(?:{_MODIFIERS})\s+)?(?:(?:once|twice|\w+ times)\s+)?every\s+$", before)
    if not cycle or re.match(r"\s*of\b", after):
        return None
    head = before[: cycle.start()]
    if re.search(r"\s(and|or)\s", head):
        return None  # "keeps its page current and reviews it every 6 months": which verb is asked about?
    match = re.match(r"^(?P<subject>[A-Z][^,;:()]*?)\s+(?P<aux>is|are|must|should|can|may|will|has to|have to)\s+(?P<mid>[^,;:()]+)$", head)
    if match and not re.search(rf"\b({'|'.join(AUX + MODALS)}|who|which|that)\b", match.group("subject")):
        aux, mid = match.group("aux"), match.group("mid")
        if aux in ("has to", "have to"):
            return _tidy(f"How often {'does' if aux == 'has to' else 'do'} {_subject(match.group('subject'))} have to {mid}")
        return _tidy(f"How often {aux} {_subject(match.group('subject'))} {mid}")
    plural = re.match(r"^(?P<subject>[A-Z][a-z]+s)\s+(?P<verb>[a-z]{3,})(?P<obj>(?:\s+[^,;:()]+)?)$", head)
    if plural and not plural.group("verb").endswith("s") and plural.group("verb") not in FUNCTION_WORDS:  # "Lifeguards rotate positions"
        return _tidy(f"How often do {_subject(plural.group('subject'))} {plural.group('verb')}{plural.group('obj')}")
    match = re.match(r"^(?P<subject>(?:The|A|An|Each|Every|Your)\s[^,;:()]*?)\s+(?P<verb>[a-z]{3,}s)(?P<obj>(?:\s+[^,;:()]+)?)$", head)
    if not match or match.group("verb").endswith("ss") or re.search(rf"\b({'|'.join(AUX + MODALS)}|who|which|that)\b", match.group("subject")) \
            or len(match.group("subject").split()) > 6:
        return None
    return _tidy(f"How often does {_subject(match.group('subject'))} {_base_form(match.group('verb'))}{match.group('obj')}")


def in_place(clause: str, target: str, phrase: str) -> str | None:
    """The clause itself, the value replaced by its question phrase ("... is seen within how many minutes?")."""
    before, value, after = _span(clause, target)
    if not before.strip():
        return None
    if re.search(r"\b(what|which|how|who)\b", before, re.I):
        return None
    if after[:1].isalnum() or (re.match(r"\s*(and|to|or|-|–)\s", after) and fact_strings(after[:16])) or re.search(r"\b(and|to|or)\s*$", before) or before.rstrip().endswith(("(", "-")):
        return None  # one end of a range or list ("from ___ to 19:00") is no question by itself
    if re.search(r"\band\b", after) and re.search(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten)\b", after):
        return None  # "for how many days and valuables for three months?": a gapped clause carrying another number
    if before.endswith(("$", "€", "£")):  # "a stipend of $275 per week" -> "a stipend of how much per week"
        before, phrase = before[:-1], "how much"
    text = f"{before}{phrase}{after}"
    every = re.search(r"\b(every|each)\s+$", before)
    if every:  # "reviewed every April" -> "reviewed in which month each year"
        cycle = {"which day": "on which day each week"}.get(phrase) or ("in which month each year" if target in _MONTH_NAMES else "")
        if not cycle:
            return None
        text = f"{before[: every.start()]}{cycle}{after}"
    if len(text.split()) > IN_PLACE_MAX_WORDS or not _has_finite_verb(clause):
        return None  # a long echo of the sentence, or a verbless fragment ("Revision 3.1, maintained by ...")
    return _tidy(re.sub(r"\b(by|to|with|for|from) who\b", r"\1 whom", text))  # "published by whom every Wednesday"


def _has_finite_verb(text: str) -> bool:
    """An auxiliary, a modal or a present-tense verb: participles after a comma make no clause."""
    words = re.findall(r"[A-Za-z0-9'-]+", text)
    if any(w.lower() in AUX + MODALS + ("has", "have", "had", "do", "does", "did") or w in BASE_FORM_VERBS for w in words):
        return True
    if first_verb(text.split()) is not None or first_verb(text.split()[1:]) is not None:
        return True  # "All prices include what?": a base form after a plural subject
    # "8 bicycles", "of bicycles", "the bicycles": an -s word after a number, a preposition or a determiner is a plural noun
    return any(reads_as_third_person(w) and not (words[i - 1].isdigit() or words[i - 1].lower() in _NOUN_BEFORE)
               for i, w in enumerate(words) if i > 0)


_NOUN_BEFORE = set(PREPS) | DETERMINERS | {"of", "per", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                                          "many", "few", "several", "some", "more", "most", "other"}


_KEY_NOUNS = r"port|extension|room|pager|channel|code|version|floor|desk|line"


def keyed_value(clause: str, target: str, phrase: str) -> str | None:
    """"ledger-api (Payments): a Go 1.22 service listening on port 8443" -> "What is the port of ledger-api?"."""
    head = re.match(r"^(?P<label>[\w][\w .'-]{1,40}?)\s*(?:\([^)]{1,40}\))?:\s", clause)
    key = re.search(rf"\b(?P<key>{_KEY_NOUNS})\s+" + re.escape(target) + r"\b", clause, re.I)
    if not head or not key or _has_verb(head.group("label")) or len(clause[head.end():key.start()].split()) < 2:
        return None  # "Laboratory: extension 2150" is the labelled form's
    return _tidy(f"What is the {key.group('key').lower()} of {head.group('label').strip()}")


def appositive(clause: str, target: str, phrase: str) -> str | None:
    """"Day-to-day intake is run by the Intake Coordinator, Jonah Mbeki" -> "Who is the Intake Coordinator?"."""
    if phrase not in ("who", "what number"):
        return None
    key = re.search(r"(?:\bthe\s+)?(?P<np>\b[A-Z][\w'-]*(?: [\w'-]+){0,4}?|\bthe [\w' -]{3,40}?),?\s+(?:\(|can be reached on\s+|on\s+)"
                    r"(?P<key>extension|ext\.?|room|tel\.?|phone)\s+" + re.escape(target) + r"\b\)?", clause)
    if key and phrase == "what number":  # "the Records team (extension 630)" -> "What is the extension of the Records team?"
        np = re.sub(r"^the\s+", "", key.group("np"), flags=re.I)
        name = key.group("key").rstrip(".")
        name = "extension" if name == "ext" else name
        if re.fullmatch(r"(?:(?:Dr|Mr|Mrs|Ms)\.\s)?[A-Z][a-z'-]+ [A-Z][a-z'-]+", np):  # a person: "Walter Ng's extension"
            return _tidy(f"What is {np}'s {name}")
        return _tidy(f"What is the {name} of the {np}")
    match = re.search(r"\b[Tt]he\s+(?P<np>[A-Za-z][\w' -]{2,50}?),\s+(?:currently\s+)?(?:[Rr]oom\s+)?" + re.escape(target) + r"\b", clause)
    np = re.split(r"\b[Tt]he\s+", match.group("np"))[-1] if match else ""
    if not match or not re.search(r"[A-Za-z]{3,}", np) or len(np.split()) > 7:
        return None
    if phrase == "who":
        return _tidy(f"Who is the {np}")
    if not re.search(r"\b(line|number|phone|hotline|desk|extension|pager)$", np):
        return None  # "the Calder Building, 51 Wharf Lane" is an address, not a number to call
    return _tidy(f"What is the number of the {np}")


def record_field(sentence: str, target: str) -> tuple[list[str], list[str], int] | None:
    """(keys, values, index of the field holding ``target``) of a table row / CSV record
    "week_starting: 2026-02-02; on_call_physician: Dr. A; ..."; None for other sentences or the row's key."""
    fields = _record_fields(sentence)
    if not fields:
        return None
    keys, values = fields
    hit = next((i for i, v in enumerate(values) if target in v), None)
    return (keys, values, hit) if hit else None


def _record_fields(sentence: str) -> tuple[list[str], list[str]] | None:
    """(keys, values) of a record line with three or more "key: value" fields, else None."""
    fields = [f.split(":", 1) for f in sentence.rstrip(". ").split(";")]
    if len(fields) < 3 or not all(len(f) == 2 for f in fields):
        return None
    return [k.strip().replace("_", " ") for k, _ in fields], [v.strip() for _, v in fields]


def record_targets(sentence: str) -> list[str]:
    """The values a record line teaches: every short field but the row's key (the whole cell, so a
    "Meaning" column is asked about as well as an "Acknowledge within" one)."""
    fields = _record_fields(sentence)
    return [v for v in fields[1][1:] if v and len(v.split()) <= 8] if fields else []


def record_row(keys: list[str], values: list[str]) -> str:
    """How a question names a record's row: "the week starting 2026-02-02", "severity SEV1"."""
    key = keys[0] if keys[0].isupper() else keys[0].lower()
    return f"the {key} {values[0]}" if values[0][:1].isdigit() else f"{key} {values[0]}"


def record_key(key: str) -> str:
    return key if key.isupper() else key[0].lower() + key[1:]


def column_kind(key: str) -> str:
    """How a column's name reads with its value: "every" ("Status update every"), "preposition"
    ("Acknowledge within") or "noun" ("Meaning")."""
    words = key.split()
    if words[0].lower() in ("who", "what", "which", "when", "where", "how"):
        return "question"  # "Who may issue": the column's name is itself the question
    if words[-1].lower() == "every" and len(words) > 1:
        return "every"
    return "preposition" if words[-1].lower() in PREPS else "noun"


def record_questions(sentence: str, target: str) -> list[str]:
    """The questions about one cell of a table row: "For membership Swim Only, what is the monthly
    price?" and, where the row is named by a name, as a person asks it: "What is the monthly price of
    the Swim Only membership?"."""
    found = record_field(sentence, target)
    if not found or found[1][found[2]] != target:
        return []  # not a table row, or the value is part of a longer cell: the column does not ask for it alone
    keys, values, hit = found
    phrase = question_phrase(values[hit], target)
    key = record_key(keys[hit])
    first = _record_question(record_row(keys, values), key, values[hit], phrase)
    if not first:
        return []
    name = re.sub(r"\s*\([^)]*\)", "", values[0]).strip()
    if priced_column(key, values[hit]) and not keys[0].isupper():  # "How much does the Standard consultation cost for a cat?"
        return [first, _tidy(f"How much does the {name} cost for {a_or_an(key.lower())}")]
    if column_kind(key) != "noun" or keys[0].isupper() or len(keys[0].split()) > 2 or re.search(r"\d", name) or not re.fullmatch(r"[A-Z][\w'’-]*(?: (?:(?:to|and|of|on) )?[A-Z][\w'’-]*){0,4}", name):
        return [first]
    return [first, _tidy(f"{_record_wh(key, phrase)} is the {key} of the {name} {keys[0].lower()}")]


def priced_column(key: str, value: str) -> bool:
    """A column of prices named by what they are for ("Dog", "Cat", "Adult"), not by the price itself ("Fee")."""
    return bool(re.match(r"[£$€]\s?\d", value)) and not _PRICE_WORD.search(key) and len(key.split()) <= 2


_PRICE_WORD = re.compile(r"\b(price|fee|cost|rate|charge|concession|fare|single|return|amount|deposit|total|discount|retainer|"
                         r"fine|levy|tariff|pay|salary|budget|rent|payment|subscription|surcharge|bill|wage|premium)s?\b", re.I)


def a_or_an(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _record_question(row: str, key: str, value: str, phrase: str) -> str | None:
    """"For the week starting 2026-02-02, who is the backup physician?"; a column named by a
    preposition asks with it: "For severity SEV1, acknowledge within how many minutes?"."""
    kind = column_kind(key)
    if kind == "every":
        return _tidy(f"For {row}, how often is the {key.rsplit(' ', 1)[0]}")
    if kind == "preposition":
        return _tidy(f"For {row}, {key} {phrase}") if phrase != "what" else None
    if kind == "question":  # "For storage class Oxidisers, who may issue them?"
        return _tidy(f"For {row}, {key[0].lower() + key[1:]} them")
    if priced_column(key, value):  # a "Cat" column of prices: "For service X, how much is it for a cat?", never "what is the cat?"
        return _tidy(f"For {row}, how much is it for {a_or_an(key.lower())}")
    return _tidy(f"For {row}, {_record_wh(key, phrase)} is the {key}")


def _record_wh(key: str, phrase: str) -> str:
    """A name in a column asks "who" only when the column is a person's role ("backup physician"),
    not for a vessel, a system or a room that happens to be named like one."""
    return "who" if phrase == "who" and _PERSON_COLUMN.search(key) else "what"


_PERSON_COLUMN = re.compile(r"\b(lead|owner|contact|manager|officer|supervisor|coordinator|director|head|chair|person|staff|"
                            r"physician|doctor|nurse|teacher|engineer|lawyer|partner|master|captain|skipper|driver|on-call|"
                            r"primary|secondary|backup|deputy|responsible|approver|who)\b", re.I)


BUILDERS = (fronted_copular, subject_first, passive, do_support, labelled, keyed_value, appositive, fronted, how_often, in_place)


def labelled_line(sentence: str) -> tuple[str, str] | None:
    """"Halvorin (for tension headache): 250 mg every 8 hours, ..." -> ("Halvorin", "for tension headache"):
    a list line whose label names what its values are about."""
    match = re.match(r"^(?P<label>[A-Z][^:;.()]{1,40}?)\s*(?:\((?P<note>[^)]{1,60})\))?\s*:\s+\S", sentence)
    if not match or _has_verb(match.group("label")) or len(match.group("label").split()) > 6:
        return None
    return match.group("label").strip(), (match.group("note") or "").strip()


def line_questions(sentence: str) -> list[str]:
    """Questions about a whole labelled line, asked when no fact of it has a question of its own:
    "What should I know about Halvorin (for tension headache)?", "What does Code Slate mean?"."""
    found = labelled_line(sentence)
    if not found:
        return []
    label, note = found
    if re.match(r"(Please|Do not|Don't|Never|Always)\b", label):
        return []  # "Please collect your washing promptly: ...": an instruction, not a name to ask about
    thing = label + (f" ({note})" if note else "")
    out = [f"What should I know about {thing}?"]
    if re.match(r"^(Code|Level|Stage|Grade|Class|Tier|Type|SEV|Priority)\b", label, re.I):
        out.insert(0, f"What does {label} mean?")
    else:
        out.append(f"What are the rules for {thing}?")
    return out


def question_problem(question: str, sentence: str, target: str, min_shared: int = 2) -> str | None:
    """Why ``question`` is not a usable question about ``target`` of ``sentence``, or None.

    ``min_shared``: words the question must share with the sentence to name its subject (a rule-built
    form keeps the sentence's words; a person's paraphrase, "Who leads the lab?", may share one)."""
    text = question.strip()
    if not text.endswith("?"):
        return "not_a_question"
    words = text.split()
    if len(words) < 4:
        return "too_short"
    if len(words) > MAX_WORDS:
        return "too_long"
    if target.lower() in text.lower():
        return "gives_answer_away"
    if not _balanced(text):
        return "broken_brackets"
    for pattern, reason in _BAD_PATTERNS:
        found = pattern.search(text)
        if found and not (reason == "pronoun_subject" and _writes_as_we(sentence) and _only_you(found.group(0))):
            return reason
    if not _has_verb(text) or not _has_clause(text):
        return "no_verb"
    relative_head = re.split(r"(?<=[A-Za-z])\s(?:that|which|who)\s+(?!(?:" + "|".join(PLURAL_NOUN_HINT) + r")\b)"
                             r"(?=(?:[a-z]{3,}s|is|are|has|have|must|may|can|will)\b)", text, maxsplit=1)
    if len(relative_head) > 1 and not _QUESTION_START.match(text) and first_verb([*relative_head[0].split(), "that"]) is None \
            and not _QUESTION_WORD.search(relative_head[0]):
        return "no_verb"  # "A book of ten singles that costs £38.00 and stays valid for how many months?": a noun phrase
    asked = content_words(text) | _words(text)
    source = content_words(clause_of(sentence, target)) | content_words(sentence) | _words(sentence.replace(target, " "))
    if len(asked & source) < min_shared:
        return "does_not_name_subject"
    if not (_QUESTION_START.match(text) or re.search(r"\b(what|which|who|whom|how many|how much|how long|when|where)\b", text, re.I)):
        return "no_question_word"
    if target[:1].isupper() and " " in target and re.search(r"\b(what|which)\b\s+[A-Z]", text):
        return "question_word_in_name"
    if _elliptical(text):
        return "ellipsis"
    if _dangling_it(text):
        return "dangling_pronoun"
    relative = r"\b(?:who|which)\s+(?=(?:is|are|was|were|must|has|have)\b)"  # "a patient who is discharged" is no second question
    if len(re.findall(r"\b(what|which|who|whom|how)\b", text[:1] + re.sub(relative, "", text[1:]), re.I)) > 1:
        return "two_question_words"  # "From which office is each trip carries ..., which signed out?"
    return None


def _has_clause(question: str) -> bool:
    """A finite verb outside the question phrase ("how many degrees" is no verb) or a past form:
    "A smaller teaching pool kept at how many degrees?" is a noun phrase, "Which clinic opened ...?" a clause."""
    rest = re.sub(r"\b(how many|how much|what|which)\s+(?!(?:is|are|was|were|do|does|did|must|can|should|will|may|has|have)\b)"
                  r"[a-z]+\b", " ", question, flags=re.I)
    return _has_finite_verb(f"Q {rest}") or bool(re.search(r"\b[a-z]{3,}ed\b", rest))  # "Q": the test skips a first word


def _only_you(span: str) -> bool:
    """The pronouns in ``span`` are all "you": the asker addressing a handbook written as "we"."""
    pronouns = re.findall(r"\b(they|it|this|these|those|he|she|we|its|their|his|her|him|our|your|you|ones)\b", span, re.I)
    return bool(pronouns) and all(p.lower() == "you" for p in pronouns)


_QUESTION_WORD = re.compile(r"\b(what|which|who|whom|how|when|where)\b", re.I)


def _dangling_it(question: str) -> bool:
    """An "it" with nothing before it to stand for: "Clients have how many days to sign and return it?"
    (the sentence before said what "it" is; the question does not). "If a check is still open ...,
    Records escalates it" names its check."""
    for match in re.finditer(r"\bit\b", question, re.I):
        if not re.search(r"\b(a|an|the|each|every|any|this|that|which|what|whose)\s+[A-Za-z-]+", question[: match.start()], re.I):
            return True
    return False


def _elliptical(question: str) -> bool:
    """A second clause that leaves its verb to the first (gapping): "Metrics are retained for 13 months,
    traces for how many days?", "..., and on which day each week after 15:00 UTC?", "At how many minutes
    it pages the secondary, at 20 minutes the engineering manager?". Readable to some, but not a question
    a person asks; the source sentence carries the fact in the passages."""
    head, sep, tail = question.rstrip("?").rpartition(", ")  # not the comma of "11,400"
    reach = 4  # words before the question word in a gapped tail ("traces for how many days")
    if not sep and re.search(r"\s+and\s+the\s", question):  # "X may carry 96 and the Y no more than what number?"
        head, sep, tail = question.rstrip("?").rpartition(" and ")
        reach = 6
    tail = re.sub(r"^\s*(and|or|but)\s+", "", tail)
    first = tail.split(" ", 1)[0].lower() if tail.strip() else ""
    if first in PREPS and f", {first} " in head.lower():
        return False  # the last item of a list of phrases: "applies to X, to Y, and to any transaction above how much?"
    if not sep or _has_finite_verb(tail) or re.match(r"\s*(with|including|except|excluding|plus)\b", tail):
        return False  # "..., with p99 latency under 250 ms?" modifies; it leaves no verb out
    if _QUESTION_WORD.search(tail):  # the question word opens the gapped clause: "traces for how many days"
        return not _QUESTION_WORD.search(head) and bool(re.match(rf"\s*(?:\S+\s+){{0,{reach}}}(?:what|which|who|how)\b", tail, re.I))
    return bool(re.search(r"\d", tail)) and len(tail.split()) >= 4 and bool(_QUESTION_WORD.search(head))


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0 and text.count('"') % 2 == 0 and text.count("“") == text.count("”")


def expected_kind(target: str) -> str:
    """The kind of answer a question about ``target`` asks for: time, date, duration, count, person, place, number, thing."""
    phrase = wh_phrase(target)
    if phrase == "what time":
        return "time"
    if phrase == "what date":
        return "date"
    if re.match(r"how many (minutes?|hours?|days?|weeks?|months?|years?|nights?)", phrase) or "business" in phrase:
        return "duration"
    if phrase.startswith("how many") or phrase == "what percentage":
        return "amount"
    if phrase == "who":
        return "person"
    if phrase == "which room":
        return "place"
    if phrase == "what number":
        return "number"
    return "thing"


_KIND_WORDS = {
    "time": r"\b(what time|when|which time|at what time)\b",
    "date": r"\b(when|what date|which date|what day|which year|what year)\b",
    "duration": r"\b(how long|how many (minutes|hours|days|weeks|months|years|nights|business days)|within how|what period|how much time)\b",
    "amount": r"\b(how many|how much|what (dose|amount|percentage|limit|maximum|minimum|level|share|rate))\b",
    "person": r"\b(who|whom|whose|what is the name|which (person|nurse|doctor|pharmacist|manager|lead|staff))\b",
    "place": r"\b(which room|what room|where|which (suite|wing|floor|office|building|lot))\b",
    "number": r"\b(what (is the )?(number|extension|phone|code)|which (number|extension)|how (do|can) i (call|reach|dial))\b",
}


def asks_for(question: str, target: str, sentence: str = "") -> bool:
    """True when the question's words ask for the kind of value ``target`` is (model-worded questions):
    a "how long" question must ask for a duration, and a question about a name or term must not ask
    for a number and must use a word that stands next to it in the sentence."""
    kind = expected_kind(target)
    pattern = _KIND_WORDS.get(kind)
    unit = re.search(r"how many ([a-z°]+)", question, re.I)
    wanted = re.search(r"\d\s*(?:(?:business|working|calendar|consecutive)\s)?([a-z°%]+)\s*$", target, re.I)
    if unit and wanted and _stem(unit.group(1).lower()) != _stem(wanted.group(1).lower()):
        return False  # "how many days" for a value in °C
    if sentence and len(content_words(question) & content_words(clause_of(sentence, target))) < 2:
        return False  # a model question must be about the clause that states the value
    if pattern:
        return bool(re.search(pattern, question, re.I))
    if any(re.search(p, question, re.I) for k, p in _KIND_WORDS.items() if k not in ("person", "place")):
        return False  # asks for a time, count or number; the value is a name or term
    if not re.search(r"\b(what|which|who)\b", question, re.I):
        return False
    if sentence and target in sentence:
        start = sentence.index(target)
        near = " ".join(sentence[:start].split()[-6:] + sentence[start + len(target):].split()[:6])
        return bool(content_words(near) & content_words(question))
    return True


def question_phrase(clause: str, target: str) -> str:
    """The question phrase for ``target`` in ``clause`` ("how many hours" even for "1 hour")."""
    if re.fullmatch(r"(19|20)\d\d", target):
        return "what year"
    phrase = phrase_in(clause, target)
    phrase = re.sub(r"^how many ms$", "how many milliseconds", phrase)
    if re.fullmatch(r"how many [a-z]+[^s]", phrase) and not phrase.endswith(("°c", "%")) \
            and not re.fullmatch(r"how many (ml|mg|kg|km|cm|mm|mol|kb|mb|gb|tb|ms)", phrase):  # "how many ml", not "mls"
        phrase += "s"
    return phrase


_KIND_STOP = set(PREPS) | FUNCTION_WORDS | {"and", "or", "but", "where", "which", "who", "that", "never", "always", "next", "near",
                                        "beside", "behind", "opposite", "only", "also", "then", "now", "here", "there", "once",
                                        "alone", "too", "first", "instead", "again", "today", "tomorrow"}


def _kind_noun(clause: str, target: str) -> str | None:
    """The common noun(s) right after a name, saying what kind of thing it is: "Beacon paging app" ->
    "paging app", "Switchboard console" -> "console"; None when a verb or nothing follows."""
    match = re.search(re.escape(target) + r"\s+([a-z][a-z-]+)(?:\s+([a-z][a-z-]+))?", clause)
    if not match:
        return None
    words = [w for w in match.groups() if w]
    kept = []
    for w in words:
        if w in _KIND_STOP or w in _BASE_VERBS or w in BASE_FORM_VERBS or (re.search(r"(s|ed|ing|ly)$", w) and w not in _KIND_NOUNS):
            break
        kept.append(w)
    return " ".join(kept) or None


_KIND_NOUNS = {"meeting", "paging", "building", "address", "status", "process", "class", "access"}


_NAMED_KIND = re.compile(r"\s(Building|Room|Bank|Hall|Street|Lane|Road|Centre|Center|Hospital|School|Office|Committee|"
                         r"Suite|Wing|Laboratory|Lab|Clinic|Court|Park|House|Tower|Ward|Unit|Library|Gym|Field|Gate|Station|"
                         r"Surgery|Practice|Academy|College|Works|Platform)$")


_NOT_PEOPLE_ONLY = re.compile(r"\b(Room|Wing|Road|Clinic|Ledger|Code|Unit|Office|Team|Desk|Suite|Building|Hall|Centre|Center)\b")
_PLACE_WORDS = r"Lab|Laboratory|Room|Studio|Hall|Gate|Court|Block|Wing|Suite|Bay|Ward|Zone|Bed|Desk|Locker"


_AGE_FOLLOWS = r"(?=\s*(?:[,.;?)]|$|(?:must|may|can|should|will|is|are|who|which|that|travel|pay|get|receive)\b))"


def _number_phrase(clause: str, target: str) -> tuple[str, str, str]:
    """(clause, span asked, question phrase) for a bare number, which "what number" asks badly: "by 12 noon"
    -> "what time", "8 people" -> "how many people", "children under 8 must" -> "under what age"."""
    after = clause[clause.find(target) + len(target):]
    counted = re.match(r"\s+((?:[a-z]+\s+)?(?:[a-z]{3,}s|people|staff|children))\b", after)
    if re.match(r"\s+(noon|midnight)\b", after):
        return clause, target + re.match(r"\s+\w+", after).group(0), "what time"
    if counted and counted.group(1).split()[0] not in FUNCTION_WORDS | set(PREPS) | {"and", "or"}:
        return clause, f"{target} {counted.group(1)}", f"how many {counted.group(1)}"
    if re.fullmatch(r"\d{1,2}", target) and re.search(r"\b(over|under|aged|above|below)\s+" + re.escape(target) + _AGE_FOLLOWS, clause):
        # "Every patient aged over 75 who ..." -> "Every patient over what age who ...?"
        return re.sub(r"\baged\s+(?=(?:over|under|above|below)\s+" + re.escape(target) + ")", "", clause), target, "what age"
    return clause, target, "what number"


def _asking(sentence: str, target: str) -> tuple[str, str, str, str] | None:
    """(clause, the span asked about, its question phrase, the opening phrase moved to the clause's end
    or "") for ``target``, or None when the fact has no one answer ("Which day?" for "Monday to Friday")."""
    clause, moved = _adverbial_last(_addressed(clause_of(sentence, target)), target)
    phrase = question_phrase(clause, target)
    if phrase == "who" and (_NOT_PEOPLE.search(target) or (re.search(r"\b[Tt]he\s+" + re.escape(target), clause)
                                                          and not TITLE_WORD.search(target))):
        phrase = "what"  # "the Grey Heron", "the Lantern Inn": a person's name takes no article; "the Nurse Manager" is a role
    asked = target
    meridiem = re.search(re.escape(target) + r"\s?[ap]\.m\.?", clause)
    if meridiem:  # "12:40 p.m." is asked as a whole ("from what time to ..."), never "what time p.m."
        asked = meridiem.group(0)
    titled = re.search(r"\b(?:Pharmacist|Doctor|Dr\.?|Nurse|Sister|Matron|Professor|Prof\.?|Sergeant|Captain|Councillor|Coach|"
                       r"Chef|Judge|Reverend|Officer|Inspector)\s+" + re.escape(target), clause) if phrase == "who" else None
    if titled:  # "by Pharmacist Lena Vasquez" is asked "by whom", the title with the name
        asked = titled.group(0)
    role = re.search(r"\bthe\s+" + re.escape(target), clause) if phrase in ("who", "what") and TITLE_WORD.search(target) \
        and not _NOT_PEOPLE_ONLY.search(target) else None
    if role:  # "goes to the Intake Partner": the article goes with the role ("To whom does ... go?", never "to the who")
        asked, phrase = role.group(0), "who"
    # "the Quarry Lane car park" is asked "which car park": the kind after a name wins over the kind inside it
    kind = _kind_noun(clause, target) if phrase in ("what", "who") and (target[:1].isupper() or target[:1] in "#@") else None
    named = _NAMED_KIND.search(target) if phrase in ("what", "who") and not kind and not TITLE_WORD.search(target) else None
    if named and len(target.split()) > 1:  # "the Calder Building" is asked as "which building", not "who"
        phrase = f"which {named.group(1).lower()}"
    weekday = re.search(rf"\b(?:{WEEKDAYS}),?\s+" + re.escape(target), clause) \
        if phrase == "what date" else None
    if weekday:  # "from Friday 16 October" is asked "from what date", the day with its date
        asked = weekday.group(0)
        if re.match(rf"\s*(to|until|through|–|-)\s+({WEEKDAYS}|\d)",
                    clause[clause.find(asked) + len(asked):]):
            return None  # "from Saturday 19 September to Sunday 20 September": one end of a range has no one answer
    if phrase == "what number" and asked == target:
        clause, asked, phrase = _number_phrase(clause, target)
    lead_prep = re.match(r"(on|in|at|during) ", phrase)
    held = re.search(rf"\b{lead_prep.group(1)}\s+(?:the\s+)?" + re.escape(target), clause) if lead_prep else None
    if held:  # "on the 6th floor" is asked as a whole: "on which floor"
        asked = held.group(0)
    if kind:  # "the Beacon paging app" -> "which paging app", asked about as one phrase
        asked, phrase = f"{target} {kind}", f"which {kind}"  # its article is dropped below, as for every "which" phrase
    if phrase == "which day" and re.search(re.escape(target) + r"\s*(to|–|-|through)\s+[A-Z]", clause):
        return None  # "staffed Monday to Friday": "Which day?" has no one answer
    if phrase == "which day" and re.search(r"\b(first|second|third|fourth|last|next)\s+" + re.escape(target), clause):
        return None  # "the first Monday of each month": "which day" loses the "first"
    if phrase == "which day" and re.search(re.escape(target) + r"\s+\d", clause):
        return None  # "the Thursday 20:00 training session": the day names a session, it is not the fact
    place = re.match(r"(Studio|Room|Hall|Gate|Court|Block|Wing|Suite|Bay|Pool|Ward|Zone|Car Park)\s+[A-Z0-9]", target) \
        if phrase in ("who", "what") and not TITLE_WORD.search(target) else None  # "the Hall Warden" is a role
    if place:  # "outside Studio Birch" is asked "outside which studio", never "who"
        phrase = f"which {place.group(1).lower()}"
    if re.fullmatch(_PLACE_WORDS, target) and re.search(re.escape(target) + r"\s+[A-Z]?\d", clause):
        return None  # "Lab" of "Lab M212": the code's own question asks for the whole name
    placed = re.search(rf"\b({_PLACE_WORDS})\s+"
                       + re.escape(target) + r"\b", clause) if re.fullmatch(r"[A-Z]?\d+[A-Z]?|[A-Z]\d*", target) else None
    if placed:  # "in Lab M212" is asked "in which lab", never "in what M212"
        asked, phrase = placed.group(0), f"which {placed.group(1).lower()}"
    if phrase.startswith("which") and re.search(r"\b(one|two|three|four|five|six|\d+)\s+" + re.escape(asked), clause):
        return None  # "works one Saturday in four": "which day" would leave the count behind ("work one in four")
    listed = listed_after(clause, asked) if phrase == "which day" else ""
    if listed:  # "on Tuesdays, Wednesdays and Fridays": the days are asked together ("On which days ...?"), never one with the rest left in
        asked, phrase = asked + listed, "which days"
    if re.search(r"\b(?:and|or)\s+(?:the\s+)?" + re.escape(asked), clause):
        return None  # the second of "the Harbour Room or the Linden Room": the first one's question asks for both
    if phrase.startswith("which "):  # "of the Calder Building" -> "of which building", no article left behind
        clause = re.sub(r"\b(the|a|an)\s+(?=" + re.escape(asked) + ")", "", clause, count=1, flags=re.I)
    return clause, asked, phrase, moved


def listed_after(text: str, item: str) -> str:
    """The rest of a short list that ``item`` opens in ``text`` (", Wednesdays and Fridays" after
    "Tuesdays"; " and bank holidays" after "Sundays"), or "" when no such list follows it."""
    at = text.find(item)
    found = re.match(r"(?:,\s+[\w'-]+(?:\s+[\w'-]+){0,2}?)*,?\s+(?:and|or)\s+[\w'-]+(?:\s+[\w'-]+){0,2}?(?=\s*(?:$|[.,;]))",
                     text[at + len(item):]) if at >= 0 else None
    if not found or any(w.lower() in PREPS or w.lower() in AUX + MODALS or re.search(r"\d", w) for w in found.group(0).split()):
        return ""  # "opens at 06:30 and closes at 22:00" is two clauses, no list
    return found.group(0)


_WRITER = re.compile(r"\b(we|our|us|ours)\b", re.I)


_OPENING_ADVERBIAL = re.compile(r"^((?:On|At|In|During|Outside|Throughout|Over)\s+(?:[a-z]+\s+){0,2}?[a-z]+|"
                                r"(?:Each|Every)\s+(?:day|week|month|quarter|year|morning|afternoon|evening|night|term|season|"
                                r"spring|summer|autumn|winter|weekday|weekend)),?\s+"
                                r"(?=(?:the|a|an|we|you|they|all|each|every|[A-Z])\b)(.+)$")


def _adverbial_last(clause: str, target: str) -> tuple[str, str]:
    """(the clause, the phrase moved): a short opening phrase of time or place moved to the end, where a
    question keeps it: "On weekdays the centre opens at 06:30" -> "the centre opens at 06:30 on weekdays"
    (-> "What time does the centre open on weekdays?"). Left where it holds a value or the target."""
    match = _OPENING_ADVERBIAL.match(clause)
    if not match or target in match.group(1) or fact_strings(match.group(1)) or target not in match.group(2):
        return clause, ""
    lead, rest = match.groups()
    moved = f"{lead[0].lower()}{lead[1:]}"
    return f"{rest.rstrip(' .')} {moved}", moved


def _addressed(clause: str) -> str:
    """A handbook that speaks as "we" is asked as "you": "We keep lost property for 28 days" ->
    "you keep lost property for 28 days" (-> "How long do you keep lost property?")."""
    if not _WRITER.search(clause) or re.search(r"\byou(r)?\b", clause, re.I):
        return clause  # "we ask you to ...": the reader is "you" already; the writer cannot be too
    return _WRITER.sub(lambda m: {"we": "you", "our": "your", "us": "you", "ours": "yours"}[m.group(1).lower()], clause)


def _writes_as_we(sentence: str) -> bool:
    return bool(_WRITER.search(sentence))


def questions_for(sentence: str, target: str) -> list[FactQuestion]:
    """Every distinct usable rule-built question about ``target`` in ``sentence``, best form first."""
    out: list[FactQuestion] = []

    def keep(text: str | None, form: str) -> None:
        if text:  # "this policy" said inside the document is "the policy" to someone asking about it
            text = re.sub(r"\b([Tt])(?:his|hese|hose) (?=[a-z]{3,})", lambda m: "The " if m.group(1) == "T" else "the ", text)
        if text and not question_problem(text, sentence, target) and text not in {q.text for q in out}:
            out.append(FactQuestion(text=text, sentence=sentence, target=target, form=form))

    contact = contact_line(sentence)
    if contact:
        for text in contact.questions(target):
            keep(text, "contact")
        for question in list(out):
            for text in reworded(question.text, target):
                keep(text, "reworded")
        return out
    asking = _asking(sentence, target)
    if asking is None:
        return out
    clause, asked, phrase, moved = asking
    value_end = clause.find(asked) + len(asked)
    if clause.count(asked) > 1 or re.match(r"[\d%.,]\d|%", clause[value_end:value_end + 2]):
        return out  # "less 15%, and children aged 5 to 15": the "15" of the range is not the one in "15%"
    records = record_questions(sentence, target)
    if records:
        return [FactQuestion(text=text, sentence=sentence, target=target, form="record_field") for text in records]
    for builder in BUILDERS:
        keep(builder(clause, asked, phrase), builder.__name__)
    end = clause.find(asked)
    # "20 minutes before departure", "£85 per room": what follows the value is part of what is asked
    # ... and "at 3 Ropewalk Lane": a value that runs into a name is part of it
    follows = clause[end + len(asked):] if end >= 0 else ""
    bound = re.match(r"\s*(before|ahead|prior|earlier|per)\b|\s+[A-Z]", follows) or (
        # "consultations at Fenwick | cost £165.00": the sentence's verb follows the value, so the head has none
        (verb := re.match(r"\s*([a-z]+)\b", follows)) and verb.group(1) in _BASE_VERBS | BASE_FORM_VERBS)
    if end >= 0 and not bound:  # fronted forms without what follows the value: closer to how people ask ("How many days
        head = clause[: end + len(asked)]  # are incident channels archived?")
        if moved:  # "on weekdays", moved from the front, qualifies the value
            head += " " + moved
        for builder in (passive, do_support, fronted):
            keep(builder(head, asked, phrase), "short")
    for question in list(out):  # other openings ("How long" / "How many days"; "How much does X cost?" for "X costs how much?")
        for text in reworded(question.text, target):
            keep(text, "reworded")
    return out


_TIME_UNITS = r"minutes|hours|days|weeks|months|years|seconds"


def reworded(question: str, target: str) -> list[str]:
    """The same question with another question phrase a person might use: "How many days are ...?"
    <-> "How long are ...?", "What time does ...?" -> "When does ...?", "In which room ...?" ->
    "Where ...?". A hand-written question may open either way, so training on both generalises."""
    out = []
    unit = re.search(r"\b(second|minute|hour|day|week|month|year)s?\b", wh_phrase(target))
    match = re.match(rf"^(?:(For|Within|After|In) )?[Hh]ow many ({_TIME_UNITS})\b", question)
    if match and not match.group(1) or (match and match.group(1) == "For"):
        out.append("How long" + question[match.end():])
    if re.match(r"^How long\b", question) and unit:
        out.append(f"How many {unit.group(1)}s" + question[len("How long"):])
    if re.match(r"^(What|At what) time\b", question):
        out.append("When" + re.sub(r"^(What|At what) time", "", question))
    match = re.match(r"^(In|At) which (room|building|office|folder|console|channel|suite|wing|floor|foyer|hall|lobby|studio|lab|"
                     r"laboratory|ward|block|yard|car park)\b", question)
    if match:
        out.append("Where" + question[match.end():])
    match = re.match(rf"^Within how many (?:business |working )?(?:{_TIME_UNITS})\s+(?=(must|should|does|do|is|are|will)\b)", question)
    if match:  # a deadline is as often asked "how quickly" / "how soon": "How quickly must every first contact be logged ...?"
        out += ["How quickly " + question[match.end():], "How soon " + question[match.end():]]
    match = re.match(rf"^After how many (?:business |working )?(?:{_TIME_UNITS})\s+(?=(must|should|does|do|is|are|will)\b)", question)
    if match:  # "After how many days does an unsigned letter lapse?" -> "After how long does ...?"
        out.append("After how long " + question[match.end():])
    match = re.match(r"^What is the (extension|phone number|number) of (.+)\?$", question) \
        or re.match(r"^What is (?P<who>[A-Z][\w.'’ -]+?)'s (?P<what>extension|phone number|number)\?$", question)
    if match:  # "What is the extension of the Records team?" / "What is Walter Ng's extension?" -> "Which extension reaches ...?"
        what, who = (match.group(1), match.group(2)) if question.startswith("What is the ") else (match.group("what"), match.group("who"))
        out.append(f"Which {what} reaches {who}?")
    match = re.match(r"^(?P<subject>[A-Z][^,?]{3,60}?) (?P<verb>costs?) how much(?P<rest>(?: (?:for|per|each|a) [^,?]+)?)\?$", question)
    if match and not re.search(r"\b(who|which|that|and|or)\b", match.group("subject")):
        # "A single adult swim costs how much?" -> "How much does a single adult swim cost?"
        aux = "does" if match.group("verb") == "costs" else "do"
        out.append(f"How much {aux} {_subject(match.group('subject'))} cost{match.group('rest')}?")
    match = re.match(r"^By whom (?P<aux>is|are) (?P<subject>[^,?]{3,60}?) (?P<part>[a-z]{3,})(?P<rest>(?: (?:up|out|off|in|on))?)\?$", question)
    active = _active(match.group("part")) if match else None
    if match and active and not re.search(r"\b(who|which|that|and|or|by)\b", match.group("subject")) \
            and (match.group("subject")[:1].islower() or match.group("subject").split()[0] in ("The", "A", "An")
                 or all(w[:1].isupper() for w in match.group("subject").split())):
        # "By whom is the clinic formulary maintained?" -> "Who maintains the clinic formulary?"
        out.append(f"Who {active}{match.group('rest')} {_lower_article(match.group('subject'))}?")
    match = re.match(r"^(?:On which days?|In which month)(?: of the week| each year)? (?P<rest>(?:is|are|does|do|must|will) .+)$", question)
    if match:  # "On which day is the weekly review held?" -> "When is the weekly review held?"
        out.append("When " + match.group("rest"))
    return [q for q in out if q != question]


_IRREGULAR_ACTIVE = {"held": "holds", "kept": "keeps", "run": "runs", "led": "leads", "made": "makes", "sent": "sends", "given": "gives",
                     "paid": "pays", "set": "sets", "read": "reads", "written": "writes", "chaired": "chairs", "taught": "teaches",
                     "bought": "buys", "built": "builds", "done": "does", "shown": "shows", "told": "tells", "sold": "sells"}


def _active(participle: str) -> str | None:
    """The third-person present of a participle when it can be told without a dictionary: "maintained"
    -> "maintains", "held" -> "holds"; None where the base form is unsure ("updated": "updat" or "update")."""
    if participle in _IRREGULAR_ACTIVE:
        return _IRREGULAR_ACTIVE[participle]
    if not participle.endswith("ed"):
        return None
    stem = participle[:-2]
    if re.search(r"([bdgmnprt])\1$", stem):
        stem = stem[:-1]  # "stopped" -> "stop"
        return stem + "s"
    if re.search(r"(sh|ch|ss|x)$", stem):
        return stem + "es"  # "published" -> "publishes"
    if re.search(r"[^aeiou]er$", stem):
        return stem + "s"  # "delivered", "registered"; "stored" ("stor") is left alone
    if re.search(r"(?:[aeiou]{2}[nrlkm]|[aeiou]w|[^aeiou][^aeiou]|[aeiou]y)$", stem) and not re.search(r"(ss|sh|ch|x|z)$", stem):
        return stem + "s"  # maintained, reviewed, checked, collected, signed; not "approv(e)d", "manag(e)d"
    return None


def best_question(sentence: str) -> str | None:
    """The best-formed question about any fact of ``sentence`` (seeds for the baselines), or None."""
    for target in fact_strings(sentence)[:4]:
        found = questions_for(sentence, target)
        if found:
            return found[0].text
    return None


def rejected_forms(sentence: str, target: str) -> dict[str, str]:
    """Builder name -> why its question was refused (for reports and tests)."""
    asking = _asking(sentence, target)
    if asking is None:
        return {}
    clause, asked, phrase, _ = asking
    out = {}
    for builder in BUILDERS:
        text = builder(clause, asked, phrase)
        if text:
            problem = question_problem(text, sentence, target)
            if problem:
                out[builder.__name__] = f"{problem}: {text}"
    return out
