"""Let any MIMIR backend drive a smolagents agent (smolagents ``Model`` interface).

smolagents is imported when this module is, so import it only where agents are used.
"""

from __future__ import annotations

import json
from typing import Any

from smolagents.models import (
    ChatMessage,
    ChatMessageToolCall,
    ChatMessageToolCallFunction,
    MessageRole,
    Model,
    TokenUsage,
)

from mimir.models.base import ChatModel, GenerationSettings


class SmolagentsModel(Model):
    """Wraps a :class:`ChatModel` so ``ToolCallingAgent`` / ``CodeAgent`` can call it."""

    def __init__(self, chat_model: ChatModel, settings: GenerationSettings | None = None, **kwargs: Any) -> None:
        super().__init__(model_id=chat_model.name, **kwargs)
        self.chat_model = chat_model
        self.settings = settings or GenerationSettings()

    @property
    def supports_stop_parameter(self) -> bool:
        return True

    def generate(
        self,
        messages: list[ChatMessage | dict],
        stop_sequences: list[str] | None = None,
        response_format: dict[str, str] | None = None,
        tools_to_call_from: list[Any] | None = None,
        **kwargs: Any,
    ) -> ChatMessage:
        completion = self._prepare_completion_kwargs(
            messages=messages,
            stop_sequences=stop_sequences,
            tools_to_call_from=tools_to_call_from,
            flatten_messages_as_text=True,  # our backends take plain-text content
        )
        settings = GenerationSettings(
            max_new_tokens=int(kwargs.get("max_tokens", self.settings.max_new_tokens)),
            temperature=float(kwargs.get("temperature", self.settings.temperature)),
            top_p=self.settings.top_p,
            stop=list(completion.get("stop") or self.settings.stop),
            seed=self.settings.seed,
            tools=completion.get("tools"),
        )
        reply = self.chat_model.chat(_as_openai(completion["messages"]), settings)
        tool_calls = [
            ChatMessageToolCall(
                id=call.id,
                type="function",
                function=ChatMessageToolCallFunction(name=call.name, arguments=call.arguments),
            )
            for call in reply.tool_calls
        ] or None
        return ChatMessage(
            role=MessageRole.ASSISTANT,
            content=reply.text,
            tool_calls=tool_calls,
            raw=None,
            token_usage=TokenUsage(input_tokens=reply.prompt_tokens, output_tokens=reply.completion_tokens),
        )


def _as_openai(messages: list[dict]) -> list[dict]:
    """smolagents hands us role strings/enums and content lists; make plain OpenAI messages."""
    out = []
    for m in messages:
        role = m["role"].value if hasattr(m["role"], "value") else str(m["role"])
        content = m.get("content")
        if isinstance(content, list):
            content = "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
        message = {"role": role, "content": content or ""}
        if m.get("tool_calls"):
            message["tool_calls"] = [
                {"id": c["id"], "type": "function", "function": {"name": c["function"]["name"], "arguments": json.dumps(c["function"]["arguments"])}}
                for c in m["tool_calls"]
            ]
        out.append(message)
    return out
