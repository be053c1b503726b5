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
