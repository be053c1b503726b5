"""One subject, two verb phrases: a sentence split into simple clauses, one value each.

"On weekdays the centre opens at 06:30 and closes at 22:00" holds two facts; a question built from
the whole sentence carries the other value ("... opens at 06:30 and closes at what time?"). The
rules find the subject's verb without a parser (word shapes and the word lists of
:mod:`mimir.generate.words`) and give each verb phrase the subject, and the auxiliary it shares.
"""

from __future__ import annotations

import re

from mimir.generate.words import (AUX, BASE_FORM_VERBS, DETERMINERS, FUNCTION_WORDS, IRREGULAR_PARTICIPLES, MODALS,
                                  PLURAL_NOUN_HINT, PREPS, PRONOUN_SUBJECTS, SUBORDINATORS)

_VERB_NEXT = re.compile(r"(?:(?:at|on|in|within|for|after|before|by|until|from|to|every|up|out|a|an|the|no|all|each|about|around|"
                        r"over|under|above|below|beside|near|through|across|into|off|only|one|two|three|four|five|six|seven|"
                        r"eight|nine|ten|twelve)\b|\d|[£$€])")


def split_predicates(clause: str, target: str) -> str | None:
    """The simple clause of ``clause`` that holds ``target`` when one subject has two verb phrases
    ("On weekdays the centre opens at 06:30 and closes at 22:00" -> "On weekdays the centre closes at
    22:00"; "The formulary is kept by the pharmacist and reviewed every April" -> "The formulary is
    reviewed every April") or the second verb is left out ("We keep ordinary items for 28 days and
    valuables for three months" -> "We keep valuables for three months"): each value gets a clause of
    its own, so its question carries no other value. None when ``clause`` is not such a sentence."""
    words = clause.split()
    verb_at = first_verb(words)
    if verb_at is None:
        return None
    subject, end = words[:verb_at], verb_at + 1
    while end < len(words) and words[end] in ("be", "been", "not", "have") and words[verb_at] in AUX + MODALS:
        end += 1  # "must be", "may not": the verb group a second verb phrase shares
    group, tail = words[verb_at:end], words[end:]
    for i, word in enumerate(tail):
        if word != "and" or i == 0 or i + 1 >= len(tail):
            continue
        if any(w.endswith(",") or w.lower() in SUBORDINATORS for w in tail[:i]):
            break  # "sets out how staff, support staff and students keep ...": the "and" is inside a list or a clause
        left, right = " ".join([*subject, *group, *tail[:i]]), tail[i + 1:]
        shared = _second_verb_phrase(group, right)
        if shared is not None:
            second = " ".join([*subject, *shared, *right])
        elif (gapped := _gapped(tail[:i], right)) is not None:
            second = " ".join([*subject, *group, gapped])
        else:
            continue
        if target in second and target not in left:
            return split_predicates(second, target) or second
        if target in left and target not in second:
            return left
    return None


def first_verb(words: list[str]) -> int | None:
    """Index of the finite verb after a subject of one to eight words, or None: an auxiliary or
    modal, a third-person verb ("opens at"), or a base form after "we" or a plural ("lessons run on").
    An -s word followed by such a base form is a plural noun: "Data protection requests from clients go
    to ..." has "go" for its verb."""
    found = _verb_candidates(words)
    auxiliary = next((i for i in found[1:] if words[i] in AUX + MODALS), None)
    if auxiliary is not None and words[found[0]] not in AUX + MODALS \
            and not any(w.lower() in SUBORDINATORS for w in words[found[0]:auxiliary]):
        return auxiliary  # "Status page text is drafted": "page" was a noun ("The courier collects items that are ..." keeps "collects")
    if len(found) > 1 and words[found[0]].endswith("s") and words[found[0]] not in AUX + ("has",) \
            and words[found[1]] not in AUX + MODALS and not words[found[1]].endswith("s") and found[1] > found[0] + 1:
        return found[1]
    return found[0] if found else None


def _verb_candidates(words: list[str]) -> list[int]:
    """Indices of the words that read as a finite verb, up to the first "and" or comma."""
    found: list[int] = []
    for i in range(1, min(len(words) - 1, 12)):
        if words[i - 1].endswith(",") or words[i] == "and":
            break
        word, before, after = words[i], words[i - 1].lower().strip(","), words[i + 1].lower()
        if not word.isalpha() or not word.islower() or before in PREPS or before in DETERMINERS:
            continue  # a name, a value, or a noun after "on" / "the" ("On weekdays the centre opens")
        if found and found[-1] == i - 1:
            continue  # "rotate positions": no verb follows a verb
        third_person = reads_as_third_person(word)
        plural_subject = before in PRONOUN_SUBJECTS or (before.endswith("s") and not before.endswith("ss") and before not in FUNCTION_WORDS)
        base = not word.endswith("s") and word not in FUNCTION_WORDS and plural_subject and not re.search(r"(ing|ed)$", word)
        # a base form right after a short plural subject is its verb ("Lifeguards rotate positions", "All prices include VAT")
        noun_subject = not found and (i == 1 or (i <= 3 and words[i - 1].islower() and all(
            w.lower() in DETERMINERS or (w.isalpha() and w.islower() and w not in FUNCTION_WORDS) for w in words[1:i])))
        if word in AUX + MODALS + ("has", "have") or (third_person or base) and _VERB_NEXT.match(after) \
                or (base and (word in BASE_FORM_VERBS or noun_subject)):
            found.append(i)
    return found




def _second_verb_phrase(group: list[str], words: list[str]) -> list[str] | None:
    """The words a second verb phrase ``words`` takes from the first one's verb ``group``: none when it
    has its own auxiliary or a verb of the same form ("opens ... and closes at"), the auxiliary when it
    goes on with a participle or a base form ("is kept ... and reviewed every", "may book ... and cancel
    up to"); None when ``words`` open no verb phrase."""
    if len(words) < 2 or not words[0].isalpha() or not words[0].islower():
        return None
    first, after = words[0], words[1].lower()
    if first in AUX + MODALS + ("has", "have"):
        return []
    if first in FUNCTION_WORDS or first in DETERMINERS or first in PLURAL_NOUN_HINT or not _VERB_NEXT.match(after):
        return None
    verb = group[-1]
    if verb in ("is", "are", "was", "were", "be", "been"):
        return group if re.fullmatch(r"[a-z]{3,}ed", first) or first in IRREGULAR_PARTICIPLES else None
    if verb in MODALS:
        return group if not first.endswith(("s", "ed")) else None
    if verb.endswith("s") and not verb.endswith("ss"):
        return [] if re.fullmatch(r"[a-z]{3,}(?<!s)s", first) else None
    return [] if not first.endswith("s") or first.endswith("ss") else None




def _gapped(left: list[str], right: list[str]) -> str | None:
    """The right side of a gapped pair ("ordinary items for 28 days and valuables for three months"):
    both a short noun phrase then the same preposition; None otherwise."""
    left_match, right_match = _GAPPED.match(" ".join(left)), _GAPPED.match(" ".join(right))
    if not left_match or not right_match or left_match.group(2) != right_match.group(2):
        return None
    if any(w in PREPS or w in AUX + MODALS for w in right_match.group(1).split()):
        return None
    return " ".join(right)


_GAPPED = re.compile(r"^((?:(?:the|a|an|any|all) )?[a-z][\w-]*(?: [a-z][\w-]*){0,2}) (for|within|after|at|until|in|on|by|to|every) (.+)$")


def reads_as_third_person(word: str) -> bool:
    """A lower-case word that reads as a third-person present verb ("opens", "covers"), not a plural
    the word lists know ("minutes", "patients")."""
    return bool(re.fullmatch(r"[a-z]{3,}(?<!s)s", word)) and word not in PLURAL_NOUN_HINT
