"""The evaluation prompts (``mimir/prompts/evaluate.yaml``), through the one prompt loader."""

from __future__ import annotations

from mimir.prompts import load_prompts
from mimir.prompts import prompt as _prompt
from mimir.prompts import prompts_file

PROMPTS_FILE = prompts_file("evaluate")


def prompts() -> dict[str, str]:
    return load_prompts("evaluate")


def prompt(name: str) -> str:
    return _prompt("evaluate", name)
