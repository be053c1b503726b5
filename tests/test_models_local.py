"""The local backend on the real embedded model (CPU)."""

from __future__ import annotations

import pytest

from mimir.models import GenerationSettings

pytestmark = pytest.mark.slow

PROMPTS = [
    "What is hypertension?",
    "Name one symptom of dehydration.",
    "Why should hands be washed before surgery?",
    "What does a pharmacist do?",
]


def _conv(text: str) -> list[dict]:
    return [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": text}]


def test_batched_greedy_equals_single_prompt_greedy(embedded_model):
    settings = GenerationSettings(max_new_tokens=24)
    batched = embedded_model.generate([_conv(p) for p in PROMPTS], settings)
    singles = [embedded_model.chat(_conv(p), settings) for p in PROMPTS]
    assert [r.text for r in batched] == [r.text for r in singles]
    assert all(r.text.strip() for r in batched)
    assert len({r.text for r in batched}) == len(PROMPTS)  # each prompt got its own answer


def test_stop_strings_and_token_limit(embedded_model):
    long = embedded_model.chat(_conv("List five fruits, one per line."), GenerationSettings(max_new_tokens=40))
    assert long.completion_tokens <= 40
    assert "\n" in long.text.strip()
    stopped = embedded_model.chat(_conv("List five fruits, one per line."), GenerationSettings(max_new_tokens=40, stop=["\n"]))
    assert "\n" not in stopped.text
    assert stopped.text and long.text.startswith(stopped.text)
    assert stopped.finish_reason == "stop"
    short = embedded_model.chat(_conv("Tell me a long story about a dragon."), GenerationSettings(max_new_tokens=5))
    assert short.finish_reason == "length" and short.completion_tokens == 5


def test_sampling_is_reproducible_with_a_seed(embedded_model):
    settings = GenerationSettings(max_new_tokens=16, temperature=1.0, seed=7)
    first = embedded_model.chat(_conv("Invent a name for a clinic."), settings).text
    again = embedded_model.chat(_conv("Invent a name for a clinic."), settings).text
    assert first == again
