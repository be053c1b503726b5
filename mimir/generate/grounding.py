"""Extractive grounding of generated dialogues, for generators too small to stay on the facts.

A 135M-parameter generator often copies the data markers, loops, or answers beside the point
(measured on the example handbook: 3 of 3 dialogues rejected by verification). MIMIR's value is
many question/answer turns that restate each fact; so before verification, every turn that does
not do its job is replaced deterministically:

- an expert answer that restates none of its focus sentence's fact strings (or leaks data
  markers, loops, or runs long) becomes the focus sentence, in one of several answer forms;
- an expert answer that does restate them ends with the sentence that completes them (the
  small model's trailing ramble goes);
- an asker question that fails :func:`mimir.generate.questions.question_problem` (a fragment, a
  cloze remnant, one that gives the answer away or names no subject) becomes a rule-built question
  about the same fact; with none, the exchange (question and answer) is dropped;
- a rambling peer turn becomes a short acknowledgement.

Every replacement is counted in ``Dialogue.meta["repairs"]`` so reports can say how much of the
data the model wrote. Verification still runs afterwards on the repaired dialogues.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from mimir.facts.match import contains_fact
from mimir.types import Dialogue, stable_id

ANSWER_MAX_WORDS = 60
QUESTION_MAX_WORDS = 35
CLOSING_MAX_WORDS = 20


# Restatement forms of a replaced answer. Every exposure of a fact in the same words teaches the
# words, not the fact; the direct answer first, then its sentence, is also how the eval asks.
ANSWER_FORMS = ("{sentence}", "{facts}. {sentence}", "{clause}", "It is {facts}. {sentence}")
_META = re.compile(r"\b(the (exact |key )?data (for|of|is)|reference data|key fact|data block)\b", re.I)


def restate(focus: str, facts: list[str], form: int) -> str:
    """The focus sentence restated in answer form ``form`` (see :data:`ANSWER_FORMS`)."""
    sentence = _clean_sentence(focus)
    clauses = [c for c in re.split(r";\s+", sentence.rstrip(".")) if c.strip()]
    clause = next((c for c in clauses if all(contains_fact(c, f) for f in facts)), sentence)
    template = ANSWER_FORMS[form % len(ANSWER_FORMS)]
    phrase = _fact_phrase(sentence, facts)
    if "{facts}" in template and (not 1 <= len(facts) <= 2 or 2 * len(phrase.split()) > len(sentence.split())):
        # "Monday and 07:30 and 19:00 and Saturday and ..." answers nothing, and a phrase that is
        # half its sentence or more would be said twice (verification rejects that as a loop)
        template = "{sentence}"
    text = template.format(sentence=sentence, facts=phrase, clause=_clean_sentence(clause))
    return text[0].upper() + text[1:]


def _fact_phrase(sentence: str, facts: list[str]) -> str:
    """The facts as the sentence words them when they stand close ("08:00 to 13:00" stays a range)."""
    spans = [(m.start(), m.end()) for f in facts if (m := re.search(re.escape(f), sentence))]
    if len(spans) == len(facts) > 1:
        start, end = min(s for s, _ in spans), max(e for _, e in spans)
        gap = sentence[start:end]
        if len(gap.split()) <= len(" ".join(facts).split()) + 2 and not re.search(r"[;,:.]\s", gap):
            return sentence[start:end]
    return " and ".join(facts)


def _loops(text: str) -> bool:
    """A sentence said twice, or the data block markers the prompt used."""
    if "<<<" in text or ">>>" in text:
        return True
    sentences = [s.strip().lower() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 8]
    return any(n > 1 for n in Counter(sentences).values())


def _clean_sentence(sentence: str) -> str:
    sentence = re.sub(r"\s+", " ", sentence).strip()
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def needed_facts(focus: str, hint: str) -> list[str]:
    """The fact strings an answer must restate: those the asker's cloze blanked (else all)."""
    from mimir.facts.text import fact_strings

    facts = fact_strings(focus)
    blanked = [f for f in facts if not contains_fact(hint, f)] if hint else []
    return blanked or facts


def answer_ok(text: str, focus: str, hint: str = "") -> bool:
    if not text.strip() or _loops(text) or len(text.split()) > ANSWER_MAX_WORDS or _META.search(text):
        return False
    return all(contains_fact(text, f) for f in needed_facts(focus, hint))


def trim_answer(text: str, facts: list[str]) -> str:
    """``text`` up to the sentence that completes ``facts``; what the model added after it goes.

    The 135M generator answers, then rambles ("The extension is 2147. The 2147 is a 2147 (outside
    ..."): the tail states other values beside the question and teaches the tuned model to confuse them.
    """
    parts = [p for p in re.split(r"(?<=[.!?])\s+|\n+", text.strip()) if p.strip()]
    for end in range(1, len(parts) + 1):
        head = " ".join(p.strip() for p in parts[:end])
        if all(contains_fact(head, f) for f in facts):
            return head
    return text


def question_ok(text: str) -> bool:
    return "?" in text and len(text.split()) <= QUESTION_MAX_WORDS and not _loops(text)


def repair_dialogue(dialogue: Dialogue) -> Dialogue:
    """The dialogue with unusable turns replaced (in place); counts go to ``meta["repairs"]``.

    A repaired expert answer that repeats an earlier one ends the dialogue there (the asker has
    run out of focus facts and the rest would only repeat).
    """
    s = dialogue.scenario
    if dialogue.status != "ok" or s is None or not s.focus:
        return dialogue
    hints = s.focus_hints or s.focus
    asker = s.roles[0]
    counts: Counter[str] = Counter()
    seen_expert: set[str] = set()
    drop: set[int] = set()  # exchanges whose question could not be made usable
    for i, turn in enumerate(dialogue.turns):
        if turn.role == "tool" or turn.tool_calls or i in drop:
            continue
        if turn.speaker == s.target_role:
            focus = str(turn.meta.get("focus") or s.focus[0])
            hint = hints[s.focus.index(focus)] if focus in s.focus and len(hints) == len(s.focus) else ""
            facts = needed_facts(focus, hint)
            if answer_ok(turn.content, focus, hint):
                trimmed = trim_answer(turn.content, facts)  # a prefix that keeps the facts stays ok
                if trimmed != turn.content.strip():
                    turn.meta["generated"] = turn.content
                    turn.content = trimmed
                    counts["expert_trimmed"] += 1
                key = turn.content
            else:
                turn.meta["generated"] = turn.content
                form = int(stable_id(dialogue.id, i), 16) % len(ANSWER_FORMS)
                turn.content = restate(focus, facts, form)
                key = f"focus:{focus}"  # two replacements of one focus repeat it, whatever their form
                counts["expert_extractive"] += 1
            if key in seen_expert:
                counts["cut_repeats"] += len(dialogue.turns) - i
                dialogue.turns = dialogue.turns[:i]
                break
            seen_expert.add(key)
        elif turn.speaker == asker and isinstance(turn.meta.get("focus"), int):
            k = min(turn.meta["focus"], len(s.focus) - 1)
            hint = hints[k] if len(hints) == len(s.focus) else ""
            problem = asker_problem(turn.content, s.focus[k], hint)
            if problem:
                turn.meta["generated"], turn.meta["question_problem"] = turn.content, problem
                built = rule_question(s.focus[k], hint, int(stable_id(dialogue.id, i), 16))
                if built:
                    turn.content = built
                    counts["question_rule_built"] += 1
                else:
                    drop.update(_exchange(dialogue, i, s.target_role))
                    counts["question_dropped"] += 1
        elif len(turn.content.split()) > CLOSING_MAX_WORDS or _loops(turn.content) or not turn.content.strip():
            turn.meta["generated"] = turn.content
            turn.content = "Thank you, that helps." if turn.speaker == asker else "Please go on."
            counts["other_short"] += 1
    dialogue.turns = [t for i, t in enumerate(dialogue.turns) if i not in drop]
    while dialogue.turns and (dialogue.turns[-1].speaker != s.target_role or dialogue.turns[-1].tool_calls):
        dialogue.turns.pop()  # a trailing question, remark or unanswered tool call teaches the expert nothing
    dialogue.meta["repairs"] = dict(counts)
    return dialogue


def asker_problem(question: str, focus: str, hint: str) -> str | None:
    """Why an asker turn is no usable training question about its focus fact, or None."""
    from mimir.generate.questions import question_problem

    if not question_ok(question):
        return "not_a_question"
    facts = needed_facts(focus, hint)
    # a generator's own paraphrase may share one word with the sentence ("Who leads the lab?")
    return question_problem(question, focus, facts[0], min_shared=1) if facts else None


def rule_question(focus: str, hint: str, pick: int) -> str:
    """A rule-built question about the fact the asker's turn was for ('' when the sentence has none)."""
    from mimir.generate.questions import questions_for

    facts = needed_facts(focus, hint)
    questions = [q.text for f in facts[:1] for q in questions_for(focus, f)]
    return questions[pick % len(questions)] if questions else ""


def _exchange(dialogue: Dialogue, start: int, target_role: str) -> list[int]:
    """Indices of the question at ``start`` and everything up to and including the expert's answer to it."""
    for j in range(start + 1, len(dialogue.turns)):
        turn = dialogue.turns[j]
        if turn.speaker == target_role and turn.role == "assistant" and not turn.tool_calls:
            return list(range(start, j + 1))
    return list(range(start, len(dialogue.turns)))


def repair_counts(dialogues: list[Dialogue]) -> dict[str, Any]:
    total = Counter()
    for d in dialogues:
        total.update(d.meta.get("repairs", {}))
    turns = sum(1 for d in dialogues for t in d.turns if t.role != "tool")
    return {"turns": turns, **dict(total)}
