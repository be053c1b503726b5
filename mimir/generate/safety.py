"""Retrieved text is data, never instructions.

Four layers keep a poisoned chunk or web page from steering a dialogue:
1. :func:`data_block` wraps untrusted text between markers after neutralising anything that
   could close the block or read as a tool call (a copying model would otherwise echo it);
2. :func:`looks_like_injection` flags instruction-like text aimed at the model, in ten
   languages, after folding fullwidth, zero-width, homoglyph and accented spellings and decoding
   base64 runs (:mod:`mimir.tools.injection`);
3. the engine disables tool calls for the rest of an expert turn once flagged data entered its
   context (taint); a tool call the model makes anyway followed the data, and the dialogue is
   rejected with that reason recorded (:class:`~mimir.tools.guard.ToolCallRefused`);
4. whatever the wording, a web-search query that repeats a span of the private knowledge (one
   the asker did not write) is refused before it is sent (:class:`~mimir.tools.guard.LeakGuard`),
   and the dialogue is rejected too.
"""

from __future__ import annotations

import re

from mimir.tools.injection import injection_reasons, looks_like_injection

__all__ = ["data_block", "injection_reasons", "looks_like_injection", "neutralise"]

# Text that would let data break out of its block or be parsed as a tool call when echoed.
_NEUTRALISE = [
    (re.compile(r"<<<|>>>"), "«"),
    (re.compile(r"<\s*(/?)\s*(tool_call|im_start|im_end|system)\s*>", re.I), r"[\1\2]"),
    (re.compile(r"^(\s*)(Action|Final Answer|Thought|Observation)\s*:", re.I | re.M), r"\1\2 -"),
]


def neutralise(text: str) -> str:
    for pattern, replacement in _NEUTRALISE:
        text = pattern.sub(replacement, text)
    return text


def data_block(text: str, label: str, template: str) -> str:
    """Untrusted ``text`` wrapped as a labelled, inert data block."""
    return template.format(label=neutralise(label), text=neutralise(text.strip()))
