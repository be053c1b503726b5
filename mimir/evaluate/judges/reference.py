"""Deterministic reference judge: each answer scores the share of key facts it states.

Objective and model-free, so it also works where the only available models are tiny. Without
key facts it falls back to token F1 against the reference answer.
"""

from __future__ import annotations

from collections import Counter

from mimir.errors import InputFileError
from mimir.evaluate.evalsets import EvalQuestion
from mimir.evaluate.judges.base import Judge, check_aligned
from mimir.facts.match import contains_fact, normalize
from mimir.evaluate.records import Answer, Judgement


def fact_recall(answer: str, facts: list[str]) -> float:
    """Share of ``facts`` that ``answer`` states (0..1)."""
    if not facts:
        raise ValueError("fact_recall needs at least one key fact")
    return sum(contains_fact(answer, f) for f in facts) / len(facts)


def token_f1(answer: str, reference: str) -> float:
    a, r = Counter(normalize(answer)), Counter(normalize(reference))
    overlap = sum((a & r).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(a.values()), overlap / sum(r.values())
    return 2 * precision * recall / (precision + recall)


def score_answer(question: EvalQuestion, answer: str) -> float:
    if question.key_facts:
        return fact_recall(answer, question.key_facts)
    if question.answer:
        return token_f1(answer, question.answer)
    raise InputFileError(f"question {question.id!r} has neither key facts nor a reference answer; the reference judge cannot score it")


class ReferenceJudge(Judge):
    name = "reference"

    def __init__(self, tie_margin: float = 0.0) -> None:
        self.tie_margin = tie_margin

    def judge(self, questions: list[EvalQuestion], answers_a: list[Answer], answers_b: list[Answer]) -> list[Judgement]:
        check_aligned(questions, answers_a, answers_b)
        out = []
        for q, a, b in zip(questions, answers_a, answers_b):
            sa, sb = score_answer(q, a.text), score_answer(q, b.text)
            winner = "tie" if abs(sa - sb) <= self.tie_margin + 1e-12 else ("a" if sa > sb else "b")
            metric = "key_fact_recall" if q.key_facts else "token_f1"
            out.append(Judgement(question_id=q.id, judge=self.name, winner=winner, score_a=sa, score_b=sb,
                                 meta={"metric": metric}))
        return out
