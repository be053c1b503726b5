"""``python -m mimir chat "question" [--model SPEC]``."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from mimir.cliargs import add_config_arguments, config_from_args, print_config_requested, render_config
from mimir.config import option
from mimir.models.registry import ModelConfig


@dataclass
class ChatConfig:
    """One question to one chat model (a smoke test of the model layer)."""

    model: str = option("local", help="Model spec: local, local:PATH, endpoint:MODEL[@URL] (options after '?').")
    system: str = option("You are a helpful, accurate assistant.", help="System prompt.")
    max_new_tokens: int = option(200, min=1, help="Longest reply in tokens.")
    temperature: float = option(0.0, min=0.0, max=2.0, help="0 = greedy.")
    seed: int | None = option(None, help="Seed when sampling.")


CONFIGS = {"chat": ChatConfig, "model spec options (SPEC?key=value)": ModelConfig}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", nargs="?", help="What to ask.")
    add_config_arguments(parser, ChatConfig, section="chat")


def run(args: argparse.Namespace) -> int:
    from mimir.errors import ConfigError
    from mimir.models import GenerationSettings, load_model

    config = config_from_args(ChatConfig, args, section="chat")
    if print_config_requested(args):
        print(render_config(config), end="")
        return 0
    if not args.question:
        raise ConfigError("no question: python -m mimir chat \"What is hypertension?\"")
    ModelConfig.from_spec(config.model)  # a bad spec fails before the model loads
    model = load_model(config.model)
    messages = [{"role": "system", "content": config.system}, {"role": "user", "content": args.question}]
    settings = GenerationSettings(max_new_tokens=config.max_new_tokens, temperature=config.temperature, seed=config.seed)
    try:
        print(model.chat(messages, settings).text.strip())
    finally:
        model.close()
    return 0
