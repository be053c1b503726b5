"""Held-out evaluation questions: they must never be copied into training data."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from mimir.errors import InputFileError


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@functools.lru_cache(maxsize=1)
def _scorer():  # type: ignore[no-untyped-def]
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


@dataclass
class Holdout:
    """A set of questions; :meth:`match` finds a near-verbatim copy of one of them."""

    questions: dict[str, str] = field(default_factory=dict)  # normalized text -> original
    threshold: float = 0.9  # ROUGE-L F1 at or above this counts as a copy

    @classmethod
    def load(cls, path: str | Path | None) -> "Holdout":
        """Read ``question`` fields from a JSONL file; an empty path means no held-out set."""
        if not path:
            return cls()
        from mimir.jsonl import read_records

        path = Path(path)
        if not path.is_file():
            raise InputFileError(f"holdout_questions file {path} does not exist")
        questions = {}
        for i, record in enumerate(read_records(path), 1):
            if not isinstance(record.get("question"), str):
                raise InputFileError(f"{path}: record {i} has no string field `question`")
            questions[_norm(record["question"])] = record["question"]
        return cls(questions=questions)

    def __len__(self) -> int:
        return len(self.questions)

    def match(self, text: str) -> str | None:
        """The held-out question that ``text`` copies, if any."""
        if not self.questions or not text.strip():
            return None
        norm = _norm(text)
        if norm in self.questions:
            return self.questions[norm]
        scorer = _scorer()
        for key, original in self.questions.items():
            if key in norm and len(key) > 20:  # the question pasted inside a longer message
                return original
            if scorer.score(key, norm)["rougeL"].fmeasure >= self.threshold:
                return original
        return None
