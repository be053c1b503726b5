"""Share what MIMIR made on the Hugging Face Hub: datasets and adapters with cards, and load them back.

Python API (imported lazily, so ``import mimir.hub`` stays cheap):

- :func:`push_dataset` (``mimir.hub.dataset``) — JSONL splits -> parquet + dataset card.
- :func:`push_adapter` (``mimir.hub.adapter``) — peft folder -> model repo + model card (+ merged model).
- :func:`load_dataset_from_hub`, :func:`load_records_from_hub`, :func:`download_adapter`,
  :func:`load_adapter_from_hub` — load back by repo id.
- :func:`whoami`, :func:`resolve_token` (``mimir.hub.auth``) — the token is passed per call.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "push_dataset": "mimir.hub.dataset",
    "load_dataset_from_hub": "mimir.hub.dataset",
    "load_records_from_hub": "mimir.hub.dataset",
    "push_adapter": "mimir.hub.adapter",
    "download_adapter": "mimir.hub.adapter",
    "load_adapter_from_hub": "mimir.hub.adapter",
    "whoami": "mimir.hub.auth",
    "resolve_token": "mimir.hub.auth",
    "HubAuthError": "mimir.hub.auth",
    "PushResult": "mimir.hub.repo",
    "DatasetPushConfig": "mimir.hub.config",
    "AdapterPushConfig": "mimir.hub.config",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'mimir.hub' has no attribute {name!r}")
