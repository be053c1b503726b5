"""Judges behind one interface: ``judge(questions, answers_a, answers_b) -> list[Judgement]``."""

from mimir.evaluate.judges.base import Judge, make_judge

__all__ = ["Judge", "make_judge"]
