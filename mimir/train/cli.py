"""``python -m mimir train``: run, detach, submit to HF Jobs, or merge.

    python -m mimir train --config train.yaml                  # foreground (this is also the worker)
    python -m mimir train --config train.yaml --detach         # background subprocess; watch metrics.jsonl
    python -m mimir train --config train.yaml --set rank=8 --set max_steps=100
    python -m mimir train --config train.yaml --job --flavor a10g-small --mimir-source git+https://...
    python -m mimir train --merge runs/a/adapter --to runs/a/merged
    accelerate launch -m mimir train --config train.yaml       # multi-GPU (data parallel)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from mimir.config import config_from_dict, load_config, merge_overrides
from mimir.errors import ConfigError
from mimir.train.config import TrainConfig

def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML file with TrainConfig keys (see docs of mimir.train.config).")
    parser.add_argument("--dataset", help="Override `dataset` (JSONL of dialogues).")
    parser.add_argument("--output-dir", help="Override `output_dir`.")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="Override any config key; VALUE is read as YAML (e.g. rank=8, packing=true).")
    parser.add_argument("--detach", action="store_true", help="Start in the background and return at once.")
    parser.add_argument("--job", action="store_true", help="Submit to Hugging Face Jobs instead of training here.")
    parser.add_argument("--flavor", default="a10g-small", help="HF Jobs hardware flavor (with --job).")
    parser.add_argument("--timeout", default="2h", help="HF Jobs time limit, e.g. 90m, 2h (with --job).")
    parser.add_argument("--mimir-source", help="pip requirement that installs MIMIR inside the job (with --job).")
    parser.add_argument("--namespace", help="HF user or org that runs the job (default: the token's user).")
    parser.add_argument("--merge", metavar="ADAPTER_DIR", help="Merge this adapter into its base model and exit.")
    parser.add_argument("--to", metavar="DIR", help="Where --merge writes the merged model.")
    parser.add_argument("--print-config", action="store_true", help="Print the resolved config as YAML and exit.")


def read_train_config(path: str | Path) -> TrainConfig:
    """Load a train YAML (keys bare or under ``train:``); ``1e-4`` reads as a number."""
    return load_config(TrainConfig, path, section="train")


def _config(args: argparse.Namespace) -> TrainConfig:
    config = read_train_config(args.config) if args.config else config_from_dict(TrainConfig, {})
    overrides: dict[str, Any] = {"dataset": args.dataset, "output_dir": args.output_dir}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
        overrides[key.strip()] = yaml.safe_load(value)
    return merge_overrides(config, overrides)


def run(args: argparse.Namespace) -> int:
    if args.merge:
        from mimir.train.merge import merge_adapter

        if not args.to:
            raise ConfigError("--merge needs --to DIR for the merged model")
        print(merge_adapter(args.merge, args.to))
        return 0
    config = _config(args)
    if args.print_config:
        from mimir.config import config_to_dict

        print(yaml.safe_dump(config_to_dict(config), sort_keys=False), end="")
        return 0
    if args.job:
        from mimir.train.jobs import JobsConfig, submit_job

        jobs = JobsConfig(flavor=args.flavor, timeout=args.timeout, mimir_source=args.mimir_source or "",
                          namespace=args.namespace)
        job = submit_job(config, jobs)
        print(json.dumps({"job_id": job.id, "url": job.url, "status": job.status}))
        return 0
    if args.detach:
        from mimir.train.runner import launch

        handle = launch(config)
        print(json.dumps({"pid": handle.pid, "output_dir": str(handle.output_dir)}))
        return 0
    from mimir.train.trainer import train

    result = train(config)
    if result.status == "stopped":
        print(f"stopped at step {result.steps}; rerun the same command to resume", file=sys.stderr)
    else:
        print(json.dumps({"adapter": result.adapter_dir, "steps": result.steps, "final_loss": result.final_loss,
                          **result.eval_results}))
    return 0
