"""The grounding check: every number, date, time, code and name an expert states must be found
in the dialogue's source chunks, in a tool observation it has already seen, or in what the other
speakers said before it. Anything else is flagged as ungrounded.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field
from typing import Any, Iterable

from mimir.types import Chunk, Dialogue
from mimir.facts.entities import Fact, extract_facts
from mimir.verify.names import extract_names, stem, word_stems


class Evidence:
    """Normalised facts from trusted text, grown turn by turn."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self.numbers: set[float] = set()  # every number, with or without a unit
        self.bare_numbers: set[float] = set()  # numbers written without a unit
        self.quantities: set[tuple[str, float]] = set()
        self.times: set[int] = set()
        self.dates: set[tuple[int, int]] = set()
        self.weekdays: set[int] = set()
        self.months: set[int] = set()
        self.codes: set[str] = set()
        self.words: set[str] = set()
        self.anchored: dict[tuple[str, str], set[float]] = {}
        for text in texts:
            self.add(text)

    def add(self, text: str) -> None:
        if not text:
            return
        for f in extract_facts(text):
            k = f.keys
            if f.kind == "number":
                self.numbers.update(k)
                self.bare_numbers.update(k)
                for anchor in ([f.anchor] if f.anchor else []) + list(f.also):
                    self.anchored.setdefault(anchor, set()).update(k)
            elif f.kind == "unitnum":
                self.numbers.update(k)
            elif f.kind == "quantity":
                self.quantities.update(k)
            elif f.kind == "time":
                self.times.update(k)
            elif f.kind == "date":
                self.dates.update(k)
                self.months.update(mo for mo, _ in k)
                self.numbers.update(float(d) for _, d in k)
            elif f.kind == "weekday":
                self.weekdays.update(k)
            elif f.kind == "month":
                self.months.update(k)
            elif f.kind == "code":
                self.codes.update(k)
        self.words |= word_stems(text)

    def supports(self, fact: Fact) -> bool:
        kind, keys = fact.kind, fact.keys
        if kind == "number":
            # "3 doses" is contradicted by sources that only ever say "two doses"
            if fact.anchor is not None and fact.anchor in self.anchored:
                return any(k in self.anchored[fact.anchor] for k in keys)
            return any(k in self.numbers for k in keys)
        if kind == "quantity":
            # same amount in any unit of the dimension, or the bare number written without a unit
            return any(k in self.quantities for k in keys) or fact.value in self.bare_numbers
        if kind == "time":
            return any(k in self.times for k in keys)
        if kind == "date":
            return any(k in self.dates for k in keys)
        if kind == "weekday":
            return any(k in self.weekdays for k in keys)
        if kind == "month":
            return any(k in self.months for k in keys)
        if kind == "code":
            return any(k in self.codes or k in self.words for k in keys)
        if kind == "name":
            return any(k in self.words for k in keys)
        raise ValueError(f"unknown fact kind {kind!r}")


@dataclass
class Unsupported:
    """One claim found in no trusted text."""

    turn: int
    speaker: str
    kind: str
    text: str
    elsewhere: str = ""  # a document of the knowledge base that does state it (not one of the dialogue's sources)

    def reason(self) -> str:
        if self.elsewhere:
            # in the knowledge, but not where this dialogue is about (another row of a table, another
            # section): "ungrounded" would send the user looking for a missing fact that is not missing
            return (f"off_source_{self.kind}: {self.text!r} in turn {self.turn} ({self.speaker}) is in {self.elsewhere} "
                    "but not in this dialogue's sources (another row or section)")
        return f"ungrounded_{self.kind}: {self.text!r} in turn {self.turn} ({self.speaker})"


def locate_elsewhere(unsupported: list[Unsupported], texts: list[tuple[str, str]]) -> None:
    """Name, for each unsupported claim, a knowledge document that states it anyway (``texts``:
    each chunk's source and lower-cased text)."""
    for u in unsupported:
        needle = u.text.lower()
        u.elsewhere = next((source for source, text in texts if re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", text)), "")


@dataclass
class GroundingResult:
    claims: int = 0
    unsupported: list[Unsupported] = field(default_factory=list)
    checked_turns: list[int] = field(default_factory=list)

    @property
    def score(self) -> float:
        """Fraction of claims that are supported (1.0 when there is nothing to check)."""
        return 1.0 if self.claims == 0 else 1.0 - len(self.unsupported) / self.claims


def expert_turn_indices(dialogue: Dialogue) -> list[int]:
    """The turns the model will be trained to produce: the target role's assistant turns."""
    target = dialogue.scenario.target_role if dialogue.scenario else ""
    return [i for i, t in enumerate(dialogue.turns) if t.role == "assistant" and (not target or t.speaker == target)]


def claims_in(text: str, ignore: set[str] = frozenset()) -> list[Fact]:
    """The checkable claims in one expert text."""
    facts = [f for f in extract_facts(text) if f.claimable]
    return facts + extract_names(text, ignore)


def check_grounding(
    dialogue: Dialogue,
    chunks: list[Chunk],
    *,
    use_other_turns: bool = True,
    check_reasoning: bool = False,
    replacements: dict[int, str] | None = None,
) -> GroundingResult:
    """Check every expert turn of ``dialogue`` against ``chunks`` and earlier observations.

    ``replacements`` (turn index -> text) checks corrected turns in place of the originals.
    """
    replacements = replacements or {}
    scenario = dialogue.scenario
    evidence = Evidence(_chunk_texts(chunks))
    if scenario is not None:
        evidence.add(scenario.seed_question)
        evidence.add(scenario.topic)
    ignore = _ignored_names(dialogue)
    experts = set(expert_turn_indices(dialogue))
    result = GroundingResult()
    for i, turn in enumerate(dialogue.turns):
        text = replacements.get(i, turn.content)
        if i in experts:
            result.checked_turns.append(i)
            texts = [text] + ([turn.reasoning] if check_reasoning and turn.reasoning else [])
            for t in texts:
                for fact in _dedupe(claims_in(t, ignore)):
                    result.claims += 1
                    if not evidence.supports(fact):
                        result.unsupported.append(Unsupported(i, turn.speaker, fact.kind, fact.text.strip()))
        elif turn.role == "tool" or use_other_turns:  # includes other roles' turns (a nurse beside the doctor)
            evidence.add(text)
    return result


def _chunk_texts(chunks: list[Chunk]) -> list[str]:
    out = []
    for c in chunks:
        out.extend(x for x in (c.heading, c.text, c.question, c.answer) if x)
    return out


def _ignored_names(dialogue: Dialogue) -> set[str]:
    """Speaker, role and tool names are part of the set-up, not claims."""
    names: set[str] = {"tool"}
    if dialogue.scenario is not None:
        for r in [*dialogue.scenario.roles, dialogue.scenario.target_role, *dialogue.scenario.tools]:
            names |= word_stems(r.replace("_", " "))
            names.add(stem(r))
    for t in dialogue.turns:
        names |= word_stems(t.speaker.replace("_", " "))
        for call in t.tool_calls:
            names |= word_stems(call.name.replace("_", " "))
    return names


def _dedupe(facts: list[Fact]) -> list[Fact]:
    """Count a repeated claim once per turn."""
    seen: set[tuple[str, Any]] = set()
    out = []
    for f in facts:
        key = (f.kind, f.keys)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
