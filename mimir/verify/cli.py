"""``python -m mimir verify --dialogues X --knowledge KB [--judge SPEC] [--mode filter|judge|fix]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mimir.cliargs import add_config_arguments, config_from_args, print_config_requested, render_config
from mimir.errors import ConfigError
from mimir.verify.config import VerifyConfig

CONFIGS = {"verify": VerifyConfig}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dialogues", help="Dialogues JSONL written by `generate` (never modified). Required.")
    parser.add_argument("--knowledge", help="Knowledge base folder the dialogues were generated from. Required.")
    parser.add_argument("--out-dir", help="Folder for verdicts.jsonl and the report (default: beside the dialogues).")
    add_config_arguments(parser, VerifyConfig, section="verify")


def load(args: argparse.Namespace) -> VerifyConfig:
    """The config from --config and the flags (values and ranges checked)."""
    return config_from_args(VerifyConfig, args, section="verify")


def check_inputs(args: argparse.Namespace, config: VerifyConfig) -> None:
    """The dialogues, the knowledge base and the judge spec, checked before any model loads."""
    for flag, value, kind in (("--dialogues", args.dialogues, "file"), ("--knowledge", args.knowledge, "folder")):
        path = Path(value or "")
        if not value:
            raise ConfigError(f"{flag} is required")
        if not (path.is_file() if kind == "file" else path.is_dir()):
            raise ConfigError(f"{flag}: {kind} {value} does not exist")
    if config.mode != "filter":
        from mimir.models.registry import ModelConfig

        ModelConfig.from_spec(config.judge)


def run(args: argparse.Namespace) -> int:
    from mimir.secrets import install_log_redaction
    from mimir.verify.pipeline import verify_dialogues

    install_log_redaction()
    config = load(args)
    if print_config_requested(args):
        print(render_config(config), end="")
        return 0
    check_inputs(args, config)

    def progress(done: int, total: int) -> None:
        print(f"\r[{done}/{total}] verified", end="" if done < total else "\n", file=sys.stderr, flush=True)

    model = None
    if config.mode != "filter":
        from mimir.models import load_model

        model = load_model(config.judge)
    try:
        report = verify_dialogues(args.dialogues, args.knowledge, config, judge_model=model, out_dir=args.out_dir, progress=progress)
    finally:
        if model is not None:
            model.close()
    print(report.text())
    return 0
