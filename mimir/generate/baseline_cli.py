"""``python -m mimir baseline {original,self-instruct,baize} --knowledge KB --output out.jsonl``."""

from __future__ import annotations

import argparse
import sys

from mimir.cliargs import add_config_arguments, config_from_args, print_config_requested, render_config
from mimir.generate.config import BaselineConfig

CONFIGS = {"baseline": BaselineConfig}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", nargs="?", choices=["original", "self-instruct", "baize"], help="Which baseline to build.")
    add_config_arguments(parser, BaselineConfig, section="baseline", exclude=("kind",), flags={"n": ["-n", "--n"]})


def run(args: argparse.Namespace) -> int:
    from mimir.generate.baselines import build_baseline
    from mimir.generate.export import export_for_training, write_export
    from mimir.generate.roles import load_roles

    printing = print_config_requested(args)
    config = config_from_args(BaselineConfig, args, section="baseline", overrides={"kind": args.kind}, check_files=not printing)
    if printing:
        print(render_config(config), end="")
        return 0
    load_roles(config.roles_file).in_domain(config.domain)  # a bad roles file fails before the model loads
    model = None
    if config.kind != "original":
        from mimir.models import load_model

        model = load_model(config.model)

    def progress(done: int, total: int, dialogue) -> None:
        print(f"[{done}/{total}] {dialogue.id} {dialogue.status}", file=sys.stderr, flush=True)

    try:
        dialogues = build_baseline(config.kind, config.knowledge, model, config.output, config.n, config=config, progress=progress)
    finally:
        if model is not None:
            model.close()
    ok = [d for d in dialogues if d.status == "ok"]
    print(f"{config.kind}: {len(ok)} ok, {len(dialogues) - len(ok)} failed -> {config.output}")
    if config.export:
        rows = export_for_training(ok, include_reasoning=False, roles=config.roles_file)
        print(f"export: {len(rows)} rows -> {write_export(rows, config.export)}")
    return 0 if ok else 1
