"""``docs/configuration.md``, generated from the config dataclasses of every stage.

Each stage module (``COMMANDS`` in :mod:`mimir.cli`) lists its configs in a module-level
``CONFIGS = {"section": ConfigClass}``; this page shows every key with its default and help.
Regenerate after changing a config: ``python -m mimir.config_docs --write`` (a test fails while
the page is stale).
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from mimir.cliargs import config_summary, describe_field
from mimir.config import config_fields

DOC_PATH = Path("docs") / "configuration.md"
HEADER = """# Configuration reference

Generated from the config dataclasses by `python -m mimir.config_docs --write`; do not edit by hand
(`tests/test_config_cli.py` fails while this page is stale).

Every stage reads a YAML file (`--config FILE`, keys at the top level or under the stage's section)
and takes each key as a flag too (`max_dialogues` is `--max-dialogues`; booleans also have `--no-…`;
lists take several values; `<stage> --help` shows the few renamed ones, e.g. `push --repo`). Model
spec options go after `?` in a spec (`local?dtype=bf16`). `python -m mimir <stage> --print-config` prints the effective config
with this help as comments. Values are checked on load: a wrong type, a value out of range or a
missing file is an error naming the key, before any model loads.
"""


def stage_configs() -> list[tuple[str, str, type]]:
    """(stage, section, class) for every config of every stage, in the pipeline's order."""
    from mimir.cli import COMMANDS

    out, seen = [], set()
    for stage, (module_name, _) in COMMANDS.items():
        module = importlib.import_module(module_name)
        for section, cls in getattr(module, "CONFIGS", {}).items():
            if cls not in seen:
                seen.add(cls)
                out.append((stage, section, cls))
    return out


def render_markdown() -> str:
    parts = [HEADER]
    for stage, section, cls in stage_configs():
        parts.append(f"\n## `{stage}`: {section} (`{cls.__module__}.{cls.__name__}`)\n")
        summary = config_summary(cls)
        if summary:
            parts.append(f"{summary}\n")
        parts.append("| key | default and help |\n|---|---|")
        for name in config_fields(cls):
            text = describe_field(cls, name).replace("|", "\\|").replace("\n", " ")
            parts.append(f"| `{name}` | {text} |")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mimir.config_docs", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"Write {DOC_PATH} (relative to the current folder).")
    args = parser.parse_args(argv)
    text = render_markdown()
    if args.write:
        DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
        DOC_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {DOC_PATH}")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
