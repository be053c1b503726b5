"""Score only the answer tokens on CPU: the LM head's cost follows the tokens that carry a label.

trl's SFTTrainer computes the loss with a fused, chunked LM head. On Triton devices it projects only
the positions that have a label; everywhere else it projects every position (a fixed tile shape
spares XLA/Neuron a recompilation per batch) and masks afterwards. On CPU there is nothing to
recompile, and the head is the costliest layer of a small model (SmolLM2-135M: 49,152 x 576 against
~3.5M weights per decoder layer): scoring every prompt token as well as the answer tokens took over
a quarter of each training step of the small preset (label-only scoring alone: 0.72x the step time,
`benchmarks/training.py --only step`). The loss,
its gradient and trl's logged metrics are the same either way; only which rows are projected changes.
"""

from __future__ import annotations

import contextlib
import importlib
from typing import Any, Iterator

# trl's switch between the two paths: `compact = _use_triton(hidden_states.device)` in the fused head.
TRL_SWITCH_MODULE = "trl.trainer.utils"
TRL_SWITCH_NAME = "_use_triton"


def compact_scoring_supported() -> bool:
    """Whether the installed trl has the switch this module flips (trl >= 1.x's fused LM head)."""
    try:
        module = importlib.import_module(TRL_SWITCH_MODULE)
    except ImportError:
        return False
    return callable(getattr(module, TRL_SWITCH_NAME, None))


@contextlib.contextmanager
def label_positions_only(device_type: str) -> Iterator[bool]:
    """Within the block, trl's fused LM head on a ``device_type`` of ``cpu`` projects only labelled
    positions; yields whether it does. Other devices and trl versions without the switch are left as
    they are (the loss is the same, only slower)."""
    if device_type != "cpu" or not compact_scoring_supported():
        yield False
        return
    module: Any = importlib.import_module(TRL_SWITCH_MODULE)
    original = getattr(module, TRL_SWITCH_NAME)
    setattr(module, TRL_SWITCH_NAME, lambda device: device.type == "cpu" or original(device))
    try:
        yield True
    finally:
        setattr(module, TRL_SWITCH_NAME, original)
