"""MIMIR's trainer: trl's SFTTrainer with the KL anchor (:mod:`mimir.train.anchor`) added to the loss
and, on CPU, the LM head run only on the answer tokens (:mod:`mimir.train.scoring`)."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from mimir.train.anchor import kl_to_base
from mimir.train.scoring import label_positions_only


def mimir_trainer(base_class: type) -> type:
    """``base_class`` (trl's SFTTrainer) with MIMIR's loss: label positions scored alone on CPU, plus
    ``anchor_weight * KL(base || tuned)`` on the anchor batches when an anchor is given."""

    class MimirTrainer(base_class):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, anchor_weight: float = 0.0, anchor: Iterator[Any] | None = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.anchor_weight = anchor_weight
            self.anchor = anchor
            self.last_anchor_kl: float | None = None
            self.score_labels_only = True  # benchmarks/training.py turns it off to measure what it saves

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # type: ignore[no-untyped-def]
            scoring = label_positions_only(self.args.device.type) if self.score_labels_only else contextlib.nullcontext()
            with scoring:
                out = super().compute_loss(model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch)
            if not (model.training and self.anchor_weight > 0 and self.anchor is not None):
                return out
            loss = out[0] if return_outputs else out
            kl = kl_to_base(model, next(self.anchor).to(loss.device))
            self.last_anchor_kl = float(kl.detach())
            loss = loss + self.anchor_weight * kl
            return (loss, out[1]) if return_outputs else loss

    return MimirTrainer
