"""Records of the evaluation stage: one answer per (question, side), one judgement per question.

The human judging UI writes :class:`Judgement` records too (``judge="human"``), so every judge's
results go through the same statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mimir.types import Record

Side = Literal["a", "b"]
Outcome = Literal["a", "b", "tie"]


@dataclass
class Answer(Record):
    """A model's closed-book answer to one eval question."""

    question_id: str
    side: str  # "a" or "b" (or a model label when answers are cached per model)
    model: str
    text: str
    completion_tokens: int = 0
    finish_reason: str = "stop"


@dataclass
class Judgement(Record):
    """One judge's verdict on one question, seen from side A.

    ``orders`` holds the raw per-order verdicts (LLM judge: A shown first, then B shown first);
    ``flipped`` is true when swapping the order changed which model was preferred.
    ``valid`` is false when the judge's output could not be parsed (excluded from the stats).
    """

    question_id: str
    judge: str
    winner: str  # Outcome
    score_a: float | None = None
    score_b: float | None = None
    orders: list[dict[str, Any]] = field(default_factory=list)
    flipped: bool = False
    valid: bool = True
    rationale: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
