"""LLM pairwise judge, run in both orders so that position bias cancels out.

Order 1 shows A as "Answer 1"; order 2 shows B as "Answer 1". The verdict of each order is a
closed choice (1 / 2 / tie) scored from token probabilities where the backend gives them; the
orders are then combined by balanced position calibration. Without probabilities: if the two
runs prefer the same model, that model wins; if they disagree (or both say tie), the question is
a tie. A question where swapping the order changed the preferred model counts as a position flip.
"""

from __future__ import annotations

import re
from typing import Any

from mimir.evaluate.evalsets import EvalQuestion
from mimir.evaluate.judges.base import Judge, check_aligned
from mimir.evaluate.prompts import prompt
from mimir.evaluate.records import Answer, Judgement

_VERDICT = re.compile(r"verdict\s*[:=\-]?\s*\**\s*(answer\s*)?(1|2|tie|one|two)\b", re.I)
_BARE = re.compile(r"^\W*(?:answer\s*)?(1|2|tie)\b", re.I)
# Small judges ignore the format and write prose: "Answer 2 is better."
_PROSE = re.compile(r"answer\s*(1|2)\s+is\s+(?:better|more\s+\w+|the\s+better|best|correct)", re.I)


def parse_verdict(text: str) -> str | None:
    """"1", "2", "tie", or None when the reply names no (or a self-contradicting) verdict."""
    match = _VERDICT.search(text) or _BARE.search(text.strip())
    if match:
        value = match.group(match.lastindex or 0).lower()
        return {"one": "1", "two": "2"}.get(value, value)
    named = {m.group(1) for m in _PROSE.finditer(text)}
    return named.pop() if len(named) == 1 else None


def judge_conversation(question: EvalQuestion, first: str, second: str) -> list[dict[str, Any]]:
    reference = prompt("judge_reference_block").format(reference=question.answer) if question.answer else ""
    user = prompt("judge_user").format(
        rubric=prompt("judge_rubric"), question=question.question, reference_block=reference,
        answer_1=first.strip() or "(empty answer)", answer_2=second.strip() or "(empty answer)",
    )
    return [{"role": "system", "content": prompt("judge_system")}, {"role": "user", "content": user}]


def combine(order1: str | None, order2: str | None) -> tuple[str, bool, bool]:
    """(winner from A's side, flipped, valid) from the raw verdicts of both orders.

    order1 shows A first, order2 shows B first; each raw verdict is "1", "2", "tie" or None.
    """
    if order1 is None or order2 is None:
        return "tie", False, False
    pick1 = {"1": "a", "2": "b", "tie": "tie"}[order1]
    pick2 = {"1": "b", "2": "a", "tie": "tie"}[order2]
    flipped = pick1 != pick2 and "tie" not in (pick1, pick2)
    return (pick1 if pick1 == pick2 else "tie"), flipped, True


OPTIONS = [" 1", " 2", " tie"]


def balanced(probs1: dict[str, float], probs2: dict[str, float], tie_margin: float) -> tuple[str, dict[str, float]]:
    """Winner from A's side by balanced position calibration (Wang et al. 2023, "Large Language
    Models are not Fair Evaluators"): each side's probability averaged over both orders, so a
    preference for a position cancels out; a tie when the sides differ by less than ``tie_margin``
    or "tie" is the likeliest verdict."""
    a = (probs1.get("1", 0.0) + probs2.get("2", 0.0)) / 2
    b = (probs1.get("2", 0.0) + probs2.get("1", 0.0)) / 2
    tie = (probs1.get("tie", 0.0) + probs2.get("tie", 0.0)) / 2
    scores = {"a": round(a, 4), "b": round(b, 4), "tie": round(tie, 4)}
    if tie >= max(a, b) or abs(a - b) < tie_margin:
        return "tie", scores
    return ("a" if a > b else "b"), scores


def calibrated(probs: dict[str, float], prior: dict[str, float]) -> dict[str, float]:
    """Contextual calibration (Zhao et al. 2021): the verdict probabilities divided by the judge's
    position prior for the same question (its verdicts when both sides hold the same answer), renormalised."""
    weights = {k: v / max(prior.get(k, 0.0), 1e-6) for k, v in probs.items()}
    total = sum(weights.values()) or 1.0
    return {k: w / total for k, w in weights.items()}


def order_verdict(probs: dict[str, float], tie_margin: float) -> str:
    """One order's verdict from its (calibrated) probabilities: "tie" when 1 and 2 are within the margin."""
    if probs.get("tie", 0.0) >= max(probs.get("1", 0.0), probs.get("2", 0.0)) or abs(probs.get("1", 0.0) - probs.get("2", 0.0)) < tie_margin:
        return "tie"
    return "1" if probs.get("1", 0.0) > probs.get("2", 0.0) else "2"


class PairwiseLLMJudge(Judge):
    """Asks a chat model which answer is better, in both orders, batched across questions.

    The verdict is a closed choice after a prefilled "Verdict:" (``model.choose``): scored from
    token probabilities on the local backend, a JSON-schema enum on endpoints, so it always parses.
    Where the backend gives probabilities, each order's probabilities are calibrated against the
    judge's position prior for the question (each answer compared with itself: :func:`calibrated`), each order's
    verdict is read with a tie margin, and the two orders are combined by :func:`balanced`;
    otherwise the two orders' picks are combined by :func:`combine`. ``flipped``: the two orders'
    own verdicts named different models.
    """

    def __init__(self, model: Any, *, max_new_tokens: int = 24, tie_margin: float = 0.1, calibrate: bool = True) -> None:
        self.model = model
        self.max_new_tokens = max_new_tokens
        self.tie_margin = tie_margin
        self.calibrate = calibrate
        self.name = "llm"

    def judge(self, questions: list[EvalQuestion], answers_a: list[Answer], answers_b: list[Answer]) -> list[Judgement]:
        from mimir.models.structured import prefill

        check_aligned(questions, answers_a, answers_b)
        conversations = [judge_conversation(q, a.text, b.text) for q, a, b in zip(questions, answers_a, answers_b)]
        conversations += [judge_conversation(q, b.text, a.text) for q, a, b in zip(questions, answers_a, answers_b)]
        choices = self.model.choose([c + [prefill("Verdict:")] for c in conversations], OPTIONS)
        n = len(questions)
        if self.calibrate and all(c.scores for c in choices):  # the prior, where the backend gives probabilities
            # the judge's position preference for this question with real content: each answer
            # compared with itself (any preference there is for a position, not an answer)
            self_pairs = [judge_conversation(q, a.text, a.text) + [prefill("Verdict:")] for q, a in zip(questions, answers_a)]
            self_pairs += [judge_conversation(q, b.text, b.text) + [prefill("Verdict:")] for q, b in zip(questions, answers_b)]
            choices += self.model.choose(self_pairs, OPTIONS)
        out = []
        for i, q in enumerate(questions):
            c1, c2 = choices[i], choices[n + i]
            p1, p2 = ({k.strip(): v for k, v in c.probabilities().items()} for c in (c1, c2))
            meta: dict[str, Any] = {"judge_model": getattr(self.model, "name", "model"), "method": c1.method}
            if p1 and p2 and c1.ok and c2.ok:
                if len(choices) > 2 * n:
                    pa, pb = ({k.strip(): v for k, v in choices[k].probabilities().items()} for k in (2 * n + i, 3 * n + i))
                    prior = {k: (pa.get(k, 0.0) + pb.get(k, 0.0)) / 2 for k in set(pa) | set(pb)}
                    meta["prior"] = {k: round(v, 4) for k, v in prior.items()}
                    p1, p2 = calibrated(p1, prior), calibrated(p2, prior)
                v1, v2 = order_verdict(p1, self.tie_margin), order_verdict(p2, self.tie_margin)
                _, flipped, valid = combine(v1, v2)
                winner, meta["balanced"] = balanced(p1, p2, self.tie_margin)
            else:
                v1 = c1.option.strip() if c1.ok else None
                v2 = c2.option.strip() if c2.ok else None
                winner, flipped, valid = combine(v1, v2)
            out.append(Judgement(
                question_id=q.id, judge=self.name, winner=winner, flipped=flipped, valid=valid,
                orders=[{"first": "a", "verdict": v1, "raw": f"Verdict: {v1}" if v1 else c1.error[:300], "probs": p1},
                        {"first": "b", "verdict": v2, "raw": f"Verdict: {v2}" if v2 else c2.error[:300], "probs": p2}],
                meta=meta,
            ))
        return out
