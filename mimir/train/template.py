"""The training chat template: ChatML with ``{% generation %}`` markers.

SmolLM2's own ChatML template has no generation markers, so the tokenizer cannot say which
tokens the assistant wrote. This template renders exactly what the base template renders for
plain role/content messages (same default system prompt), folds speaker names, tool calls and
tool observations into text the way :mod:`mimir.models.local` does at inference, and marks the
assistant's text *and its closing ``<|im_end|>``* so the model also learns to stop.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TEMPLATE_FILE = Path(__file__).with_name("chatml_train.jinja")
_PROBE = "\u2063mimir-probe\u2063"


def default_system_prompt(tokenizer: Any) -> str | None:
    """The system prompt the base template inserts when a conversation has none (or None).

    Found by rendering one probe user message with the base template, so the training template
    reproduces the base model's prompts byte for byte.
    """
    if not getattr(tokenizer, "chat_template", None):
        return None
    text = tokenizer.apply_chat_template([{"role": "user", "content": _PROBE}], tokenize=False)
    head = "<|im_start|>system\n"
    if not text.startswith(head) or _PROBE not in text:
        return None
    system, sep, _ = text[len(head):].partition("<|im_end|>")
    return system if sep and _PROBE not in system else None


def is_chatml(tokenizer: Any) -> bool:
    vocab = tokenizer.get_vocab()
    return "<|im_start|>" in vocab and "<|im_end|>" in vocab


def build_training_template(tokenizer: Any) -> str:
    """The ChatML training template for this tokenizer (its default system prompt filled in)."""
    if not is_chatml(tokenizer):
        log.warning(
            "the base tokenizer has no <|im_start|>/<|im_end|> tokens; training in ChatML anyway. "
            "Load the tokenizer from the adapter folder at inference so prompts match."
        )
    system = default_system_prompt(tokenizer)
    literal = json.dumps(system) if system is not None else "none"
    return TEMPLATE_FILE.read_text(encoding="utf-8").replace("__DEFAULT_SYSTEM__", literal)

