"""``python -m mimir push dataset|adapter|whoami`` — share what MIMIR made on the Hub.

The token comes from ``--token`` or ``HF_TOKEN`` (prefer the variable: a flag stays in shell
history). Options can also come from a run YAML (``--config run.yaml``, sections
``push_dataset`` / ``push_adapter``); flags override it. The dataset card embeds that run
config (sanitized) unless ``--run-config`` names another file.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mimir.cliargs import add_config_arguments, config_from_args, print_config_requested, render_config
from mimir.errors import ConfigError
from mimir.hub.config import AdapterPushConfig, DatasetPushConfig

CONFIGS = {"push_dataset": DatasetPushConfig, "push_adapter": AdapterPushConfig}
# Flags that read better than the field names (the YAML keys stay the field names).
_FLAGS = {"repo_id": ["--repo"], "tags": ["--tag", "--tags"], "include_knowledge_files": ["--include-knowledge"],
          "merged_repo_id": ["--merged-repo"]}


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="what", metavar="dataset|adapter|whoami", required=True)

    ds = sub.add_parser("dataset", help="Push JSONL dialogue splits as a parquet dataset with a card.")
    _common(ds, DatasetPushConfig, "push_dataset")
    ds.add_argument("--raw", help="JSONL of generated dialogues (split 'raw').")
    ds.add_argument("--verified", help="JSONL of verified dialogues (split 'verified').")
    ds.add_argument("--baseline", help="JSONL of baseline data (split 'baseline').")
    ds.add_argument("--split", action="append", default=[], metavar="NAME=PATH", help="Any other split (repeatable).")
    ds.add_argument("--verdicts", help="verdicts.jsonl of the verify stage, for the card's verification totals.")
    ds.add_argument("--run-config", help="MIMIR config embedded in the card (default: --config).")
    ds.add_argument("--source", action="append", default=[], help="Knowledge source name listed in the card (repeatable).")
    ds.add_argument("--knowledge-file", action="append", default=[], help="Knowledge file: listed by name; uploaded only with --include-knowledge.")

    ad = sub.add_parser("adapter", help="Push a trained peft adapter folder with a model card.")
    _common(ad, AdapterPushConfig, "push_adapter")
    ad.add_argument("--adapter-dir", help="The adapter folder written by `python -m mimir train`. Required.")
    ad.add_argument("--eval-results", help="JSON file of evaluation results for the card.")

    who = sub.add_parser("whoami", help="Show which account the token belongs to.")
    who.add_argument("--token", help="Hugging Face token (default: HF_TOKEN).")


def _common(parser: argparse.ArgumentParser, cls: type, section: str) -> None:
    parser.add_argument("--token", help="Hugging Face token with write access (default: HF_TOKEN).")
    add_config_arguments(parser, cls, section=section, exclude=("private",), flags=_FLAGS)
    visibility = parser.add_mutually_exclusive_group()
    visibility.add_argument("--public", dest="private", action="store_false", default=None, help="Create a public repo.")
    visibility.add_argument("--private", dest="private", action="store_true", help="Create a private repo (the default).")


def _config(cls: type, args: argparse.Namespace, section: str) -> Any:
    return config_from_args(cls, args, section=section, overrides={"private": args.private})


def _progress(message: str) -> None:
    print(message, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from mimir.secrets import install_log_redaction

    install_log_redaction()
    if args.what == "whoami":
        from mimir.hub.auth import whoami

        print(json.dumps(whoami(args.token)))
        return 0
    if args.what == "dataset":
        return _push_dataset(args)
    return _push_adapter(args)


def _push_dataset(args: argparse.Namespace) -> int:
    from mimir.hub.dataset import push_dataset

    config = _config(DatasetPushConfig, args, "push_dataset")
    if print_config_requested(args):
        print(render_config(config), end="")
        return 0
    splits = {name: path for name, path in (("raw", args.raw), ("verified", args.verified), ("baseline", args.baseline)) if path}
    for item in args.split:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ConfigError(f"--split {item!r}: expected NAME=PATH, e.g. --split baize=baize.jsonl")
        splits[name] = path
    if not splits:
        raise ConfigError("nothing to push: give --raw, --verified, --baseline or --split NAME=PATH")
    result = push_dataset(
        splits, config=config, token=args.token, run_config=args.run_config or args.config, verdicts=args.verdicts,
        knowledge_sources=args.source, knowledge_files=args.knowledge_file, progress=_progress,
    )
    print(json.dumps(result.to_dict(), indent=2))
    return 0


def _push_adapter(args: argparse.Namespace) -> int:
    from mimir.hub.adapter import push_adapter

    config = _config(AdapterPushConfig, args, "push_adapter")
    if print_config_requested(args):
        print(render_config(config), end="")
        return 0
    if not args.adapter_dir:
        raise ConfigError("--adapter-dir is required: the adapter folder written by `python -m mimir train`")
    result = push_adapter(args.adapter_dir, config=config, token=args.token, eval_results=args.eval_results, progress=_progress)
    print(json.dumps(result.to_dict(), indent=2))
    return 0
