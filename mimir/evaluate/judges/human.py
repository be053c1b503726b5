"""Human judging: side-by-side tasks with A/B hidden and shuffled; verdicts as :class:`Judgement`.

The UI shows ``left``/``right`` answers from :func:`make_tasks`, the person picks left, right or
tie, and :func:`record_choice` maps that back to A/B, so human results share the stats of
every other judge.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from mimir.evaluate.evalsets import EvalQuestion
from mimir.evaluate.judges.base import check_aligned
from mimir.evaluate.records import Answer, Judgement
from mimir.types import Record


@dataclass
class HumanTask(Record):
    """One side-by-side comparison as shown to a person (which side is A is hidden)."""

    question_id: str
    question: str
    left: str
    right: str
    left_is_a: bool  # kept server-side; never shown


def make_tasks(questions: list[EvalQuestion], answers_a: list[Answer], answers_b: list[Answer], seed: int = 0) -> list[HumanTask]:
    """Tasks in shuffled question order, with A on a random side each time."""
    check_aligned(questions, answers_a, answers_b)
    rng = random.Random(seed)
    tasks = []
    for q, a, b in zip(questions, answers_a, answers_b):
        left_is_a = rng.random() < 0.5
        left, right = (a.text, b.text) if left_is_a else (b.text, a.text)
        tasks.append(HumanTask(question_id=q.id, question=q.question, left=left, right=right, left_is_a=left_is_a))
    rng.shuffle(tasks)
    return tasks


def record_choice(task: HumanTask, choice: str, annotator: str = "") -> Judgement:
    """A person's ``left`` / ``right`` / ``tie`` as a judgement from A's side."""
    if choice not in ("left", "right", "tie"):
        raise ValueError(f"human choice must be left, right or tie, not {choice!r}")
    if choice == "tie":
        winner = "tie"
    else:
        winner = "a" if (choice == "left") == task.left_is_a else "b"
    return Judgement(
        question_id=task.question_id, judge="human", winner=winner,
        orders=[{"first": "a" if task.left_is_a else "b", "verdict": choice}],
        meta={"annotator": annotator} if annotator else {},
    )
