"""Retrieved text is data, never instructions.

Three layers keep a poisoned chunk or web page from steering a dialogue:
1. :func:`data_block` wraps untrusted text between markers after neutralising anything that
   could close the block or read as a tool call (a copying model would otherwise echo it);
2. :func:`looks_like_injection` flags instruction-like text aimed at the model;
3. the engine disables tool calls for the rest of an expert turn once flagged data entered its
   context (taint), so an injected "call the search tool" can never trigger a call.
"""

from __future__ import annotations

import re

_INJECTION = [
    re.compile(r"\b(ignore|disregard|forget|override)\b[^.\n]{0,40}\b(instructions?|prompts?|rules|guidelines|system)\b", re.I),
    re.compile(r"\b(call|use|invoke|run|execute|trigger)\b[^.\n]{0,30}\b(tool|function|search|api)\b", re.I),
    re.compile(r"\b(you are now|new instructions|system prompt|developer mode|act as)\b", re.I),
    re.compile(r"<\s*/?\s*(tool_call|system|im_start|im_end)\b", re.I),
    re.compile(r"^\s*(Action|Final Answer|Thought)\s*:", re.I | re.M),
]
# Text that would let data break out of its block or be parsed as a tool call when echoed.
_NEUTRALISE = [
    (re.compile(r"<<<|>>>"), "«"),
    (re.compile(r"<\s*(/?)\s*(tool_call|im_start|im_end|system)\s*>", re.I), r"[\1\2]"),
    (re.compile(r"^(\s*)(Action|Final Answer|Thought|Observation)\s*:", re.I | re.M), r"\1\2 -"),
]


def looks_like_injection(text: str) -> bool:
    """True when ``text`` reads like instructions to the model rather than domain knowledge."""
    return any(p.search(text) for p in _INJECTION)


def neutralise(text: str) -> str:
    for pattern, replacement in _NEUTRALISE:
        text = pattern.sub(replacement, text)
    return text


def data_block(text: str, label: str, template: str) -> str:
    """Untrusted ``text`` wrapped as a labelled, inert data block."""
    return template.format(label=neutralise(label), text=neutralise(text.strip()))
