"""English word lists the question rules share: auxiliaries, prepositions, function words, and the
verb and noun hints that tell a finite verb from a plural noun without a parser."""

from __future__ import annotations

AUX = ("is", "are", "was", "were")
MODALS = ("must", "should", "can", "may", "will", "might", "could", "would", "shall")
PREPS = ("at", "on", "in", "within", "for", "after", "before", "by", "until", "from", "to", "every", "between", "under", "over")
FUNCTION_WORDS = set(
    "a an the is are was were be been being has have had of to in on at for by with and or from within into every each per "
    "than as must should can may will which who whom what when where how that it its this there also only no not do does "
    "did i you we they he she me my our your their about any some".split())

# common verbs in their base form, as after a plural subject ("employers pay $200")
BASE_FORM_VERBS = {"pay", "need", "take", "get", "go", "come", "keep", "make", "use", "give", "send", "receive", "reach",
                   "arrive", "require", "provide", "cover", "sign", "book", "call", "decide", "report", "answer", "approve"}

PLURAL_NOUN_HINT = {"patients", "minutes", "hours", "days", "weeks", "months", "years", "nights", "extensions", "rooms",
                    "nurses", "doses", "results", "specimens", "vaccines", "appointments", "is", "has", "was", "this", "its"}

DETERMINERS = {"the", "a", "an", "each", "every", "all", "our", "your", "their", "its", "this", "these", "those", "any", "no"}
SUBORDINATORS = {"how", "that", "which", "who", "whom", "whose", "where", "when", "whether", "if", "because", "while", "unless",
                 "what", "why", "once", "although", "though"}
IRREGULAR_PARTICIPLES = {"held", "kept", "run", "led", "made", "sent", "given", "taken", "seen", "paid", "built", "set", "read",
                         "written", "shown", "known", "done", "met", "sold", "told", "found", "left", "put", "shut", "cut"}
PRONOUN_SUBJECTS = {"we", "you", "they", "i"}
