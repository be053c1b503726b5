"""A scripted backend for tests: replies are enqueued, and every request is recorded."""

from __future__ import annotations

import threading
from collections import deque
from typing import Callable, Union

from mimir.errors import BackendError
from mimir.models.base import ChatModel, Conversation, GenerationSettings, Reply
from mimir.models.structured import Choice, per_conversation

ScriptItem = Union[str, Reply, Callable[[Conversation], Union[str, Reply]]]
Chooser = Callable[[Conversation, list[str]], str]


class ScriptedModel(ChatModel):
    """Answers from a queue (like simonw/llm's MockModel).

    Each queued item is a string, a :class:`Reply`, or a function of the conversation
    returning either (handy for replies that depend on the prompt). ``default`` answers when the
    queue is empty; without one, an empty queue is an error so tests notice missing replies.
    """

    name = "scripted"

    def __init__(self, replies: list[ScriptItem] | None = None, default: ScriptItem | None = None, *,
                 choices: list[str] | None = None, chooser: Chooser | None = None) -> None:
        self._queue: deque[ScriptItem] = deque(replies or [])
        self.default = default
        # closed choices (:meth:`choose`): enqueued options first, then ``chooser(conversation,
        # options)``; with neither, the choice is asked in words from the reply script and parsed.
        self._choices: deque[str] = deque(choices or [])
        self.chooser = chooser
        self.choice_calls: list[tuple[Conversation, list[str]]] = []
        self.calls: list[tuple[Conversation, GenerationSettings]] = []  # every conversation sent
        self._lock = threading.Lock()

    def enqueue(self, *replies: ScriptItem) -> "ScriptedModel":
        with self._lock:
            self._queue.extend(replies)
        return self

    @property
    def pending(self) -> int:
        return len(self._queue)

    def generate(self, conversations: list[Conversation], settings: GenerationSettings | None = None) -> list[Reply]:
        settings = settings or GenerationSettings()
        return [self._one(conv, settings) for conv in conversations]

    def _one(self, conversation: Conversation, settings: GenerationSettings) -> Reply:
        with self._lock:
            self.calls.append(([dict(m) for m in conversation], settings))
            if self._queue:
                item = self._queue.popleft()
            elif self.default is not None:
                item = self.default
            else:
                raise BackendError("scripted model: no reply enqueued for this request")
        if callable(item):
            item = item(conversation)
        return item if isinstance(item, Reply) else Reply(text=str(item))

    def choose(self, conversations: list[Conversation], options, *, retries: int = 1) -> list[Choice]:  # type: ignore[no-untyped-def]
        lists = per_conversation(options, len(conversations))
        if not self._choices and self.chooser is None:
            return super().choose(conversations, lists, retries=retries)
        out = []
        for conversation, opts in zip(conversations, lists):
            with self._lock:
                self.choice_calls.append(([dict(m) for m in conversation], list(opts)))
                picked = self._choices.popleft() if self._choices else None
            if picked is None:
                if self.chooser is None:
                    raise BackendError("scripted model: no choice enqueued for this request")
                picked = self.chooser(conversation, list(opts))
            if picked not in opts:
                raise BackendError(f"scripted model: scripted choice {picked!r} is not one of {opts}")
            out.append(Choice(option=picked, options=list(opts), method="scripted"))
        return out
