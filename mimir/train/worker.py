"""Data-parallel training entry point: one process per device, started by ``accelerate launch``.

    accelerate launch --multi_gpu --num_processes 2 -m mimir.train.worker --config train.yaml
    accelerate launch --multi_gpu --num_processes 2 -m mimir.train.worker --config train.yaml --set max_steps=100

On GPUs each process takes one device (NCCL); on a CPU-only machine the same command runs the
processes on the CPU over gloo (``--multi_gpu`` is accelerate's name for "several processes",
not a GPU check). Every rank trains on its shard of the data; gradients are averaged each step,
so the effective batch is ``batch_size x grad_accumulation x processes``. Only rank 0 writes the
run files (status, metrics, adapter, card) and prints the result; every rank logs its place in
the process group so a stuck or missing rank shows in the log. ``python -m mimir train`` works
under ``accelerate launch`` too; this module adds the per-rank log line and prints once.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

log = logging.getLogger("mimir.train.worker")


def world() -> dict[str, Any]:
    """This process's place in the data-parallel group: rank, world size, backend (1 / none alone)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return {"rank": dist.get_rank(), "world_size": dist.get_world_size(), "backend": str(dist.get_backend())}
    return {"rank": 0, "world_size": 1, "backend": "none"}


def main(argv: list[str] | None = None) -> int:
    from mimir.runtime import settle_openmp_waiting

    settle_openmp_waiting()  # before torch loads
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from mimir.cliargs import add_config_arguments, config_from_args, yaml_assignments
    from mimir.errors import MimirError
    from mimir.train.config import TrainConfig

    parser = argparse.ArgumentParser(prog="accelerate launch -m mimir.train.worker", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_arguments(parser, TrainConfig, section="train", print_config=False)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="Override any config key; VALUE is read as YAML (e.g. rank=8, max_steps=100).")
    args = parser.parse_args(argv)
    try:
        config = config_from_args(TrainConfig, args, section="train", overrides=yaml_assignments(args.set)).validate()
        from mimir.runtime import keep_freed_memory_in_heap
        from mimir.train.trainer import train

        keep_freed_memory_in_heap()  # this process ends with the run
        result = train(config)
    except MimirError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    place = world()
    log.info("rank %d of %d (%s backend): %s after %d steps", place["rank"], place["world_size"], place["backend"],
             result.status, result.steps)
    if place["rank"] == 0:
        print(json.dumps({"status": result.status, "adapter": result.adapter_dir, "steps": result.steps,
                          "final_loss": result.final_loss, "train_examples": result.train_examples, **place}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
