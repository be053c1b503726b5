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

from mimir.config import config_from_dict, load_config, merge_overrides
from mimir.errors import ConfigError


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="what", metavar="dataset|adapter|whoami", required=True)

    ds = sub.add_parser("dataset", help="Push JSONL dialogue splits as a parquet dataset with a card.")
    _common(ds)
    ds.add_argument("--raw", help="JSONL of generated dialogues (split 'raw').")
    ds.add_argument("--verified", help="JSONL of verified dialogues (split 'verified').")
    ds.add_argument("--baseline", help="JSONL of baseline data (split 'baseline').")
    ds.add_argument("--split", action="append", default=[], metavar="NAME=PATH", help="Any other split (repeatable).")
    ds.add_argument("--verdicts", help="verdicts.jsonl of the verify stage, for the card's verification totals.")
    ds.add_argument("--run-config", help="MIMIR config embedded in the card (default: --config).")
    ds.add_argument("--source", action="append", default=[], help="Knowledge source name listed in the card (repeatable).")
    ds.add_argument("--knowledge-file", action="append", default=[], help="Knowledge file: listed by name; uploaded only with --include-knowledge.")
    ds.add_argument("--include-knowledge", action="store_true", default=None, help="Upload the knowledge files themselves.")
    ds.add_argument("--language", action="append", help="ISO 639-1 code for the card (repeatable; default: detected).")
    ds.add_argument("--pretty-name", help="Dataset title for the card.")
    ds.add_argument("--max-shard-rows", type=int, help="Rows per parquet shard.")

    ad = sub.add_parser("adapter", help="Push a trained peft adapter folder with a model card.")
    _common(ad)
    ad.add_argument("--adapter-dir", required=True, help="The adapter folder written by `python -m mimir train`.")
    ad.add_argument("--base-model", help="Hub id of the base model (default: from adapter_config.json).")
    ad.add_argument("--eval-results", help="JSON file of evaluation results for the card.")
    ad.add_argument("--dataset-repo", help="Dataset repo the adapter was trained on (linked in the card).")
    ad.add_argument("--merged-repo", help="Also push the merged full model to this repo.")
    ad.add_argument("--language", action="append", help="ISO 639-1 code for the card (repeatable).")

    who = sub.add_parser("whoami", help="Show which account the token belongs to.")
    who.add_argument("--token", help="Hugging Face token (default: HF_TOKEN).")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", help="Target repo: 'name' (your account) or 'namespace/name'.")
    parser.add_argument("--token", help="Hugging Face token with write access (default: HF_TOKEN).")
    parser.add_argument("--config", help="Run YAML; its push_dataset / push_adapter section gives defaults.")
    visibility = parser.add_mutually_exclusive_group()
    visibility.add_argument("--public", dest="private", action="store_false", default=None, help="Create a public repo.")
    visibility.add_argument("--private", dest="private", action="store_true", help="Create a private repo (the default).")
    parser.add_argument("--license", help="License identifier for the card metadata.")
    parser.add_argument("--tag", action="append", help="Extra card tag (repeatable).")


def _config(cls: type, args: argparse.Namespace, section: str, overrides: dict[str, Any]) -> Any:
    config = load_config(cls, args.config, section=section) if args.config else config_from_dict(cls, {})
    overrides.update(repo_id=args.repo, private=args.private, license=args.license, tags=args.tag)
    return merge_overrides(config, overrides)


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
    from mimir.hub.config import DatasetPushConfig
    from mimir.hub.dataset import push_dataset

    config = _config(DatasetPushConfig, args, "push_dataset", {
        "include_knowledge_files": args.include_knowledge, "language": args.language,
        "pretty_name": args.pretty_name, "max_shard_rows": args.max_shard_rows,
    })
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
    from mimir.hub.config import AdapterPushConfig

    config = _config(AdapterPushConfig, args, "push_adapter", {
        "base_model": args.base_model, "dataset_repo": args.dataset_repo, "merged_repo_id": args.merged_repo,
        "language": args.language,
    })
    result = push_adapter(args.adapter_dir, config=config, token=args.token, eval_results=args.eval_results, progress=_progress)
    print(json.dumps(result.to_dict(), indent=2))
    return 0
