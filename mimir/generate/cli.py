"""``python -m mimir generate --config gen.yaml [overrides]``: dialogues from a knowledge base."""

from __future__ import annotations

import argparse
import sys

from mimir.cliargs import add_config_arguments, config_from_args, print_config_requested, render_config
from mimir.generate.config import GenerateConfig

CONFIGS = {"generate": GenerateConfig}


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, GenerateConfig, section="generate")
    parser.add_argument("--include-reasoning", action="store_true", help="Export: keep framework traces in the assistant text.")
    parser.add_argument("--no-tools-in-export", action="store_true", help="Export: drop tool calls and observations (closed book).")


def load(args: argparse.Namespace) -> GenerateConfig:
    """The config from --config and the flags, checked (values, ranges, files) before any model loads."""
    from mimir.generate.roles import load_roles
    from mimir.models.registry import ModelConfig

    config = config_from_args(GenerateConfig, args, section="generate", check_files=not print_config_requested(args))
    if not print_config_requested(args):
        if not config.knowledge:
            from mimir.errors import ConfigError

            raise ConfigError("generate.knowledge is empty: pass --knowledge KB_FOLDER (built by `mimir knowledge add`)")
        book = load_roles(config.roles_file)
        book.in_domain(config.domain)
        ModelConfig.from_spec(config.model)
    return config


def run(args: argparse.Namespace) -> int:
    config = load(args)
    if print_config_requested(args):
        print(render_config(config), end="")
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
