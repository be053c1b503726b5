"""Closed-book answering: a model answers every eval question, batched, with no retrieved context."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mimir.evaluate.evalsets import EvalQuestion
from mimir.evaluate.prompts import prompt
from mimir.evaluate.records import Answer

log = logging.getLogger(__name__)


def answer_conversation(question: EvalQuestion, system: str | None = None) -> list[dict[str, Any]]:
    """The closed-book prompt: a system message and the question; nothing retrieved.
    ``system`` None is the default answering prompt; "" asks in a plain chat with no system message."""
    user = {"role": "user", "content": question.question}
    if system == "":
        return [user]
    return [{"role": "system", "content": system if system is not None else prompt("answer_system")}, user]


def answer_questions(
    model: Any,
    questions: list[EvalQuestion],
    *,
    side: str,
    max_new_tokens: int = 96,
    system: str | None = None,
    cache: str | Path | None = None,
) -> list[Answer]:
    """Answers of ``model`` in question order. With ``cache`` (JSONL), finished answers are
    reused and new ones appended, so an interrupted evaluation resumes."""
    from mimir.jsonl import JsonlWriter, read_records
    from mimir.models.base import GenerationSettings

    name = getattr(model, "name", "model")
    done: dict[str, Answer] = {}
    if cache is not None:
        for r in read_records(cache):
            a = Answer.from_dict(r)
            if a.model == name:  # answers of another model in the same folder are stale
                done[a.question_id] = a
    todo = [q for q in questions if q.id not in done]
    if todo:
        settings = GenerationSettings(max_new_tokens=max_new_tokens, temperature=0.0)
        log.info("answering %d questions with %s", len(todo), name)
        replies = model.generate([answer_conversation(q, system) for q in todo], settings)
        if len(replies) != len(todo):
            raise RuntimeError(f"{name} returned {len(replies)} replies for {len(todo)} questions")
        fresh = [
            Answer(question_id=q.id, side=side, model=name, text=r.text.strip(),
                   completion_tokens=r.completion_tokens, finish_reason=r.finish_reason)
            for q, r in zip(todo, replies)
        ]
        if cache is not None:
            with JsonlWriter(cache) as writer:
                writer.write_all(a.to_dict() for a in fresh)
        done.update((a.question_id, a) for a in fresh)
    return [done[q.id] for q in questions]
