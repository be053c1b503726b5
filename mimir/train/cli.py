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

from mimir.cliargs import add_config_arguments, config_from_args, print_config_requested, render_config, yaml_assignments
from mimir.config import load_config
from mimir.errors import ConfigError
from mimir.train.config import TrainConfig
from mimir.train.jobs import JobsConfig

CONFIGS = {"train": TrainConfig, "jobs (train --job)": JobsConfig}


def configure(parser: argparse.ArgumentParser) -> None:
    # `merge` (also write the merged model) is set in the YAML or with --set merge=true: --merge below merges an adapter.
    add_config_arguments(parser, TrainConfig, section="train", exclude=("merge",))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="Override any config key; VALUE is read as YAML (e.g. rank=8, packing=true).")
    parser.add_argument("--detach", action="store_true", help="Start in the background and return at once.")
    parser.add_argument("--job", action="store_true", help="Submit to Hugging Face Jobs instead of training here.")
    add_config_arguments(parser, JobsConfig, exclude=("endpoint",), config_file=False, print_config=False)
    parser.add_argument("--merge", metavar="ADAPTER_DIR", help="Merge this adapter into its base model and exit.")
    parser.add_argument("--to", metavar="DIR", help="Where --merge writes the merged model.")


def read_train_config(path: str | Path) -> TrainConfig:
    """Load a train YAML (keys bare or under ``train:``); ``1e-4`` reads as a number."""
    return load_config(TrainConfig, path, section="train")


def _config(args: argparse.Namespace) -> TrainConfig:
    config = config_from_args(TrainConfig, args, section="train", overrides=yaml_assignments(args.set))
    return config if print_config_requested(args) else config.validate()


def run(args: argparse.Namespace) -> int:
    if args.merge:
        from mimir.train.merge import merge_adapter

        if not args.to:
            raise ConfigError("--merge needs --to DIR for the merged model")
        print(merge_adapter(args.merge, args.to))
        return 0
    config = _config(args)
    if print_config_requested(args):
        print(render_config(config), end="")
        return 0
    if args.job:
        from mimir.train.jobs import submit_job

        jobs = config_from_args(JobsConfig, args, section="jobs", from_file=False, check_files=False)
        job = submit_job(config, jobs)
        print(json.dumps({"job_id": job.id, "url": job.url, "status": job.status}))
        return 0
    if args.detach:
        from mimir.train.runner import launch

        handle = launch(config)
        print(json.dumps({"pid": handle.pid, "output_dir": str(handle.output_dir)}))
        return 0
    from mimir.runtime import keep_freed_memory_in_heap
    from mimir.train.trainer import train

    keep_freed_memory_in_heap()  # this process ends with the run
    result = train(config)
    if result.status == "stopped":
        print(f"stopped at step {result.steps}; rerun the same command to resume", file=sys.stderr)
    else:
        print(json.dumps({"adapter": result.adapter_dir, "steps": result.steps, "final_loss": result.final_loss,
                          **result.eval_results}))
    return 0
