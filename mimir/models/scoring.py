"""Log-probability of continuations: the local backend's closed choices (no sampling).

Rows are (prompt ids, option ids). They are left-padded so every row ends at the same position,
and only the last ``max option length`` positions get logits (``logits_to_keep``): a batch of
long judge prompts costs one forward over the prompts, not a vocabulary-sized tensor per token.
"""

from __future__ import annotations

from typing import Any


def score_options(model: Any, rows: list[tuple[list[int], list[int]]], pad_id: int | None, device: str,
                  batch_size: int = 16) -> list[float]:
    """Sum of log P(option token | prompt, earlier option tokens) for every row, in row order."""
    import torch

    if any(not option for _, option in rows):
        raise ValueError("score_options: an option tokenised to nothing")
    pad = 0 if pad_id is None else pad_id
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]) + len(rows[i][1]))  # similar lengths together
    scores: list[float] = [0.0] * len(rows)
    with torch.inference_mode():
        for start in range(0, len(order), max(1, batch_size)):
            part = order[start : start + max(1, batch_size)]
            seqs = [rows[i][0] + rows[i][1] for i in part]
            width = max(map(len, seqs))
            keep = max(len(rows[i][1]) for i in part) + 1
            ids = torch.full((len(part), width), pad, dtype=torch.long)
            mask = torch.zeros((len(part), width), dtype=torch.long)
            for r, seq in enumerate(seqs):
                ids[r, width - len(seq):] = torch.tensor(seq, dtype=torch.long)
                mask[r, width - len(seq):] = 1
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            out = model(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=positions.to(device),
                        logits_to_keep=keep, use_cache=False)
            logprobs = torch.log_softmax(out.logits[:, -keep:, :].float(), dim=-1)  # [B, keep, V]
            for r, i in enumerate(part):
                option = rows[i][1]
                n = len(option)
                # logits at position t predict token t+1: the option's tokens are the last n of the row,
                # predicted by the n positions before the last one
                picked = logprobs[r, keep - 1 - n : keep - 1, :]
                target = torch.tensor(option, dtype=torch.long, device=picked.device)
                scores[i] = float(picked.gather(-1, target[:, None]).sum())
    return scores


def score_options_cached(model: Any, cache: Any, rows: list[tuple[list[int], list[int]]], pad_id: int | None,
                         batch_size: int = 16) -> list[float]:
    """As :func:`score_options`, with each prompt computed once into the prefix cache (only what no
    cached prefix covers: a choice right after a turn of the same agent costs a few tokens), then
    every (prompt, option) row forwarding only its last prompt token and its option tokens."""
    import torch

    from mimir.models.cached_decoding import _CACHE_ARG, _compute_into_cache, _forward, cache_from

    if any(not option for _, option in rows):
        raise ValueError("score_options: an option tokenised to nothing")
    device = next(model.parameters()).device
    pad = 0 if pad_id is None else pad_id
    with torch.inference_mode():
        for prompt in {tuple(p) for p, _ in rows}:
            if len(prompt) > 1:
                _compute_into_cache(model, cache, torch.tensor(prompt[:-1], dtype=torch.long))
        if _CACHE_ARG.get(type(model)) is None:  # learn the cache argument's name (transformers 4 vs 5)
            _forward(model, torch.tensor([[pad]], device=device), torch.ones(1, 1, dtype=torch.long, device=device),
                     torch.zeros(1, 1, dtype=torch.long, device=device), cache_from(model, [None], [0], 0))
        scores: list[float] = [0.0] * len(rows)
        for start in range(0, len(rows), max(1, batch_size)):
            part = list(range(start, min(len(rows), start + max(1, batch_size))))
            prompts = [torch.tensor(rows[i][0], dtype=torch.long) for i in part]
            found = [cache.lookup(p[:-1]) if len(p) > 1 else (None, 0) for p in prompts]
            reuse = [min(n, len(p) - 1) if e is not None else 0 for (e, n), p in zip(found, prompts)]
            tails = [rows[i][0][r:] + rows[i][1] for i, r in zip(part, reuse)]
            c, n = max(reuse), max(map(len, tails))
            keep = max(len(rows[i][1]) for i in part) + 1
            mask = torch.zeros(len(part), c + n, dtype=torch.long)
            new = torch.full((len(part), n), pad, dtype=torch.long)
            for r, (tail, used) in enumerate(zip(tails, reuse)):
                mask[r, c - used : c] = 1
                mask[r, c + n - len(tail):] = 1
                new[r, n - len(tail):] = torch.tensor(tail, dtype=torch.long)
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            past = cache_from(model, [e for e, _ in found], reuse, c)
            kwargs = dict(input_ids=new.to(device), attention_mask=mask.to(device), position_ids=positions[:, c:].to(device),
                          use_cache=True, logits_to_keep=keep)
            kwargs[_CACHE_ARG[type(model)]] = past
            logprobs = torch.log_softmax(model(**kwargs).logits[:, -keep:, :].float(), dim=-1)
            for r, i in enumerate(part):
                option = rows[i][1]
                picked = logprobs[r, keep - 1 - len(option) : keep - 1, :]
                target = torch.tensor(option, dtype=torch.long, device=picked.device)
                scores[i] = float(picked.gather(-1, target[:, None]).sum())
    return scores
