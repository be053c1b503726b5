"""The chat-model protocol every backend implements: a batch of conversations in, replies out."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

from mimir.config import option
from mimir.types import ToolCall

if TYPE_CHECKING:
    from mimir.models.structured import Choice

Message = dict[str, Any]  # OpenAI chat format: {"role", "content", optional "name", "tool_calls", ...}
Conversation = list[Message]


@dataclass
class GenerationSettings:
    """How to sample one batch of replies."""

    max_new_tokens: int = option(256, min=1, help="Upper bound on generated tokens per reply.")
    temperature: float = option(0.0, min=0.0, max=2.0, help="0 means greedy decoding; > 0 samples.")
    top_p: float = option(1.0, min=0.0, max=1.0, help="Nucleus sampling mass when temperature > 0.")
    stop: list[str] = option([], help="Strings that end a reply; the stop string itself is cut off.")
    seed: int | None = option(None, help="Seed for sampling, so runs can be repeated.")
    tools: list[dict[str, Any]] | None = option(
        None, help="OpenAI-style tool schemas offered to backends that support native tool calls."
    )


@dataclass
class Reply:
    """One generated reply."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str = "stop"  # "stop" | "length" | "tool_calls"
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ChatModel(abc.ABC):
    """A backend. Subclasses implement :meth:`generate`; everything else builds on it."""

    #: A short, loggable identifier (never contains credentials).
    name: str = "model"

    @abc.abstractmethod
    def generate(self, conversations: list[Conversation], settings: GenerationSettings | None = None) -> list[Reply]:
        """Reply to every conversation; ``result[i]`` answers ``conversations[i]``."""

    def serve(
        self,
        admit: Callable[[], list[tuple[Any, Conversation]]],
        finish: Callable[[Any, Reply], None],
        settings: GenerationSettings | None = None,
    ) -> None:
        """Answer requests as they come: ``admit()`` hands over (key, conversation) pairs, ``finish(key,
        reply)`` gets each answer (and may queue follow-ups for the next ``admit()``); returns when
        ``admit()`` has nothing left. Here: rounds of :meth:`generate`. Backends that can let a
        request join a batch in flight (the local one) override it."""
        while batch := admit():
            replies = self.generate([conversation for _, conversation in batch], settings)
            if len(replies) != len(batch):
                raise RuntimeError(f"{self.name} returned {len(replies)} replies for {len(batch)} requests")
            for (key, _), reply in zip(batch, replies):
                finish(key, reply)

    def choose(self, conversations: list[Conversation], options: "Sequence[str] | Sequence[Sequence[str]]",
               *, retries: int = 1) -> "list[Choice]":
        """One option of a closed set per conversation (``options``: one list shared by all, or
        one list each); see :mod:`mimir.models.structured`. Here: ask in words and parse, with
        ``retries`` more attempts; the local and endpoint backends constrain the choice itself."""
        from mimir.models.structured import choose_by_generation, per_conversation

        return choose_by_generation(self, conversations, per_conversation(options, len(conversations)), retries)

    def chat(self, messages: Conversation, settings: GenerationSettings | None = None) -> Reply:
        """Reply to a single conversation."""
        return self.generate([messages], settings)[0]

    def close(self) -> None:
        """Release resources (threads, GPU memory); safe to call twice."""


def cut_at_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    """Cut ``text`` at the earliest stop string; returns (text, whether a stop string was found)."""
    cut = min((i for s in stop if s and (i := text.find(s)) >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
