"""The judge interface and a tiny registry (reference, llm; human results are loaded, not run)."""

from __future__ import annotations

import abc
from typing import Any

from mimir.errors import ConfigError
from mimir.evaluate.evalsets import EvalQuestion
from mimir.evaluate.records import Answer, Judgement


class Judge(abc.ABC):
    """Compares two answers per question; every verdict is from side A's point of view."""

    name: str = "judge"

    @abc.abstractmethod
    def judge(self, questions: list[EvalQuestion], answers_a: list[Answer], answers_b: list[Answer]) -> list[Judgement]:
        """One :class:`Judgement` per question, in question order."""


def check_aligned(questions: list[EvalQuestion], answers_a: list[Answer], answers_b: list[Answer]) -> None:
    if not (len(questions) == len(answers_a) == len(answers_b)):
        raise ValueError(f"{len(questions)} questions but {len(answers_a)} A answers and {len(answers_b)} B answers")
    for q, a, b in zip(questions, answers_a, answers_b):
        if not (q.id == a.question_id == b.question_id):
            raise ValueError(f"answers are not aligned with questions at {q.id!r} ({a.question_id!r}, {b.question_id!r})")


def make_judge(kind: str, **kwargs: Any) -> Judge:
    """``reference`` (needs nothing) or ``llm`` (needs ``model=ChatModel``)."""
    if kind == "reference":
        from mimir.evaluate.judges.reference import ReferenceJudge

        return ReferenceJudge(tie_margin=kwargs.get("tie_margin", 0.0))
    if kind == "llm":
        from mimir.evaluate.judges.llm import PairwiseLLMJudge

        if kwargs.get("model") is None:
            raise ConfigError("the llm judge needs a judge model (--judge-model SPEC)")
        return PairwiseLLMJudge(kwargs["model"], max_new_tokens=kwargs.get("max_new_tokens", 24))
    raise ConfigError(f"unknown judge {kind!r}; choose reference or llm (human verdicts come from the UI)")
