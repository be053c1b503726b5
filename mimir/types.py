"""Plain data that flows between pipeline stages.

Every record is a dataclass that round-trips through JSON (``to_dict`` / ``from_dict``), so each
stage can write JSONL with stable ids and a later run can resume from it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

T = TypeVar("T", bound="Record")


def stable_id(*parts: Any, prefix: str = "", length: int = 16) -> str:
    """A short deterministic id from the given parts (same input, same id, on any machine)."""
    payload = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:length]
    return f"{prefix}{digest}"


REPLAY_SOURCE = "replay"  # metadata.source of a training record that is the base model's own answer (tune's replay)


def is_replay_record(record: Any) -> bool:
    """A training record written by the recipe's replay step (the base model's words, not knowledge)."""
    metadata = record.get("metadata") if isinstance(record, dict) else None
    return isinstance(metadata, dict) and metadata.get("source") == REPLAY_SOURCE


class Record:
    """Mixin: JSON round-trip for (nested) dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        hints = typing.get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name in data:
                kwargs[f.name] = _revive(hints[f.name], data[f.name])
        return cls(**kwargs)


def _revive(hint: Any, value: Any) -> Any:
    """Turn JSON values back into the dataclasses the type hint names."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            if arg is not type(None):
                return _revive(arg, value)
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return [_revive(item, v) for v in value]
    if isinstance(hint, type) and issubclass(hint, Record) and isinstance(value, dict):
        return hint.from_dict(value)
    return value


@dataclass
class Chunk(Record):
    """A piece of knowledge with provenance. ``id`` is stable: same source text, same id."""

    id: str
    text: str
    source: str  # file name or dataset id, never an absolute local path
    kind: Literal["passage", "qa"] = "passage"
    heading: str = ""
    page: int | None = None
    row: int | None = None
    start: int | None = None  # character span in the source document's text
    end: int | None = None
    question: str = ""  # for dataset rows: the seed question
    answer: str = ""  # for dataset rows: the reference answer
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class ToolCall(Record):
    """A tool call an assistant made: OpenAI-style, arguments already parsed."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scenario(Record):
    """What one dialogue is about and who takes part."""

    id: str
    topic: str
    roles: list[str]  # role names, 2..N; order is the round-robin order
    target_role: str  # the expert agent being tuned
    chunk_ids: list[str] = field(default_factory=list)
    seed_question: str = ""
    max_turns: int = 6
    framework: Literal["none", "cot", "react", "reflexion"] = "react"
    tools: list[str] = field(default_factory=list)
    speaker_selection: Literal["round_robin", "moderator"] = "round_robin"
    focus: list[str] = field(default_factory=list)  # fact sentences the dialogue should teach, in order
    focus_hints: list[str] = field(default_factory=list)  # per focus: what the asker wants to find out (cloze)


@dataclass
class Turn(Record):
    """One message in a dialogue, from a named speaker."""

    speaker: str  # role name, e.g. "doctor"; "tool" for observations
    role: Literal["system", "user", "assistant", "tool"]
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str = ""  # for role == "tool": which call this observes
    reasoning: str = ""  # framework trace (CoT steps, ReAct thoughts, Reflexion draft+critique)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Dialogue(Record):
    """A generated (or baseline) training dialogue plus everything needed to audit it."""

    id: str
    scenario: Scenario | None
    turns: list[Turn]
    source: Literal["mimir", "original", "self_instruct", "baize"] = "mimir"
    status: Literal["ok", "failed"] = "ok"
    error: str = ""
    model: str = ""
    seed: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Verdict(Record):
    """The verification outcome for one dialogue."""

    dialogue_id: str
    decision: Literal["keep", "fix", "reject", "judge_failed"]
    reasons: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    fixed_turns: dict[str, str] = field(default_factory=dict)  # str(turn index) -> corrected text
    meta: dict[str, Any] = field(default_factory=dict)
