"""``python -m mimir verify --dialogues X --knowledge KB [--judge SPEC] [--mode filter|judge|fix]``."""

from __future__ import annotations

import argparse
import sys

from mimir.config import load_config, merge_overrides
from mimir.verify.config import VerifyConfig


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dialogues", required=True, help="Dialogues JSONL written by `generate` (never modified).")
    parser.add_argument("--knowledge", required=True, help="Knowledge base folder the dialogues were generated from.")
    parser.add_argument("--mode", choices=["filter", "judge", "fix"], help="filter (default), judge or fix.")
    parser.add_argument("--judge", help="Judge model spec: local, local:PATH, endpoint:MODEL[@URL].")
    parser.add_argument("--out-dir", help="Folder for verdicts.jsonl and the report (default: beside the dialogues).")
    parser.add_argument("--config", help="YAML with VerifyConfig keys (top level or under `verify:`).")
    parser.add_argument("--language", help="Expected language code, 'auto' (from the sources) or 'any'.")
    parser.add_argument("--grounding", choices=["reject", "hint", "off"], help="What a grounding flag does.")


def load(args: argparse.Namespace) -> VerifyConfig:
    config = load_config(VerifyConfig, args.config, section="verify") if args.config else VerifyConfig()
    return merge_overrides(config, {"mode": args.mode, "judge": args.judge, "language": args.language, "grounding": args.grounding})


def run(args: argparse.Namespace) -> int:
    from mimir.secrets import install_log_redaction
    from mimir.verify.pipeline import verify_dialogues

    install_log_redaction()
    config = load(args)

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
