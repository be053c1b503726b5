"""One pairwise evaluation: answers of A and B, every judge, stats, JSON report and chart."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimir.evaluate.evalsets import EvalQuestion
from mimir.evaluate.judges.base import Judge
from mimir.evaluate.records import Answer, Judgement
from mimir.evaluate.stats import summarize


@dataclass
class PairwiseResult:
    label_a: str
    label_b: str
    summaries: dict[str, dict[str, Any]]  # judge name -> stats
    judgements: dict[str, list[Judgement]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"label_a": self.label_a, "label_b": self.label_b, "summaries": self.summaries}


def judge_pair(
    questions: list[EvalQuestion],
    answers_a: list[Answer],
    answers_b: list[Answer],
    judges: list[Judge],
    *,
    label_a: str = "A",
    label_b: str = "B",
    out_dir: str | Path | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> PairwiseResult:
    """Run every judge; with ``out_dir`` write judgements JSONL, ``summary.json`` and ``chart.png``.

    Judgements already in ``out_dir`` (from an interrupted run) are reused per judge.
    """
    from mimir.jsonl import JsonlWriter, read_records

    out = Path(out_dir) if out_dir is not None else None
    result = PairwiseResult(label_a, label_b, {})
    for judge in judges:
        cached: list[Judgement] = []
        jpath = out / f"judgements_{judge.name}.jsonl" if out else None
        if jpath is not None and jpath.exists():
            cached = [Judgement.from_dict(r) for r in read_records(jpath)]
        if [j.question_id for j in cached] != [q.id for q in questions]:
            cached = judge.judge(questions, answers_a, answers_b)
            if jpath is not None:
                jpath.parent.mkdir(parents=True, exist_ok=True)
                jpath.unlink(missing_ok=True)
                with JsonlWriter(jpath) as w:
                    w.write_all(j.to_dict() for j in cached)
        result.judgements[judge.name] = cached
        result.summaries[judge.name] = summarize(cached, answers_a, answers_b, questions=questions, n_boot=n_boot, seed=seed)
    if out is not None:
        (out / "summary.json").write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
        from mimir.evaluate.chart import save_chart

        rows = [{**s, "label": f"{label_a} vs {label_b} ({name})"} for name, s in result.summaries.items()]
        if any(r.get("n") for r in rows):
            save_chart(rows, out / "chart.png", title=f"{label_a} vs {label_b}")
    return result
