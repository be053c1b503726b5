"""The evaluation prompts, loaded from ``mimir/prompts/evaluate.yaml``."""

from __future__ import annotations

import functools
from pathlib import Path

PROMPTS_FILE = Path(__file__).resolve().parent.parent / "prompts" / "evaluate.yaml"


@functools.lru_cache(maxsize=1)
def prompts() -> dict[str, str]:
    import yaml

    data = yaml.safe_load(PROMPTS_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{PROMPTS_FILE}: expected a mapping of prompt names to templates")
    return {str(k): str(v) for k, v in data.items()}


def prompt(name: str) -> str:
    table = prompts()
    if name not in table:
        raise KeyError(f"{PROMPTS_FILE}: prompt {name!r} is missing")
    return table[name]
