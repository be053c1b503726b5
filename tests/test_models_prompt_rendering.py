"""Inference renders whole conversations (names, tool calls, observations) as training does."""

from __future__ import annotations

import json

import pytest

from mimir.models.local import _plain
from mimir.models.toolcalls import parse_tool_calls


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from mimir.models.embedded import resolve_model

    return AutoTokenizer.from_pretrained(resolve_model(None))


CONVERSATION = [
    {"role": "system", "content": "You are doctor, a physician at the clinic."},
    {"role": "user", "name": "patient", "content": "Where is the infusion suite?"},
    {"role": "assistant", "name": "doctor", "content": "Let me check.",
     "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "knowledge_retriever", "arguments": json.dumps({"query": "infusion suite"})}}]},
    {"role": "tool", "name": "knowledge_retriever", "tool_call_id": "c1", "content": "The infusion suite is Room B7."},
    {"role": "assistant", "name": "doctor", "content": "",
     "tool_calls": [{"id": "c2", "type": "function", "function": {"name": "tavily_search", "arguments": {"query": "B7 hours"}}}]},
    {"role": "tool", "name": "tavily_search", "tool_call_id": "c2", "content": "no results"},
    {"role": "assistant", "name": "doctor", "content": "It is Room B7."},
    {"role": "user", "name": "nurse", "content": "Thanks."},
]


def test_inference_prompt_equals_training_rendering_with_tool_calls(tokenizer):
    from mimir.train.template import build_training_template

    template = build_training_template(tokenizer)
    for cut in range(1, len(CONVERSATION) + 1):
        prefix = CONVERSATION[:cut]
        trained = tokenizer.apply_chat_template(prefix, chat_template=template, tokenize=False, add_generation_prompt=True)
        served = tokenizer.apply_chat_template([_plain(m) for m in prefix], tokenize=False, add_generation_prompt=True)
        assert served == trained, f"prompt differs after {cut} messages"


def test_rendered_tool_calls_parse_back():
    text = _plain(CONVERSATION[2])["content"]
    assert [(c.name, c.arguments) for c in parse_tool_calls(text)] == [("knowledge_retriever", {"query": "infusion suite"})]
