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


def test_next_turns_reuse_their_prefix_and_say_the_same_as_plain_generate(embedded_model):
    cache = embedded_model.prefix_cache
    assert cache is not None  # SmolLM2 is a plain full-attention decoder
    settings = GenerationSettings(max_new_tokens=16)
    first = embedded_model.generate([_conv(p) for p in PROMPTS], settings)
    follow = [_conv(p) + [{"role": "assistant", "content": r.text}, {"role": "user", "content": "Say more."}]
              for p, r in zip(PROMPTS, first)]
    long_note = "The clinic is open Monday to Friday from 07:30 to 19:00 and on Saturday from 08:00 to 13:00. " * 6
    follow.append(_conv(long_note + "When is it open on Saturday?"))  # a long uncached prompt: prefilled on its own
    reused = cache.reused_tokens
    cached = embedded_model.generate(follow, settings)
    assert cache.reused_tokens - reused >= sum(r.prompt_tokens for r in first)  # each first turn came from the cache
    embedded_model.prefix_cache = None  # transformers' own generate, every token computed
    try:
        plain = embedded_model.generate(follow, settings)
    finally:
        embedded_model.prefix_cache = cache
    assert [r.text for r in cached] == [r.text for r in plain]
    assert [r.completion_tokens for r in cached] == [r.completion_tokens for r in plain]


def test_prefix_cache_finds_the_longest_prefix_and_keeps_to_its_budget():
    import torch

    from mimir.models.cached_decoding import CachedPrefix, PrefixCache

    def entry(tokens: list[int]) -> CachedPrefix:
        kv = torch.zeros(1, 1, len(tokens), 2)
        return CachedPrefix(tokens=torch.tensor(tokens), layers=[(kv, kv.clone())])

    cache = PrefixCache(max_bytes=entry([0] * 10).nbytes)
    cache.add(entry([1, 2, 3]))
    cache.add(entry([1, 2, 3, 4, 5]))  # supersedes [1, 2, 3]
    assert len(cache.entries) == 1
    hit, n = cache.lookup(torch.tensor([1, 2, 3, 9]))
    assert n == 3 and hit is not None
    cache.add(entry([7, 8, 9, 10, 11, 12]))  # over the budget: the least recently used goes
    assert [e.tokens.tolist() for e in cache.entries.values()] == [[7, 8, 9, 10, 11, 12]]
    assert cache.lookup(torch.tensor([5, 5]))[1] == 0


def test_a_system_prompt_shared_by_a_batch_is_computed_once(embedded_model):
    cache = embedded_model.prefix_cache
    cache.clear()
    computed = cache.computed_tokens
    system = "You are a nurse at the Riverbend clinic. Answer the patient's question in one short sentence."
    batch = [[{"role": "system", "content": system}, {"role": "user", "content": p}] for p in PROMPTS]
    replies = embedded_model.generate(batch, GenerationSettings(max_new_tokens=4))
    shared = len(embedded_model.tokenizer(embedded_model.prompt_text(batch[0][:1]), add_special_tokens=False)["input_ids"]) - 8
    prompt_tokens = sum(r.prompt_tokens for r in replies)
    assert cache.computed_tokens - computed <= prompt_tokens - (len(PROMPTS) - 1) * shared  # computed once, not per row
