"""The transformers internals the cached decoder (mimir/models/cached_decoding.py) relies on.

The decoder builds ``DynamicCache`` objects from per-layer (keys, values) tuples, reads
``cache.layers[i].keys / .values`` as [batch, kv_heads, positions, head_dim], drops finished rows
with ``batch_select_indices`` and asks the model for the last position's logits only. None of that
is a stable public API: requirements.txt pins transformers to the releases this file passed on.
When a new release changes the layout, these tests fail with a message that says what moved —
fix cached_decoding.py (or keep the pin) before widening the range. They run on a 2-layer random
Llama, so they take a second, and the last one checks the decoder's output end to end.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch  # hard dependencies: an import error must fail here, not skip
import transformers

from mimir.models import cached_decoding as cd

ROOT = Path(__file__).resolve().parents[1]
HEADS, KV_HEADS, HEAD_DIM, LAYERS, VOCAB = 4, 2, 8, 2, 97


def _layout_changed(what: str) -> str:
    return (f"transformers {transformers.__version__}: {what}. mimir/models/cached_decoding.py reaches into "
            "DynamicCache internals; adapt it to the new layout, or keep requirements.txt's transformers pin below "
            "this release.")


@pytest.fixture(scope="module")
def tiny_llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=HEADS * HEAD_DIM, intermediate_size=64, num_hidden_layers=LAYERS,
                         num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, head_dim=HEAD_DIM,
                         max_position_embeddings=256, bos_token_id=1, eos_token_id=2, pad_token_id=0)
    model = LlamaForCausalLM(config).eval()
    model.generation_config.pad_token_id = 0
    return model


def _kv(batch: int, length: int, seed: int) -> tuple:
    g = torch.Generator().manual_seed(seed)
    shape = (batch, KV_HEADS, length, HEAD_DIM)
    return torch.randn(shape, generator=g), torch.randn(shape, generator=g)


def test_dynamic_cache_built_from_layer_tuples_exposes_keys_and_values():
    from transformers import DynamicCache

    layers = [_kv(2, 5, seed) for seed in range(LAYERS)]
    try:
        cache = DynamicCache(layers)
    except TypeError as exc:
        pytest.fail(_layout_changed(f"DynamicCache(list of (keys, values)) no longer accepted ({exc})"))
    assert hasattr(cache, "layers"), _layout_changed("DynamicCache has no .layers list")
    assert len(cache.layers) == LAYERS, _layout_changed(f"{len(cache.layers)} layers from {LAYERS} tuples")
    for layer, (k, v) in zip(cache.layers, layers):
        assert hasattr(layer, "keys") and hasattr(layer, "values"), _layout_changed(
            f"cache layer {type(layer).__name__} has no .keys/.values tensors")
        assert torch.equal(layer.keys, k) and torch.equal(layer.values, v), _layout_changed(
            "a layer's .keys/.values are not the tensors it was built from")
    assert cache.get_seq_length() == 5, _layout_changed("get_seq_length() does not count the positions axis (dim 2)")


def test_empty_cache_from_config_and_row_selection(tiny_llama):
    from transformers import DynamicCache

    empty = DynamicCache(config=tiny_llama.config)
    assert empty.get_seq_length() == 0
    layers = [_kv(3, 4, seed) for seed in range(LAYERS)]
    cache = DynamicCache(layers)
    assert hasattr(cache, "batch_select_indices"), _layout_changed("DynamicCache.batch_select_indices is gone")
    cache.batch_select_indices(torch.tensor([0, 2]))  # in place: finished row 1 leaves the batch
    for layer, (k, v) in zip(cache.layers, layers):
        assert layer.keys.shape[0] == 2, _layout_changed("batch_select_indices no longer selects rows in place")
        assert torch.equal(layer.keys, k[[0, 2]]) and torch.equal(layer.values, v[[0, 2]])


def test_forward_grows_the_cache_in_the_layout_the_decoder_reads(tiny_llama):
    from transformers import DynamicCache

    past = DynamicCache(config=tiny_llama.config)
    ids = torch.tensor([[5, 6, 7, 8], [9, 10, 11, 12]])
    mask = torch.ones_like(ids)
    positions = torch.arange(4)[None].expand(2, -1)
    grown, logits = cd._forward(tiny_llama, ids, mask, positions, past)
    assert logits.shape == (2, VOCAB), _layout_changed(f"logits_to_keep=1 gave logits of shape {tuple(logits.shape)}")
    assert isinstance(grown, DynamicCache), _layout_changed(f"the model returned a {type(grown).__name__}, not a DynamicCache")
    assert len(grown.layers) == LAYERS
    for layer in grown.layers:
        assert tuple(layer.keys.shape) == (2, KV_HEADS, 4, HEAD_DIM), _layout_changed(
            f"cached keys have shape {tuple(layer.keys.shape)}, expected [batch, kv_heads, positions, head_dim]")
        assert tuple(layer.values.shape) == (2, KV_HEADS, 4, HEAD_DIM)
    full = tiny_llama(input_ids=ids, attention_mask=mask).logits[:, -1, :]
    torch.testing.assert_close(logits, full, rtol=1e-4, atol=1e-5)


def test_cached_decoding_matches_plain_greedy_generate(tiny_llama):
    """End to end: prefix reuse, left padding, rows leaving and joining change nothing in the tokens."""
    prompts = [[1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
               [1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 30, 31, 32, 33],
               [1, 40, 41, 42]]
    settings = cd.DecodeSettings(max_new_tokens=8, eos_ids=set(), pad_id=0)
    cache = cd.PrefixCache()
    first = cd.generate_cached(tiny_llama, prompts, settings, cache)
    assert cache.entries, _layout_changed("no prefix was stored after a cached generate")
    again = cd.generate_cached(tiny_llama, [p + [50, 51] for p in prompts], settings, cache)
    assert cache.reused_tokens > 0
    for prompt, got in [*zip(prompts, first), *zip([p + [50, 51] for p in prompts], again)]:
        ids = torch.tensor([prompt])
        with torch.no_grad():
            plain = tiny_llama.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=False)
        assert got == plain[0, len(prompt):].tolist(), _layout_changed(
            "the cached decoder's greedy tokens differ from transformers' generate (cache layout or positions changed)")


def test_requirements_pin_transformers_to_the_tested_range():
    """The installed release must lie inside the pin (the range these tests ran on)."""
    from packaging.specifiers import SpecifierSet

    line = next(l for l in (ROOT / "requirements.txt").read_text().splitlines() if re.match(r"transformers\b", l))
    spec = SpecifierSet(line.split("#")[0].strip().removeprefix("transformers"))
    assert any(s.operator in ("<", "<=", "==", "~=") for s in spec), f"requirements.txt: {line!r} has no upper bound"
    assert transformers.__version__ in spec, (
        f"transformers {transformers.__version__} is outside requirements.txt's {line!r}: run this file on it, then widen the pin")
