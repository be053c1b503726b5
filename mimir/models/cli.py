"""``python -m mimir chat "question" [--model SPEC]``."""

from __future__ import annotations

import argparse

from mimir.models import GenerationSettings, load_model


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", help="What to ask.")
    parser.add_argument("--model", default="local", help="Model spec: local, local:PATH, endpoint:MODEL[@URL].")
    parser.add_argument("--system", default="You are a helpful, accurate assistant.", help="System prompt.")
    parser.add_argument("--max-new-tokens", type=int, default=200, help="Longest reply in tokens.")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy.")
    parser.add_argument("--seed", type=int, default=None, help="Seed when sampling.")


def run(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    messages = [{"role": "system", "content": args.system}, {"role": "user", "content": args.question}]
    settings = GenerationSettings(max_new_tokens=args.max_new_tokens, temperature=args.temperature, seed=args.seed)
    try:
        print(model.chat(messages, settings).text.strip())
    finally:
        model.close()
    return 0
