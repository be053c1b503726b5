"""``python -m mimir <stage> ...`` — every UI action is also a command.

Stage commands live next to their code (``mimir/<stage>/cli.py`` or similar) and expose
``configure(parser)`` and ``run(args) -> int``. They are imported only when chosen, so
``python -m mimir --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from mimir.errors import MimirError
from mimir.runtime import settle_openmp_waiting

# name -> (module, one-line help). Order is the pipeline's order.
COMMANDS: dict[str, tuple[str, str]] = {
    "chat": ("mimir.models.cli", "Ask a chat model one question (smoke test of the model layer)."),
    "knowledge": ("mimir.knowledge.cli", "Build and query knowledge bases: add | list | search | datasets."),
    "tune": ("mimir.tune", "Documents in, a tuned adapter and its knowledge check out (the whole path, resumable)."),
    "generate": ("mimir.generate.cli", "Generate multi-role dialogues from a knowledge base."),
    "baseline": ("mimir.generate.baseline_cli", "Build baseline data: original | self-instruct | baize."),
    "verify": ("mimir.verify.cli", "Check generated dialogues against their sources: keep, fix or reject."),
    "train": ("mimir.train.cli", "Fine-tune with LoRA / QLoRA from a YAML config."),
    "evaluate": ("mimir.evaluate.cli", "Pairwise win / tie / loss between two models."),
    "experiment": ("mimir.experiment.run", "Run the paper's comparison end to end on one knowledge base."),
    "push": ("mimir.hub.cli", "Push a dataset or an adapter to the Hugging Face Hub."),
    "app": ("mimir.ui.launch", "Start the Gradio app."),
}


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mimir",
        description="MIMIR: personalized agent tuning — private knowledge in, a tuned expert model out.",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="Log progress to stderr.")
    sub = parser.add_subparsers(dest="command", metavar="<stage>", title="stages")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = False
    while argv and argv[0] in ("-v", "--verbose"):
        verbose = True
        argv.pop(0)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        parser = _top_parser()
        if argv and argv[0] not in ("-h", "--help"):
            parser.error(f"unknown stage {argv[0]!r}")
        parser.print_help()
        return 0
    name, rest = argv[0], argv[1:]
    settle_openmp_waiting()  # before any stage module imports torch
    module = importlib.import_module(COMMANDS[name][0])
    parser = argparse.ArgumentParser(prog=f"python -m mimir {name}", description=COMMANDS[name][1])
    module.configure(parser)
    if rest[:1] == ["--print-config"] and parser._subparsers is not None:  # stages with actions: every config's defaults
        from mimir.cliargs import render_config

        print("\n".join(render_config(cls()) for cls in getattr(module, "CONFIGS", {}).values()), end="")
        return 0
    args = parser.parse_args(rest)
    try:
        return int(module.run(args) or 0)
    except MimirError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped; finished work is saved and a rerun resumes it", file=sys.stderr)
        return 130
