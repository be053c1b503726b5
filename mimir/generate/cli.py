"""``python -m mimir generate --config gen.yaml [overrides]``: dialogues from a knowledge base."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mimir.config import load_config, merge_overrides, save_config
from mimir.generate.config import GenerateConfig


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML with GenerateConfig keys (top level or under `generate:`).")
    parser.add_argument("--knowledge", help="Knowledge base folder.")
    parser.add_argument("--output", help="Dialogue JSONL (appended; a rerun resumes).")
    parser.add_argument("--export", help="Also write the training export (chat messages JSONL) here.")
    parser.add_argument("--model", help="Model spec: local, local:PATH, endpoint:MODEL[@URL].")
    parser.add_argument("--max-dialogues", type=int, help="Cap on dialogues (0: all planned).")
    parser.add_argument("--domain", help="Roles domain (medical, legal, finance, education, customer_support).")
    parser.add_argument("--target-role", help="The expert role being tuned.")
    parser.add_argument("--include-reasoning", action="store_true", help="Export: keep framework traces in the assistant text.")
    parser.add_argument("--no-tools-in-export", action="store_true", help="Export: drop tool calls and observations (closed book).")
    parser.add_argument("--print-config", action="store_true", help="Print the effective config as YAML and exit.")


def load(args: argparse.Namespace) -> GenerateConfig:
    config = load_config(GenerateConfig, args.config, section="generate") if args.config else GenerateConfig()
    overrides = {"knowledge": args.knowledge, "output": args.output, "export": args.export, "model": args.model,
                 "max_dialogues": args.max_dialogues, "domain": args.domain, "target_role": args.target_role}
    return merge_overrides(config, overrides)


def run(args: argparse.Namespace) -> int:
    config = load(args)
    if args.print_config:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            print(save_config(config, Path(tmp) / "gen.yaml").read_text(encoding="utf-8"))
        return 0
    from mimir.generate.export import export_for_training, fact_share, write_export
    from mimir.generate.pipeline import as_knowledge, generate_dialogues
    from mimir.generate.planner import coverage
    from mimir.models import load_model
    from mimir.secrets import install_log_redaction

    install_log_redaction()
    kb = as_knowledge(config.knowledge)
    model = load_model(config.model)

    def progress(done: int, total: int, dialogue) -> None:
        status = "ok" if dialogue.status == "ok" else f"FAILED ({dialogue.error[:80]})"
        print(f"[{done}/{total}] {dialogue.id} {status}", file=sys.stderr, flush=True)

    try:
        dialogues = generate_dialogues(kb, config, model, config.output, progress)
    finally:
        model.close()
    ok = [d for d in dialogues if d.status == "ok"]
    chunks = kb.chunks()
    scenarios = [d.scenario for d in dialogues if d.scenario is not None]
    share = fact_share(ok, chunks)
    cov = coverage(scenarios, chunks)
    turns = [sum(1 for t in d.turns if t.role != "tool") for d in ok]
    print(f"dialogues: {len(ok)} ok, {len(dialogues) - len(ok)} failed -> {config.output}")
    if turns:
        print(f"turns per dialogue: min {min(turns)}, mean {sum(turns) / len(turns):.1f}; >= 3 turns: {sum(t >= 3 for t in turns)}")
    print(f"coverage: {cov['chunks']:.0%} of chunks, {cov['fact_sentences']:.0%} of fact sentences")
    print(f"expert turns with a source fact: {share['with_source_fact']:.0%} of {share['expert_turns']} "
          f"(with the focus fact: {share['with_focus_fact']:.0%})")
    if config.export:
        rows = export_for_training(ok, include_reasoning=args.include_reasoning, include_tools=not args.no_tools_in_export,
                                   roles=config.roles_file)
        print(f"export: {len(rows)} rows -> {write_export(rows, config.export)}")
    return 0 if ok or not dialogues else 1
