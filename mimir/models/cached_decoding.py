"""Batched decoding that reuses prompt prefixes, with rows joining and leaving as they come.

Dialogue prompts grow turn by turn: a role's next prompt starts with its previous one (system
prompt, source data, earlier turns). Recomputing that prefix every turn was most of the CPU time
of generation (prompts of 130-750 tokens for replies of 10-30). So every finished row leaves its
keys/values in a :class:`PrefixCache`, and the next prompt that starts with the same tokens
computes only the rest. Rows of one batch reuse prefixes of different lengths: the cached part
of each row is left-padded to the longest, its new tokens too, and explicit position ids keep
every token at its true position, so a row's result does not depend on its batch.

Rows that finish (end of turn, stop string, token budget) leave the batch at once, so one long
reply no longer keeps fifteen finished rows decoding, and (:func:`serve_cached`) the next turns
of their dialogues join the rows in flight instead of waiting for the slowest reply of a round.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger(__name__)


@dataclass
class CachedPrefix:
    tokens: Any  # 1-D LongTensor of the tokens whose keys/values are stored
    layers: list[tuple[Any, Any]]  # per layer (keys, values), each [1, heads, len(tokens), head_dim]

    @property
    def nbytes(self) -> int:
        return sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in self.layers)


@dataclass
class PrefixCache:
    """Keys/values of recent prompts, found by longest common token prefix; LRU within a byte budget."""

    max_bytes: int = 1 << 30
    entries: "OrderedDict[int, CachedPrefix]" = field(default_factory=OrderedDict)
    hits: int = 0  # prompts that found a cached prefix
    reused_tokens: int = 0  # prompt tokens taken from entries cached before their call
    computed_tokens: int = 0  # prompt tokens computed (once per batch for shared prefixes)
    _next_key: int = 0

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self.entries.values())

    def lookup(self, ids: Any) -> tuple[CachedPrefix | None, int]:
        """(entry, n): the entry sharing the longest prefix with ``ids`` and that prefix's length."""
        best_key, best_n = None, 0
        for key, entry in self.entries.items():
            m = min(len(entry.tokens), len(ids))
            if m <= best_n:
                continue
            differ = (entry.tokens[:m] != ids[:m]).nonzero()
            n = int(differ[0]) if len(differ) else m
            if n > best_n:
                best_key, best_n = key, n
        if best_key is None:
            return None, 0
        self.entries.move_to_end(best_key)
        return self.entries[best_key], best_n

    def add(self, entry: CachedPrefix) -> None:
        size = entry.nbytes
        if size > self.max_bytes:
            return
        n = len(entry.tokens)
        for key in [k for k, e in self.entries.items() if len(e.tokens) <= n and bool((e.tokens == entry.tokens[: len(e.tokens)]).all())]:
            del self.entries[key]  # a prefix of the new entry: superseded
        self.entries[self._next_key] = entry
        self._next_key += 1
        total = self.nbytes
        while total > self.max_bytes and len(self.entries) > 1:
            _, old = self.entries.popitem(last=False)
            total -= old.nbytes

    def clear(self) -> None:
        self.entries.clear()


@dataclass
class DecodeSettings:
    max_new_tokens: int
    eos_ids: set[int]
    pad_id: int
    sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    stop_hit: Callable[[list[int]], bool] | None = None  # does this row's output contain a stop string?


def cacheable(model: Any) -> bool:
    """Only plain full-attention decoders: sliding-window or recurrent layers cannot be re-padded."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "is_encoder_decoder", False):
        return False
    types = getattr(config, "layer_types", None)
    if types:
        return all(t == "full_attention" for t in types)
    return not getattr(config, "sliding_window", None)


def generate_cached(model: Any, prompts: list[list[int]], settings: DecodeSettings, cache: PrefixCache) -> list[list[int]]:
    """New token ids for each prompt (greedy or sampled), reusing and filling ``cache``."""
    results: dict[int, list[int]] = {}
    todo = [list(enumerate(prompts))]
    serve_cached(model, settings, cache, admit=lambda: todo.pop() if todo else [],
                 finish=lambda key, tokens: results.__setitem__(key, tokens))
    return [results[i] for i in range(len(prompts))]


@dataclass
class _Rows:
    """Rows decoding together: their cache, attention mask, last positions and next-token logits."""

    keys: list[Any]
    ids: list[Any]  # each row's prompt tokens
    generated: list[list[int]]
    past: Any
    mask: Any  # [rows, length]; 0 where a row has padding
    last_pos: Any  # [rows]
    logits: Any  # [rows, vocab]: what the next token is picked from


def serve_cached(model: Any, settings: DecodeSettings, cache: PrefixCache,
                 admit: Callable[[], list[tuple[Any, list[int]]]], finish: Callable[[Any, list[int]], None],
                 admit_every: int = 16) -> None:
    """Continuous batching: decode every admitted prompt, one step for all rows at a time.

    ``admit()`` hands over new (key, prompt ids) pairs; they are prefilled and join the rows in
    flight (asked when the rows are down to half their peak, or every ``admit_every`` steps). A row that finishes leaves at once and ``finish(key, new_ids)`` gets
    its tokens, so the caller can admit the next turn of that dialogue while the others decode:
    rows stay full instead of draining to the longest reply of a round.
    """
    import torch

    rows: _Rows | None = None
    peak, idle_steps = 1, 0
    while True:
        # Joining costs a copy of the whole cache: let rows in once the batch is down to half
        # (or after a while), not one by one, so each copy brings several rows.
        new = admit() if rows is None or len(rows.keys) <= peak // 2 or idle_steps >= admit_every else []
        idle_steps = 0 if new or rows is None else idle_steps + 1
        if new:
            joined = _prefill(model, [k for k, _ in new], [p for _, p in new], settings, cache)
            rows = joined if rows is None else _merge(rows, joined)
            peak = max(peak, len(rows.keys))
        if rows is None:
            return
        token = _pick(rows.logits, settings)
        finished = []
        for j in range(len(rows.keys)):
            out_ids = rows.generated[j]
            out_ids.append(int(token[j]))
            if (out_ids[-1] in settings.eos_ids or len(out_ids) >= settings.max_new_tokens
                    or (settings.stop_hit is not None and settings.stop_hit(out_ids))):
                finished.append(j)
        for j in finished:  # remember prompt + reply (all but the last token, which was never fed)
            fed = torch.cat([rows.ids[j], torch.tensor(rows.generated[j][:-1], dtype=torch.long)])
            _remember(cache, rows.past, rows.mask[j], fed, j)
        done = [(rows.keys[j], rows.generated[j]) for j in finished]
        if finished:
            keep = [j for j in range(len(rows.keys)) if j not in set(finished)]
            rows = _select(rows, keep, token) if keep else None
            token = token[keep] if keep else token
        for key, out_ids in done:
            finish(key, out_ids)  # may queue the dialogue's next turn for admit()
        if rows is None:
            continue
        device = rows.mask.device
        rows.mask = torch.cat([rows.mask, torch.ones(len(rows.keys), 1, dtype=rows.mask.dtype, device=device)], dim=1)
        rows.last_pos = rows.last_pos + 1
        rows.past, rows.logits = _forward(model, token[:, None], rows.mask, rows.last_pos[:, None], rows.past)


def _select(rows: _Rows, keep: list[int], token: Any) -> _Rows:
    import torch

    index = torch.tensor(keep, device=rows.mask.device)
    rows.past.batch_select_indices(index)
    return _Rows(keys=[rows.keys[j] for j in keep], ids=[rows.ids[j] for j in keep],
                 generated=[rows.generated[j] for j in keep], past=rows.past, mask=rows.mask[index],
                 last_pos=rows.last_pos[index], logits=rows.logits[index])


def _merge(a: _Rows, b: _Rows) -> _Rows:
    """One set of rows from two: the shorter side's cache and mask are left-padded to the longer."""
    import torch
    from transformers import DynamicCache

    width = max(a.mask.shape[1], b.mask.shape[1])

    def pad(t: Any, dim: int) -> Any:
        missing = width - t.shape[dim]
        if missing == 0:
            return t
        shape = list(t.shape)
        shape[dim] = missing
        return torch.cat([t.new_zeros(shape), t], dim=dim)

    layers = [(torch.cat([pad(x.keys, 2), pad(y.keys, 2)]), torch.cat([pad(x.values, 2), pad(y.values, 2)]))
              for x, y in zip(a.past.layers, b.past.layers)]
    return _Rows(keys=a.keys + b.keys, ids=a.ids + b.ids, generated=a.generated + b.generated,
                 past=DynamicCache(layers), mask=torch.cat([pad(a.mask, 1), pad(b.mask, 1)]),
                 last_pos=torch.cat([a.last_pos, b.last_pos]), logits=torch.cat([a.logits, b.logits]))


def _prefill(model: Any, keys: list[Any], prompts: list[list[int]], settings: DecodeSettings, cache: PrefixCache) -> _Rows:
    """Rows for new prompts: cached prefixes reused, the rest computed, logits of each last token."""
    import torch

    device = next(model.parameters()).device
    ids = [torch.tensor(p, dtype=torch.long) for p in prompts]
    before = [cache.lookup(t) for t in ids]
    cache.hits += sum(1 for e, n in before if e is not None and n > 0)
    cache.reused_tokens += sum(min(n, len(t) - 1) for (e, n), t in zip(before, ids) if e is not None)
    _prefill_shared_prefixes(model, ids, cache)
    _prefill_long_rows(model, ids, cache)
    found = [cache.lookup(t) for t in ids]
    # keep at least one prompt token to compute: its logits give the first new token
    reuse = [min(n, len(t) - 1) if e is not None else 0 for (e, n), t in zip(found, ids)]
    cache.computed_tokens += sum(len(t) - r for t, r in zip(ids, reuse))
    b, c = len(ids), max(reuse)
    n = max(len(t) - r for t, r in zip(ids, reuse))

    mask = torch.zeros(b, c + n, dtype=torch.long)
    new = torch.full((b, n), settings.pad_id, dtype=torch.long)
    for i, (t, r) in enumerate(zip(ids, reuse)):
        mask[i, c - r : c] = 1
        mask[i, c + n - (len(t) - r) :] = 1
        new[i, n - (len(t) - r) :] = t[r:]
    past = cache_from(model, [e for e, _ in found], reuse, c)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    mask, new, positions = mask.to(device), new.to(device), positions.to(device)
    past, logits = _forward(model, new, mask, positions[:, c:], past)
    return _Rows(keys=list(keys), ids=ids, generated=[[] for _ in ids], past=past, mask=mask,
                 last_pos=positions[:, -1], logits=logits)


def _forward(model: Any, input_ids: Any, mask: Any, positions: Any, past: Any) -> tuple[Any, Any]:
    """One forward pass: (the grown cache, next-token logits). Only the last position's logits are
    computed (the vocabulary projection of every prompt token would cost a fifth of a prefill)."""
    kwargs = dict(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
    if _CACHE_ARG.get(type(model)) is None:
        import inspect

        inner = model.get_base_model() if hasattr(model, "get_base_model") else model  # peft passes kwargs through
        params = inspect.signature(inner.forward).parameters
        _CACHE_ARG[type(model)] = "cache" if "cache" in params else "past_key_values"  # renamed in transformers 5.x
    kwargs[_CACHE_ARG[type(model)]] = past
    out = model(**kwargs)
    grown = getattr(out, "cache", None) or out.past_key_values
    return grown, out.logits[:, -1, :]


_CACHE_ARG: dict[type, str] = {}


def _prefill_shared_prefixes(model: Any, ids: list[Any], cache: PrefixCache, min_tokens: int = 16) -> None:
    """Compute once the prefixes that several rows of this batch share and the cache lacks.

    Dialogues that start together share their roles' system prompts (and the expert's sources,
    when two dialogues are about one chunk); without this, each row would compute them again.
    """
    import torch

    shared: dict[tuple[int, ...], int] = {}
    for i, a in enumerate(ids):
        best = 0
        for j, b in enumerate(ids):
            if i == j:
                continue
            m = min(len(a), len(b)) - 1  # a prompt's last token is always computed with the batch
            differ = (a[:m] != b[:m]).nonzero()
            best = max(best, int(differ[0]) if len(differ) else m)
        if best >= min_tokens and cache.lookup(a)[1] < best:
            shared[tuple(a[:best].tolist())] = best
    if not shared:
        return
    prefixes = [list(p) for p in shared]
    ordered = sorted(prefixes, key=len, reverse=True)
    kept = [p for k, p in enumerate(ordered) if not any(q[: len(p)] == p for q in ordered[:k])]  # longest of each family
    for prefix in kept:
        _compute_into_cache(model, cache, torch.tensor(prefix, dtype=torch.long))


def _prefill_long_rows(model: Any, ids: list[Any], cache: PrefixCache, min_new: int = 48) -> None:
    """Compute long uncached prompt parts row by row, unpadded.

    In one padded pass every row pays for the longest row's new tokens (30% of the prefill work
    in a 16-dialogue run was padding). Alone, a row computes only its own; the batched pass then
    finds all but its last token in the cache.
    """
    if len(ids) < 2:
        return
    for tokens in ids:
        entry, reuse = cache.lookup(tokens)
        # the last token is computed with the batch: its logits start decoding
        if len(tokens) - 1 - (reuse if entry is not None else 0) >= min_new:
            _compute_into_cache(model, cache, tokens[:-1])


def _compute_into_cache(model: Any, cache: PrefixCache, tokens: Any) -> None:
    """Keys/values of ``tokens`` into ``cache``, computing only what no cached prefix covers."""
    import torch

    device = next(model.parameters()).device
    entry, reuse = cache.lookup(tokens)
    reuse = min(reuse, len(tokens)) if entry is not None else 0
    if reuse == len(tokens):
        return
    past = cache_from(model, [entry], [reuse], reuse)
    mask = torch.ones(1, len(tokens), dtype=torch.long, device=device)
    positions = torch.arange(reuse, len(tokens), device=device)[None]
    past, _ = _forward(model, tokens[None, reuse:].to(device), mask, positions, past)
    cache.computed_tokens += len(tokens) - reuse
    _remember(cache, past, mask[0], tokens, 0)


def cache_from(model: Any, entries: list[CachedPrefix | None], reuse: list[int], width: int) -> Any:
    """A transformers cache holding the rows' reused prefixes (left-padded to ``width``), or an empty one."""
    from transformers import DynamicCache

    if width <= 0:
        return DynamicCache(config=model.config)
    return DynamicCache(_stack_prefixes(entries, reuse, width))


def _pick(logits: Any, settings: DecodeSettings) -> Any:
    import torch

    if not settings.sample:
        return logits.argmax(-1)
    probs = torch.softmax(logits.float() / max(settings.temperature, 1e-5), dim=-1)
    if settings.top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        outside = sorted_probs.cumsum(-1) - sorted_probs > settings.top_p
        sorted_probs[outside] = 0.0
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return torch.multinomial(probs / probs.sum(-1, keepdim=True), 1).squeeze(-1)


def _stack_prefixes(entries: list[CachedPrefix | None], reuse: list[int], width: int) -> list[tuple[Any, Any]]:
    """Per layer, the rows' reused keys/values left-padded with zeros to ``width`` positions."""
    import torch

    sample = next(e for e, r in zip(entries, reuse) if e is not None and r > 0)
    layers = []
    for layer, (k0, v0) in enumerate(sample.layers):
        keys, values = [], []
        for entry, r in zip(entries, reuse):
            k = k0.new_zeros((1, k0.shape[1], width, k0.shape[3]))
            v = v0.new_zeros((1, v0.shape[1], width, v0.shape[3]))
            if r > 0 and entry is not None:
                k[:, :, width - r :] = entry.layers[layer][0][:, :, :r]
                v[:, :, width - r :] = entry.layers[layer][1][:, :, :r]
            keys.append(k)
            values.append(v)
        layers.append((torch.cat(keys), torch.cat(values)))
    return layers


def _remember(cache: PrefixCache, past: Any, row_mask: Any, tokens: Any, j: int) -> None:
    keep = row_mask.nonzero().squeeze(-1)
    if len(keep) != len(tokens):  # should not happen; never store keys/values that may not match
        log.debug("prefix cache: %d positions for %d tokens, not stored", len(keep), len(tokens))
        return
    layers = [(layer.keys[j : j + 1, :, keep].clone(), layer.values[j : j + 1, :, keep].clone()) for layer in past.layers]
    cache.add(CachedPrefix(tokens=tokens, layers=layers))
