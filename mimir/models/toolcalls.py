"""Parse tool calls that a model wrote as text (for backends without native tool calling)."""

from __future__ import annotations

import json
import re

from mimir.types import ToolCall, stable_id

# Accepts <tool_call>{"name": ..., "arguments": {...}}</tool_call> (Hermes/Qwen style) and a
# bare JSON object with "name" and "arguments" on its own.
_TAGGED = re.compile(r"<tool_call>\s*(\{.*?\})\s*</tool_call>", re.S)


def parse_tool_calls(text: str) -> list[ToolCall]:
    candidates = _TAGGED.findall(text)
    if not candidates:
        stripped = text.strip()
        if stripped.startswith("{") and stripped.endswith("}"):
            candidates = [stripped]
    calls = []
    for i, raw in enumerate(candidates):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            continue
        args = data.get("arguments", data.get("parameters", {}))
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                args = {"input": args}
        calls.append(ToolCall(id=stable_id(text, i, prefix="call_", length=12), name=data["name"], arguments=args if isinstance(args, dict) else {}))
    return calls
