"""Eval sets generated from the knowledge: one question per fact sentence of the chunks.

The reference answer is the fact sentence itself and the key facts are its concrete fact strings
(numbers, times, codes, names), found deterministically. The question is built by the data
recipe's question builders (``style="natural"``: "Within how many hours must a needle-stick injury
be reported?", checked like every training question), written by a chat model (``style="model"``)
or is the sentence with its first fact blanked (``style="cloze"``, no model).
A generated question that gives its own key fact away is dropped and counted.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any, Literal

from mimir.evaluate.evalsets import EvalQuestion
from mimir.facts.match import contains_fact
from mimir.evaluate.prompts import prompt
from mimir.types import Chunk, stable_id

log = logging.getLogger(__name__)


@dataclass
class FactItem:
    chunk: Chunk
    sentence: str
    facts: list[str] = field(default_factory=list)


def fact_items(chunks: list[Chunk], max_facts: int = 2) -> list[FactItem]:
    """Every fact-bearing sentence of the chunks, once (overlapping chunks repeat sentences)."""
    from mimir.facts.text import fact_strings, sentences

    seen: set[str] = set()
    items = []
    for chunk in chunks:
        for sentence in sentences(chunk.text):
            facts = fact_strings(sentence)[:max_facts]
            if not facts or sentence in seen:
                continue
            seen.add(sentence)
            items.append(FactItem(chunk, sentence, facts))
    return items


def questions_from_knowledge(
    chunks: list[Chunk],
    *,
    n: int = 40,
    style: Literal["natural", "model", "cloze"] = "natural",
    model: Any = None,
    seed: int = 0,
) -> tuple[list[EvalQuestion], dict[str, int]]:
    """Up to ``n`` questions spread over the knowledge; returns (questions, counts)."""
    if style == "model" and model is None:
        raise ValueError("style='model' needs a chat model to write the questions")
    if style == "natural":
        return _natural_questions(chunks, n, seed)
    items = fact_items(chunks)
    rng = random.Random(seed)
    rng.shuffle(items)
    items = items[:n]
    counts = {"fact_sentences": len(items), "dropped_leaky": 0, "dropped_malformed": 0}
    if style == "model":
        texts = _model_questions(model, items)
    else:
        items = [FactItem(i.chunk, i.sentence, i.facts[:1]) for i in items]  # the blank is the one key fact
        texts = [_cloze_question(item) for item in items]
    out = []
    for item, text in zip(items, texts):
        text = " ".join(text.split()).strip()
        if not text.endswith("?") or len(text) < 10:
            counts["dropped_malformed"] += 1
            continue
        if any(contains_fact(text, f) for f in item.facts):
            counts["dropped_leaky"] += 1  # the question gives the answer away
            continue
        out.append(EvalQuestion(
            id=stable_id(item.chunk.id, item.sentence, prefix="kq_", length=12), question=text,
            answer=item.sentence, key_facts=item.facts, section=item.chunk.heading, chunk_ids=[item.chunk.id],
            meta={"style": style, "source": item.chunk.source},
        ))
    return out, counts


def _natural_questions(chunks: list[Chunk], n: int, seed: int) -> tuple[list[EvalQuestion], dict[str, int]]:
    """One question per askable fact, worded by the recipe's builders (the same check as training data)."""
    from mimir.generate.recipe import RecipeConfig, RecipeReport, plan_facts

    report = RecipeReport()
    plans = [p for p in plan_facts(chunks, RecipeConfig(), report) if p.train]
    random.Random(seed).shuffle(plans)
    out = [EvalQuestion(id=stable_id(p.chunk.id, p.sentence, p.target, prefix="kq_", length=12), question=p.train[0],
                        answer=p.sentence, key_facts=[p.target], section=p.chunk.heading, chunk_ids=[p.chunk.id],
                        meta={"style": "natural", "source": p.chunk.source}) for p in plans[:n]]
    return out, {"facts": report.facts, "askable": len(plans), "questions": len(out)}


def _cloze_question(item: FactItem) -> str:
    blanked = item.sentence.replace(item.facts[0], "___", 1).rstrip(".")
    where = item.chunk.heading or item.chunk.source
    return f"In {where}, what fills the blank: \"{blanked}\"?"


def _model_questions(model: Any, items: list[FactItem]) -> list[str]:
    from mimir.models.base import GenerationSettings

    conversations = [
        [{"role": "system", "content": prompt("question_system")},
         {"role": "user", "content": prompt("question_user").format(heading=i.chunk.heading or i.chunk.source, sentence=i.sentence)}]
        for i in items
    ]
    replies = model.generate(conversations, GenerationSettings(max_new_tokens=48, temperature=0.0))
    return [r.text.strip().splitlines()[0] if r.text.strip() else "" for r in replies]
