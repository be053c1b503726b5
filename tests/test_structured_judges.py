"""The pairwise judge as a closed choice (1 / 2 / tie) in both orders, combined by balanced position
calibration where the backend gives probabilities."""

from __future__ import annotations

import math
import re

from mimir.evaluate.evalsets import EvalQuestion
from mimir.evaluate.judges.base import make_judge
from mimir.evaluate.judges.llm import balanced
from mimir.evaluate.records import Answer
from mimir.models.scripted import ScriptedModel
from mimir.models.structured import Choice

QUESTIONS = [EvalQuestion(id=f"q{i}", question=f"When does clinic {i} open?", answer="At 07:30.") for i in range(4)]


class ScoringJudge(ScriptedModel):
    """A judge backend with option log-probabilities, like the local one: ``prefs(first, second)``
    returns P(1), P(2), P(tie) for the answers in the order shown."""

    def __init__(self, prefs):
        super().__init__()
        self.prefs = prefs

    def choose(self, conversations, options, **kw):
        out = []
        for conversation in conversations:
            self.choice_calls.append((conversation, list(options)))
            assert conversation[-1] == {"role": "assistant", "content": "Verdict:", "prefill": True}
            user = conversation[1]["content"]
            first = re.search(r"\[Answer 1\]\n(.*?)\n\[End of answer 1\]", user, re.S).group(1)
            second = re.search(r"\[Answer 2\]\n(.*?)\n\[End of answer 2\]", user, re.S).group(1)
            p = dict(zip([" 1", " 2", " tie"], self.prefs(first, second)))
            best = max(p, key=p.get)
            out.append(Choice(option=best, options=list(options), scores={k: math.log(v) for k, v in p.items()}))
        return out


def _answers(side: str, texts: list[str]) -> list[Answer]:
    return [Answer(question_id=q.id, side=side, model=side, text=t) for q, t in zip(QUESTIONS, texts)]


def test_identical_answers_are_ties_even_for_a_position_biased_judge():
    biased = ScoringJudge(lambda first, second: (0.6, 0.3, 0.1))  # always leans to the first position
    same = ["The clinic opens at 07:30."] * 4
    raw = make_judge("llm", model=biased)
    raw.calibrate = False
    out = raw.judge(QUESTIONS, _answers("a", same), _answers("b", same))
    assert all(j.valid and j.winner == "tie" for j in out)  # balanced over both orders
    assert all(j.flipped for j in out)  # uncalibrated, each order's own pick follows the position
    assert out[0].orders[0]["verdict"] == "1" and out[0].orders[0]["probs"]["1"] == 0.6
    assert out[0].meta["balanced"] == {"a": 0.45, "b": 0.45, "tie": 0.1}
    assert len(biased.choice_calls) == 8 and biased.choice_calls[0][1] == [" 1", " 2", " tie"]
    # calibrated against the judge's position prior for the question (each answer against itself): no flips
    calibrated_judge = make_judge("llm", model=ScoringJudge(lambda first, second: (0.6, 0.3, 0.1)))
    out = calibrated_judge.judge(QUESTIONS, _answers("a", same), _answers("b", same))
    assert all(j.winner == "tie" and not j.flipped and j.orders[0]["verdict"] == "tie" for j in out)
    assert out[0].meta["prior"] == {"1": 0.6, "2": 0.3, "tie": 0.1}
    assert len(calibrated_judge.model.choice_calls) == 16  # 4 questions x (2 orders + each answer against itself)
    last = calibrated_judge.model.choice_calls[-1][0][1]["content"]
    assert last.count("The clinic opens at 07:30.") == 2


def test_a_better_answer_wins_through_the_position_bias():
    def prefs(first, second):
        good_first = "07:30" in first
        if good_first == ("07:30" in second):
            return (0.6, 0.3, 0.1)
        return (0.75, 0.2, 0.05) if good_first else (0.45, 0.45, 0.1)  # bias: the better answer shown second only ties

    judge = make_judge("llm", model=ScoringJudge(prefs))
    good, vague = ["It opens at 07:30."] * 4, ["It opens in the morning."] * 4
    out = judge.judge(QUESTIONS, _answers("a", good), _answers("b", vague))
    assert all(j.winner == "a" and not j.flipped for j in out)  # each order, calibrated, prefers the good answer
    assert [o["verdict"] for o in out[0].orders] == ["1", "2"]
    swapped = judge.judge(QUESTIONS, _answers("a", vague), _answers("b", good))
    assert all(j.winner == "b" for j in swapped)


def test_balanced_tie_margin():
    assert balanced({"1": 0.5, "2": 0.45, "tie": 0.05}, {"1": 0.5, "2": 0.45, "tie": 0.05}, 0.1)[0] == "tie"
    assert balanced({"1": 0.9, "2": 0.05, "tie": 0.05}, {"1": 0.1, "2": 0.85, "tie": 0.05}, 0.1)[0] == "a"
    assert balanced({"1": 0.2, "2": 0.2, "tie": 0.6}, {"1": 0.2, "2": 0.2, "tie": 0.6}, 0.0)[0] == "tie"


def test_a_backend_without_probabilities_uses_both_orders_picks():
    # asked in words: order 1 says "1", order 2 says "2" -> both prefer A
    replies = iter(["Verdict: 1", "Verdict: 1", "Verdict: 2", "Verdict: 2"])
    model = ScriptedModel(default=lambda c: next(replies))
    out = make_judge("llm", model=model).judge(QUESTIONS[:2], _answers("a", ["x", "y"]), _answers("b", ["u", "v"]))
    assert [j.winner for j in out] == ["a", "a"] and not any(j.flipped for j in out)
    assert all("balanced" not in j.meta for j in out)
