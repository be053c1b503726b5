"""What a run writes into its output folder, and the status file both sides of the subprocess read."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

CONFIG_FILE = "train_config.yaml"  # resolved config; `python -m mimir train --config` reruns/resumes it
METRICS_FILE = "metrics.jsonl"  # one record per logged step + start/end/error events
STATUS_FILE = "status.json"  # {"state": starting|running|finished|stopped|failed, "pid", "message", ...}
LOG_FILE = "train.log"  # stdout + stderr of a launched subprocess
ADAPTER_DIR = "adapter"  # peft adapter + tokenizer (training chat template) + README.md card
MERGED_DIR = "merged"  # optional: base model with the adapter merged in
ACTIVE = ("starting", "running")


def is_main_process() -> bool:
    """False on the extra ranks of ``accelerate launch`` / torchrun: only rank 0 writes run files."""
    return os.environ.get("RANK", "0") == "0"


def write_status(output_dir: str | Path, state: str, **extra: Any) -> None:
    """Atomically record the run state (rank 0 only)."""
    if not is_main_process():
        return
    path = Path(output_dir) / STATUS_FILE
    tmp = path.with_name(STATUS_FILE + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"state": state, "pid": os.getpid(), "time": time.time(), **extra}), encoding="utf-8")
    tmp.replace(path)


def read_status(output_dir: str | Path) -> dict[str, Any]:
    try:
        return json.loads((Path(output_dir) / STATUS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
