"""Win / tie / loss statistics with bootstrap 95% confidence intervals."""

from __future__ import annotations

import random
from typing import Any

from mimir.evaluate.records import Answer, Judgement

_POINTS = {"a": 1.0, "tie": 0.5, "b": 0.0}


def _ci(values: list[float], stat, n_boot: int, rng: random.Random) -> list[float]:
    """Percentile bootstrap over questions."""
    n = len(values)
    draws = sorted(stat([values[rng.randrange(n)] for _ in range(n)]) for _ in range(n_boot))
    lo, hi = draws[int(0.025 * (n_boot - 1))], draws[int(round(0.975 * (n_boot - 1)))]
    return [round(lo, 4), round(hi, 4)]


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def mean_with_ci(values: list[float], n_boot: int = 2000, seed: int = 0) -> tuple[float, list[float]]:
    """The mean of per-question scores and its percentile-bootstrap 95% interval."""
    if not values:
        raise ValueError("no scores to average")
    return _mean(values), _ci(values, _mean, n_boot, random.Random(seed))


def summarize(
    judgements: list[Judgement],
    answers_a: list[Answer] | None = None,
    answers_b: list[Answer] | None = None,
    *,
    questions: list[Any] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Everything the table and chart show, for one judge's judgements (from A's side).

    With ``questions`` (and both answer lists), ties where neither answer states any key fact are
    counted as ``both_wrong_ties``: win-or-equal counts them as success, so a pair of models that
    both know nothing scores 100%; ``decided_win_rate`` (wins over wins + losses) leaves ties out."""
    judges = {j.judge for j in judgements}
    if len(judges) > 1:
        raise ValueError(f"summarize one judge at a time, got {sorted(judges)}")
    valid = [j for j in judgements if j.valid]
    out: dict[str, Any] = {
        "judge": next(iter(judges), ""),
        "n": len(valid),
        "invalid": len(judgements) - len(valid),
    }
    wins = sum(j.winner == "a" for j in valid)
    ties = sum(j.winner == "tie" for j in valid)
    losses = sum(j.winner == "b" for j in valid)
    out.update(wins=wins, ties=ties, losses=losses)
    if valid:
        rng = random.Random(seed)
        woe = [1.0 if j.winner != "b" else 0.0 for j in valid]
        points = [_POINTS[j.winner] for j in valid]
        out["win_or_equal"] = round(_mean(woe), 4)
        out["win_or_equal_ci"] = _ci(woe, _mean, n_boot, rng)
        out["win_rate"] = round(_mean(points), 4)  # ties count half
        out["win_rate_ci"] = _ci(points, _mean, n_boot, rng)
        out["tie_rate"] = round(ties / len(valid), 4)
        decided = [1.0 if j.winner == "a" else 0.0 for j in valid if j.winner != "tie"]
        out["decided_win_rate"] = round(_mean(decided), 4) if decided else None
        out["decided_win_rate_ci"] = _ci(decided, _mean, n_boot, rng) if decided else None
    else:
        out.update(win_or_equal=None, win_or_equal_ci=None, win_rate=None, win_rate_ci=None, tie_rate=None,
                   decided_win_rate=None, decided_win_rate_ci=None)
    if questions is not None and answers_a and answers_b:
        out["both_wrong_ties"] = _both_wrong_ties(valid, questions, answers_a, answers_b)
    if any(len(j.orders) == 2 for j in valid):
        out["position_flip_rate"] = round(sum(j.flipped for j in valid) / len(valid), 4)
    scored = [j for j in valid if j.score_a is not None and j.score_b is not None]
    if scored:
        out["mean_score_a"] = round(_mean([j.score_a for j in scored]), 4)  # type: ignore[misc]
        out["mean_score_b"] = round(_mean([j.score_b for j in scored]), 4)  # type: ignore[misc]
    if answers_a:
        out["mean_length_a"] = round(_mean([len(a.text.split()) for a in answers_a]), 1)
    if answers_b:
        out["mean_length_b"] = round(_mean([len(b.text.split()) for b in answers_b]), 1)
    return out


def _both_wrong_ties(valid: list[Judgement], questions: list[Any], answers_a: list[Answer], answers_b: list[Answer]) -> int:
    from mimir.evaluate.judges.reference import fact_recall

    by_id = {q.id: (q, a, b) for q, a, b in zip(questions, answers_a, answers_b)}
    count = 0
    for j in valid:
        q, a, b = by_id.get(j.question_id, (None, None, None))
        if j.winner == "tie" and q is not None and q.key_facts:
            count += fact_recall(a.text, q.key_facts) == 0 and fact_recall(b.text, q.key_facts) == 0
    return count


def format_summary(s: dict[str, Any], label_a: str = "A", label_b: str = "B") -> str:
    """One readable line per judge."""
    if s.get("win_or_equal") is None:
        return f"{s['judge']}: no valid judgements ({s['invalid']} invalid)"
    lo, hi = s["win_or_equal_ci"]
    line = (f"{s['judge']}: {label_a} vs {label_b}  W/T/L {s['wins']}/{s['ties']}/{s['losses']}  "
            f"win-or-equal {s['win_or_equal']:.0%} [{lo:.0%}, {hi:.0%}]  win rate {s['win_rate']:.0%}")
    if s.get("decided_win_rate") is not None:
        line += f"  decided {s['decided_win_rate']:.0%}"
    if s.get("both_wrong_ties"):
        line += f"  both-wrong ties {s['both_wrong_ties']}"
    if "position_flip_rate" in s:
        line += f"  position flips {s['position_flip_rate']:.0%}"
    if s.get("invalid"):
        line += f"  invalid {s['invalid']}"
    return line
