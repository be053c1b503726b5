"""Every prompt template MIMIR sends, one YAML file per stage (``mimir/prompts/<stage>.yaml``).

:func:`load_prompts` is the one reader: files are found inside the installed package (any
working directory), parsed once, and a missing or damaged file is a :class:`ConfigError`
naming it.
"""

from __future__ import annotations

import functools
from typing import Any

from mimir.config import read_data_file
from mimir.errors import ConfigError
from mimir.resources import package_path

STAGES = ("generate", "baselines", "verify", "evaluate")


def prompts_file(stage: str):  # -> pathlib.Path
    return package_path("prompts", f"{stage}.yaml")


@functools.lru_cache(maxsize=None)
def load_prompts(stage: str = "generate") -> dict[str, Any]:
    """The templates of one stage by name (text, or lists for seed material). Cached; treat as read-only."""
    path = prompts_file(stage)
    data = read_data_file(path, what="prompt file", mapping=True)
    return {str(k): v for k, v in data.items()}


def prompt(stage: str, name: str) -> str:
    """One template; a missing one names the file and the key."""
    table = load_prompts(stage)
    if name not in table:
        raise ConfigError(f"{prompts_file(stage)}: prompt {name!r} is missing")
    return str(table[name])
