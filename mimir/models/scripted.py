"""A scripted backend for tests: replies are enqueued, and every request is recorded."""

from __future__ import annotations

import threading
from collections import deque
from typing import Callable, Union

from mimir.errors import BackendError
from mimir.models.base import ChatModel, Conversation, GenerationSettings, Reply

ScriptItem = Union[str, Reply, Callable[[Conversation], Union[str, Reply]]]


class ScriptedModel(ChatModel):
    """Answers from a queue (like simonw/llm's MockModel).

    Each queued item is a string, a :class:`Reply`, or a function of the conversation
    returning either (handy for replies that depend on the prompt). ``default`` answers when the
    queue is empty; without one, an empty queue is an error so tests notice missing replies.
    """

    name = "scripted"

    def __init__(self, replies: list[ScriptItem] | None = None, default: ScriptItem | None = None) -> None:
        self._queue: deque[ScriptItem] = deque(replies or [])
        self.default = default
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
