"""Deterministic filters: each returns reasons ("code: detail") why a dialogue is unfit to train on.

Reason codes (the part before the colon) are what the report counts:
generation_failed, too_few_turns, too_many_turns, no_expert_turn, empty_turn, truncated_turn,
too_long_turn, unknown_speaker, role_mismatch, speaker_order, tool_call_without_observation,
orphan_observation, unknown_tool, format_leak, repetition_loop, repeated_turn, language_mismatch.
"""

from __future__ import annotations

import functools
import re
from collections import Counter

from mimir.types import Dialogue, Turn
from mimir.verify.config import VerifyConfig
from mimir.verify.grounding import expert_turn_indices

# Chat-template tokens or a speaker label at a line start: the model wrote past its own turn.
_TEMPLATE_TOKENS = re.compile(r"<\|im_(?:start|end)\|>|<\|(?:user|assistant|system|eot_id|endoftext)\|>|\[/?INST\]|</?s>")
_DANGLING = re.compile(r"(?:[,:;(\-–—/]|\b(?:the|a|an|and|or|of|to|with|for|in|on|at|by|is|are|your|our|but|because|that))\s*$", re.I)


def check_structure(dialogue: Dialogue, config: VerifyConfig) -> list[str]:
    """Status, turn counts, speakers and roles, tool calls and their observations."""
    if dialogue.status != "ok":
        return [f"generation_failed: {dialogue.error or 'status ' + dialogue.status}"]
    reasons: list[str] = []
    spoken = [t for t in dialogue.turns if t.role != "tool"]
    if len(spoken) < config.min_turns:
        reasons.append(f"too_few_turns: {len(spoken)} < {config.min_turns}")
    if len(spoken) > config.max_turns:
        reasons.append(f"too_many_turns: {len(spoken)} > {config.max_turns}")
    if not expert_turn_indices(dialogue):
        reasons.append("no_expert_turn: the target role never speaks")
    scenario = dialogue.scenario
    roles = set(scenario.roles) | {scenario.target_role} if scenario else set()
    pending: dict[str, int] = {}  # tool call id -> turn index still waiting for its observation
    previous: Turn | None = None
    for i, turn in enumerate(dialogue.turns):
        if turn.role == "tool":
            if turn.tool_call_id not in pending:
                reasons.append(f"orphan_observation: turn {i} answers no open tool call ({turn.tool_call_id or 'no id'})")
            pending.pop(turn.tool_call_id, None)
            continue
        if pending:
            reasons.append(f"tool_call_without_observation: turn {pending[next(iter(pending))]} called a tool, turn {i} spoke before its result")
            pending.clear()
        if scenario is not None and turn.role != "system":
            if turn.speaker not in roles:
                reasons.append(f"unknown_speaker: turn {i} is by {turn.speaker!r}, not one of {sorted(roles)}")
            expert = turn.speaker == scenario.target_role
            if expert != (turn.role == "assistant"):
                reasons.append(f"role_mismatch: turn {i} by {turn.speaker!r} has role {turn.role!r}")
            for call in turn.tool_calls:
                if scenario.tools and call.name not in scenario.tools:
                    reasons.append(f"unknown_tool: turn {i} calls {call.name!r}, offered: {', '.join(scenario.tools)}")
        if previous is not None and previous.speaker == turn.speaker and not previous.tool_calls and turn.role != "system":
            reasons.append(f"speaker_order: turns {i - 1} and {i} are both by {turn.speaker!r}")
        for call in turn.tool_calls:
            pending[call.id] = i
        previous = turn
    if pending:
        reasons.append(f"tool_call_without_observation: turn {next(iter(pending.values()))} called a tool and the dialogue ended")
    return _unique(reasons)


def check_turns(dialogue: Dialogue, config: VerifyConfig, replacements: dict[int, str] | None = None) -> list[str]:
    """Empty, truncated, over-long, leaking and looping turns (``replacements`` checks corrected text)."""
    replacements = replacements or {}
    reasons: list[str] = []
    experts = set(expert_turn_indices(dialogue))
    earlier: dict[str, int] = {}
    for i, turn in enumerate(dialogue.turns):
        if turn.role in ("tool", "system"):
            continue
        text = replacements.get(i, turn.content).strip()
        truncated = turn.meta.get("finish_reason") == "length"
        if not text and not turn.tool_calls:
            reasons.append(f"empty_turn: turn {i} ({turn.speaker}) says nothing")
            continue
        if i in experts and not turn.tool_calls and len(text) < config.min_turn_chars:
            reasons.append(f"empty_turn: turn {i} ({turn.speaker}) is only {text!r}")
        if len(text) > config.max_turn_chars:
            reasons.append(f"too_long_turn: turn {i} has {len(text)} characters > {config.max_turn_chars}")
        if text and (truncated or _looks_cut(text)):
            reasons.append(f"truncated_turn: turn {i} ({turn.speaker}) ends mid-sentence: ...{text[-30:]!r}")
        leak = _format_leak(text, dialogue)
        if leak:
            reasons.append(f"format_leak: turn {i} ({turn.speaker}) contains {leak!r}")
        ratio = repeated_ngram_ratio(text)
        if ratio > config.max_repeated_ngram_ratio:
            reasons.append(f"repetition_loop: turn {i} repeats itself ({ratio:.0%} of its 4-grams are repeats)")
        key = re.sub(r"\W+", " ", text.lower()).strip()
        if len(key) >= 20 and key in earlier:
            reasons.append(f"repeated_turn: turn {i} repeats turn {earlier[key]} word for word")
        earlier.setdefault(key, i)
    return _unique(reasons)


def check_language(dialogue: Dialogue, expected: str, config: VerifyConfig) -> list[str]:
    """Turns long enough to identify that are confidently in another language than ``expected``."""
    if expected == "any":
        return []
    reasons = []
    for i, turn in enumerate(dialogue.turns):
        if turn.role in ("tool", "system") or len(turn.content) < config.min_language_chars:
            continue
        lang, confidence = detect_language(turn.content)
        if lang != expected and confidence >= config.min_language_confidence:
            reasons.append(f"language_mismatch: turn {i} ({turn.speaker}) is {lang} ({confidence:.2f}), expected {expected}")
    return reasons


def detect_language(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) from py3langid."""
    lang, prob = _identifier().classify(text)
    return str(lang), float(prob)


@functools.lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def repeated_ngram_ratio(text: str, n: int = 4) -> float:
    """Share of word n-grams that occur more than once (0 for text too short to loop)."""
    words = re.findall(r"\w+", text.lower())
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if len(grams) < 8:
        return 0.0
    counts = Counter(grams)
    # in a short turn, one phrase said twice is a direct answer restated ("8:30 to 17:30. Reception is
    # staffed ... from 8:30 to 17:30."), not a loop: there a repeat must come back a third time
    least = 2 if len(words) >= 40 else 3
    return sum(c for c in counts.values() if c >= least) / len(grams)


def _looks_cut(text: str) -> bool:
    """Ends on a comma, a colon, an open bracket or a function word: generation stopped mid-sentence."""
    if text.count("```") % 2:
        return True
    return bool(_DANGLING.search(text)) and len(text.split()) >= 4


def _format_leak(text: str, dialogue: Dialogue) -> str:
    m = _TEMPLATE_TOKENS.search(text)
    if m:
        return m.group(0)
    names = set(dialogue.scenario.roles) if dialogue.scenario else {t.speaker for t in dialogue.turns}
    labels = {n for r in names | {"user", "assistant", "system"} for n in (r, r.replace("_", " "))}
    for label in sorted(labels, key=len, reverse=True):
        hit = re.search(rf"(?:^|\n)\s*\**{re.escape(label)}\**\s*:", text, re.I)
        if hit:  # even its own label: the model would learn to prefix "doctor:"
            return hit.group(0).strip()
    return ""


def _unique(reasons: list[str]) -> list[str]:
    return list(dict.fromkeys(reasons))
