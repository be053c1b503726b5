"""Fine-tuning: LoRA / QLoRA over trl's SFTTrainer, as a subprocess with live metrics.

Stable API (imported lazily so ``import mimir.train`` stays cheap)::

    from mimir.train import TrainConfig, train, launch
    result = train(TrainConfig(dataset="dialogues.jsonl", output_dir="runs/a"))   # in-process
    run = launch(TrainConfig(...))          # subprocess: run.metrics(), run.status, run.stop(), run.wait()
"""

from __future__ import annotations

from typing import Any

from mimir.train.config import TrainConfig

__all__ = ["TrainConfig", "TrainResult", "TrainingRun", "train", "launch", "read_metrics", "merge_adapter", "submit_job"]

_LAZY = {
    "train": "mimir.train.trainer",
    "TrainResult": "mimir.train.trainer",
    "launch": "mimir.train.runner",
    "TrainingRun": "mimir.train.runner",
    "read_metrics": "mimir.train.runner",
    "merge_adapter": "mimir.train.merge",
    "submit_job": "mimir.train.jobs",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mimir.train' has no attribute {name!r}")
