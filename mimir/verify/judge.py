"""The LLM judge: given a dialogue and its sources, is every expert claim supported?

Prompts come from ``mimir/prompts/verify.yaml``. :func:`judge_dialogues` asks in constrained
steps (a closed-choice verdict, then prefilled fields), batched across dialogues, so every verdict
parses; :func:`parse_judgement` still reads the one-JSON-object form strictly (for judges that
return it, and for audits).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from string import Template
from typing import Any

from mimir.errors import MalformedJudgement
from mimir.models.base import ChatModel, GenerationSettings
from mimir.models.structured import continuation, prefill
from mimir.prompts import load_prompts, prompts_file
from mimir.types import Chunk, Dialogue
from mimir.verify.grounding import Unsupported, expert_turn_indices

PROMPTS_FILE = prompts_file("verify")
_FENCE = re.compile(r"^```(?:json)?\s*\n(?P<body>.*)\n```$", re.S)


@dataclass
class TurnAssessment:
    index: int
    supported: bool
    unsupported_claims: list[str] = field(default_factory=list)
    correction: str = ""


@dataclass
class Judgement:
    """What the judge decided about one dialogue (or why it could not)."""

    verdict: str  # keep | fix | reject | failed
    reasons: list[str] = field(default_factory=list)
    turns: list[TurnAssessment] = field(default_factory=list)
    attempts: int = 0
    errors: list[str] = field(default_factory=list)  # one per malformed reply
    last_reply: str = ""

    @property
    def corrections(self) -> dict[int, str]:
        return {t.index: t.correction for t in self.turns if not t.supported and t.correction.strip()}

    @property
    def supported_ratio(self) -> float:
        return sum(t.supported for t in self.turns) / len(self.turns) if self.turns else 0.0


def prompts() -> dict[str, str]:
    return load_prompts("verify")


def build_messages(
    dialogue: Dialogue, chunks: list[Chunk], *, mode: str, flags: list[Unsupported] = (), max_source_chars: int = 3000,
    structured: bool = False,
) -> list[dict[str, str]]:
    """The judge conversation for one dialogue (system + user); ``structured``: the reply form of
    :func:`judge_dialogues` (labelled fields) instead of the JSON object of :func:`parse_judgement`."""
    p = prompts()
    expert = dialogue.scenario.target_role if dialogue.scenario else "assistant"
    verdicts = p["verdicts_fix"] if mode == "fix" else p["verdicts_judge"]
    rubric = Template(p["judge_rubric"]).substitute(expert=expert, verdicts=verdicts.strip())
    sources = "\n\n".join(
        Template(p["source_item"]).substitute(n=n, heading=c.heading or c.source, text=_cut(_chunk_text(c), max_source_chars))
        for n, c in enumerate(chunks, 1)
    ) or p["no_sources"]
    lines = []
    for i, t in enumerate(dialogue.turns):
        note = ""
        if t.tool_calls:
            note = " (calls " + ", ".join(f"{c.name}({json.dumps(c.arguments, ensure_ascii=False)})" for c in t.tool_calls) + ")"
        elif t.role == "tool":
            note = " (tool observation)"
        lines.append(Template(p["turn_item"]).substitute(index=i, speaker=t.speaker, note=note, text=t.content.strip() or "(no text)"))
    flag_text = ""
    if flags:
        items = "\n".join(f"- turn {u.turn}: {u.text} ({u.kind})" for u in flags)
        flag_text = Template(p["flags_block"]).substitute(items=items)
    choices = '"keep" or "fix" or "reject"' if mode == "fix" else '"keep" or "reject"'
    user = Template(p["judge_user_structured" if structured else "judge_user"]).substitute(
        rubric=rubric, sources=sources, expert=expert, dialogue="\n".join(lines), flags=flag_text,
        indices=", ".join(map(str, expert_turn_indices(dialogue))), verdict_choices=choices,
    )
    return [{"role": "system", "content": p["judge_system"].strip()}, {"role": "user", "content": user}]


def parse_judgement(text: str, expert_turns: list[int], mode: str) -> Judgement:
    """Strictly parse and validate a reply; raises :class:`MalformedJudgement` naming the problem."""
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group("body").strip()
    if not body.startswith("{"):
        raise MalformedJudgement("the reply must be a single JSON object starting with '{'")
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise MalformedJudgement(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(data, dict):
        raise MalformedJudgement("the JSON must be an object")
    allowed = ("keep", "fix", "reject") if mode == "fix" else ("keep", "reject")
    verdict = data.get("verdict")
    if verdict not in allowed:
        raise MalformedJudgement(f'"verdict" must be one of {", ".join(allowed)}, got {verdict!r}')
    reasons = data.get("reasons", [])
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise MalformedJudgement('"reasons" must be a list of strings')
    raw_turns = data.get("turns")
    if not isinstance(raw_turns, list):
        raise MalformedJudgement('"turns" must be a list with one object per expert turn')
    turns: dict[int, TurnAssessment] = {}
    for item in raw_turns:
        turns_item = _turn(item, expert_turns)
        if turns_item.index in turns:
            raise MalformedJudgement(f"turn {turns_item.index} is assessed twice")
        turns[turns_item.index] = turns_item
    missing = [i for i in expert_turns if i not in turns]
    if missing:
        raise MalformedJudgement(f"expert turn(s) {', '.join(map(str, missing))} are not assessed")
    unsupported = [t for t in turns.values() if not t.supported]
    if verdict == "keep" and unsupported:
        raise MalformedJudgement(f'verdict "keep" but turn {unsupported[0].index} is marked unsupported')
    if verdict in ("fix", "reject") and not unsupported:
        raise MalformedJudgement(f'verdict "{verdict}" but every turn is marked supported')
    if verdict == "fix":
        lacking = [t.index for t in unsupported if not t.correction.strip()]
        if lacking:
            raise MalformedJudgement(f'verdict "fix" needs a "correction" for turn(s) {", ".join(map(str, lacking))}')
    if verdict != "keep" and not reasons:
        reasons = [f"turn {t.index}: " + ("; ".join(t.unsupported_claims) or "unsupported claim") for t in unsupported]
    return Judgement(verdict=verdict, reasons=reasons, turns=[turns[i] for i in expert_turns])


def _turn(item: Any, expert_turns: list[int]) -> TurnAssessment:
    if not isinstance(item, dict):
        raise MalformedJudgement('each entry of "turns" must be an object')
    index, supported = item.get("index"), item.get("supported")
    if isinstance(index, bool) or not isinstance(index, int):
        raise MalformedJudgement(f'"index" must be an integer turn number, got {index!r}')
    if index not in expert_turns:
        raise MalformedJudgement(f"turn {index} is not an expert turn; assess turns {', '.join(map(str, expert_turns))}")
    if not isinstance(supported, bool):
        raise MalformedJudgement(f'turn {index}: "supported" must be true or false, got {supported!r}')
    claims = item.get("unsupported_claims", [])
    if not isinstance(claims, list) or not all(isinstance(c, str) for c in claims):
        raise MalformedJudgement(f'turn {index}: "unsupported_claims" must be a list of strings')
    correction = item.get("correction", "")
    if not isinstance(correction, str):
        raise MalformedJudgement(f'turn {index}: "correction" must be a string')
    return TurnAssessment(index=index, supported=supported, unsupported_claims=claims, correction=correction)


def judge_dialogues(
    model: ChatModel,
    items: list[tuple[Dialogue, list[Chunk], list[Unsupported]]],
    *,
    mode: str,
    retries: int = 1,
    max_new_tokens: int = 768,
    max_source_chars: int = 3000,
) -> list[Judgement]:
    """Judge a batch of dialogues; result[i] answers items[i].

    The verdict is a closed choice (``model.choose``: scored from token probabilities on the local
    backend, a JSON-schema enum on endpoints), so it always parses; for "fix"/"reject" the
    unsupported turn is a closed choice among the expert turns, then the claim (and for "fix" the
    correction) are prefilled free-text fields. Every step is one batched call over the batch.
    ``retries`` applies where a backend must be asked in words (no constrained decoding)."""
    allowed = ["keep", "fix", "reject"] if mode == "fix" else ["keep", "reject"]
    base = [build_messages(d, c, mode=mode, flags=f, max_source_chars=max_source_chars, structured=True) for d, c, f in items]
    experts = [expert_turn_indices(d) for d, _, _ in items]
    results = [Judgement(verdict="failed") for _ in items]
    opened = ["Verdict:"] * len(items)
    picked = model.choose([b + [prefill(o)] for b, o in zip(base, opened)], [" " + a for a in allowed], retries=retries)
    open_: list[int] = []
    for i, choice in enumerate(picked):
        result = results[i]
        result.attempts += choice.attempts
        if not choice.ok:
            result.errors.append(choice.error or "no verdict")
            result.reasons = [f"judge_failed: no valid verdict after {choice.attempts} replies ({result.errors[-1]})"]
            continue
        result.verdict = choice.option.strip()
        opened[i] += " " + result.verdict
        if result.verdict == "keep":
            result.turns = [TurnAssessment(index=t, supported=True) for t in experts[i]]
        else:
            open_.append(i)
    # which expert turn is unsupported (a closed choice when there is more than one)
    ask = [i for i in open_ if len(experts[i]) > 1]
    if ask:
        turns = model.choose([base[i] + [prefill(opened[i] + "\nUnsupported turn:")] for i in ask],
                             [[f" {t}" for t in experts[i]] for i in ask], retries=retries)
        for i, choice in zip(ask, turns):
            results[i].attempts += choice.attempts
            results[i].turns = [TurnAssessment(index=int(choice.option or experts[i][0]), supported=False)]
            if not choice.ok:
                results[i].errors.append(choice.error or "no turn")
    for i in open_:
        if not results[i].turns and experts[i]:
            results[i].turns = [TurnAssessment(index=experts[i][0], supported=False)]
        if results[i].turns:
            opened[i] += f"\nUnsupported turn: {results[i].turns[0].index}"
    claims = _fields(model, base, opened, open_, "Unsupported claim:", min(64, max_new_tokens), results)
    fixing = []
    for i in open_:
        claim = claims[i].strip().strip('"')
        opened[i] += f"\nUnsupported claim: {claim}"
        if results[i].turns:
            results[i].turns[0].unsupported_claims = [claim] if claim else []
        results[i].reasons = [f"turn {results[i].turns[0].index}: " + (claim or "unsupported claim")] if results[i].turns else [claim or "unsupported claim"]
        if results[i].verdict == "fix":
            fixing.append(i)
    corrections = _fields(model, base, opened, fixing, "Correction:", min(160, max_new_tokens), results)
    for i in fixing:
        correction = corrections[i].strip().strip('"')
        opened[i] += f"\nCorrection: {correction}"
        if not correction or not results[i].turns:
            results[i].verdict = "reject"
            results[i].reasons.append("the judge wrote no correction")
        else:
            results[i].turns[0].correction = correction
    for i in range(len(items)):
        if results[i].verdict != "failed":
            assessed = {t.index for t in results[i].turns}
            results[i].turns += [TurnAssessment(index=t, supported=True) for t in experts[i] if t not in assessed]
            results[i].turns.sort(key=lambda t: t.index)
        results[i].last_reply = opened[i]
    return results


def _fields(model: ChatModel, base: list[list[dict[str, Any]]], opened: list[str], which: list[int], label: str,
            max_new_tokens: int, results: list[Judgement]) -> dict[int, str]:
    """One prefilled free-text field (``label``) for the dialogues in ``which``: its first line."""
    if not which:
        return {}
    settings = GenerationSettings(max_new_tokens=max_new_tokens, temperature=0.0, seed=0, stop=["\n"])
    conversations = [base[i] + [prefill(opened[i] + "\n" + label)] for i in which]
    replies = model.generate(conversations, settings)
    out = {}
    for i, conversation, reply in zip(which, conversations, replies):
        results[i].attempts += 1
        out[i] = continuation(conversation, reply.text).strip().split("\n")[0]
    return out


def _chunk_text(chunk: Chunk) -> str:
    if chunk.kind == "qa" and (chunk.question or chunk.answer):
        return f"Q: {chunk.question}\nA: {chunk.answer}" + (f"\n{chunk.text}" if chunk.text else "")
    return chunk.text


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + " [...]"
