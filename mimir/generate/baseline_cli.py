"""``python -m mimir baseline {original,self-instruct,baize} --knowledge KB --output out.jsonl``."""

from __future__ import annotations

import argparse
import sys

from mimir.config import load_config, merge_overrides


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=["original", "self-instruct", "baize"], help="Which baseline to build.")
    parser.add_argument("--config", help="YAML with BaselineConfig keys (top level or under `baseline:`).")
    parser.add_argument("--knowledge", help="Knowledge base folder.")
    parser.add_argument("--output", help="Baseline JSONL (appended; a rerun resumes).")
    parser.add_argument("--export", help="Also write the training export (chat messages JSONL) here.")
    parser.add_argument("--model", help="Model spec (self-instruct, baize).")
    parser.add_argument("-n", type=int, help="How many examples.")
    parser.add_argument("--holdout-questions", help="JSONL of evaluation questions to keep out.")


def run(args: argparse.Namespace) -> int:
    from mimir.generate.baselines import build_baseline
    from mimir.generate.config import BaselineConfig
    from mimir.generate.export import export_for_training, write_export

    config = load_config(BaselineConfig, args.config, section="baseline") if args.config else BaselineConfig()
    config = merge_overrides(config, {"kind": args.kind, "knowledge": args.knowledge, "output": args.output, "export": args.export,
                                      "model": args.model, "n": args.n, "holdout_questions": args.holdout_questions})
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
