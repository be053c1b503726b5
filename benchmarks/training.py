"""Training speed and memory: `mimir train` vs a plain trl SFTTrainer script; peak RSS LoRA vs QLoRA.

    python benchmarks/training.py                 # both measurements (~3-5 min on 2 CPU cores)
    python benchmarks/training.py --steps 8 --only speed
    python benchmarks/training.py --only precision   # fp32 vs bf16 autocast at the small preset's settings
    python benchmarks/training.py --only step [--data runs/X/data/train.jsonl]   # what the small preset's step costs

Speed: the same dialogues, tokens, LoRA config and hyper-parameters go through (a) MIMIR's
``train()`` (the function `python -m mimir train` runs: masking, metrics JSONL, NaN guard,
checkpointing, card) and (b) a bare ``SFTTrainer`` on the same rendered text, alternating
a-b-a-b in one process; the median step time (first steps excluded) is compared. Target <= 1.05x.
Precision: the small preset's settings (`mimir.tune.SMALL_TRAIN`: rank 64, batch 8, KL anchor) in fp32 and in
bf16 autocast, alternating; the ratio is what `precision: auto` relies on when it picks bf16 for LoRA on
CPUs with AVX512-BF16 or AMX.
Step: one trainer at the small preset's settings, the same batches through ``training_step`` in four
variants, alternating: trl's defaults on CPU (every position through the LM head, LoRA dropout 0.05),
label positions only (`mimir.train.scoring`), no LoRA dropout, and both (what `tune` runs); then `tune`'s
step with the KL anchor's batch cut to one row, to 64 tokens per row, and off. Measured (2-core AMD EPYC,
AVX2, fp32; cowork-space's training records, batch 8x189, anchor 2x128, median of 3): trl defaults 28.8 s,
both 10.2 s (0.35x), anchor 1 row 9.5 s, anchor 64 tokens 9.3 s, no anchor 7.7 s. So the anchor is about a
fifth of the step, and halving its batch saves only ~7% (part of its cost does not shrink with its tokens);
`anchor_rows` / `anchor_tokens` stay 2 / 128, which is what the forgetting figures were measured with.
Memory: each method trains in a fresh subprocess that reports its peak RSS.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mimir.train.config import TrainConfig  # noqa: E402

WARMUP = 2  # step intervals dropped (allocator / thread-pool warm-up)


def make_data(path: Path, n: int = 48) -> Path:
    facts = [
        ("opening hours", "The clinic opens at 7:30 and closes at 18:00 on weekdays; on Saturdays it closes at noon."),
        ("parking", "Parking is free in lot B behind the clinic for up to three hours with a validated ticket."),
        ("flu shots", "Flu shots are given on Tuesdays and Thursdays without appointment from October to December."),
        ("lab results", "Lab results arrive by secure message within three working days; urgent ones by phone."),
    ]
    with path.open("w") as f:
        for i in range(n):
            topic, fact = facts[i % len(facts)]
            f.write(json.dumps({"id": f"b{i}", "messages": [
                {"role": "system", "content": "You are the nurse of the Lindenhof clinic."},
                {"role": "user", "name": "patient", "content": f"Question {i}: what about {topic}?"},
                {"role": "assistant", "content": "Let me check.", "tool_calls": [{"id": "c", "type": "function",
                    "function": {"name": "retrieve", "arguments": json.dumps({"query": topic})}}]},
                {"role": "tool", "tool_call_id": "c", "content": fact},
                {"role": "assistant", "content": f"{fact} Is there anything else about {topic}?"},
            ]}) + "\n")
    return path


def config_for(data: Path, out: Path, steps: int, method: str = "lora") -> TrainConfig:
    return TrainConfig(dataset=str(data), output_dir=str(out), max_steps=steps, batch_size=4, max_length=256,
                       save_steps=10_000, method=method, device="cpu", warmup_ratio=0.0, resume=False)


def median_interval(times: list[float]) -> float:
    gaps = [b - a for a, b in zip(times, times[1:])][WARMUP:]
    return statistics.median(gaps)


def run_mimir(config: TrainConfig) -> float:
    from mimir.train.trainer import train

    stamps: list[float] = []
    train(config, progress=lambda r: stamps.append(time.monotonic()) if "loss" in r else None)
    return median_interval(stamps)


def run_plain_trl(config: TrainConfig) -> float:
    """What a user would write by hand: SFTTrainer + LoraConfig on the conversations, with trl's own
    assistant-only loss (given MIMIR's template, since SmolLM2's has no generation markers)."""
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from mimir.models.embedded import resolve_model
    from mimir.train.data import load_conversations
    from mimir.train.modeling import load_tokenizer

    path = resolve_model(None)
    tokenizer, _ = load_tokenizer(path)  # base tokenizer + the training template with generation markers
    stamps: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            stamps.append(time.monotonic())

    args = SFTConfig(output_dir=config.output_dir, max_steps=config.max_steps, per_device_train_batch_size=config.batch_size,
                     learning_rate=config.learning_rate, lr_scheduler_type=config.lr_scheduler, max_length=config.max_length,
                     logging_steps=1, save_strategy="no", report_to="none", use_cpu=True, seed=config.seed, disable_tqdm=True,
                     warmup_steps=config.warmup_ratio, weight_decay=config.weight_decay, assistant_only_loss=True,
                     activation_checkpointing=config.gradient_checkpointing,  # trl defaults to True: match ours
                     bf16=False)  # trl defaults to bf16 autocast even on CPU; ours runs fp32 there: same precision
    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(path), args=args,
                         train_dataset=Dataset.from_dict({"messages": load_conversations(config.dataset)}),
                         processing_class=tokenizer,
                         peft_config=LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout,
                                                target_modules="all-linear", task_type="CAUSAL_LM"),
                         callbacks=[Clock()])
    trainer.train()
    return median_interval(stamps)


def speed(work: Path, steps: int, rounds: int) -> None:
    data = make_data(work / "data.jsonl")
    ours, plain = [], []
    for round_ in range(rounds):
        ours.append(run_mimir(config_for(data, work / f"mimir{round_}", steps)))
        plain.append(run_plain_trl(config_for(data, work / f"plain{round_}", steps)))
        print(f"round {round_}: mimir {ours[-1]:.3f} s/step, plain trl {plain[-1]:.3f} s/step", flush=True)
    ratio = min(ours) / min(plain)
    print(f"step time mimir train / plain SFTTrainer = {ratio:.3f}x (best of {rounds} rounds; target <= 1.05x)")


def precision(work: Path, steps: int, rounds: int) -> None:
    """fp32 vs bf16 autocast on this CPU, at the settings `tune` trains with."""
    import dataclasses

    from mimir.tune import SMALL_TRAIN

    data = make_data(work / "data.jsonl", n=96)
    small = {k: v for k, v in SMALL_TRAIN.items() if k not in ("epochs", "precision")}
    times: dict[str, list[float]] = {"fp32": [], "bf16": []}
    for round_ in range(rounds):
        for name in times:
            config = dataclasses.replace(config_for(data, work / f"{name}{round_}", steps), **small, precision=name)
            times[name].append(run_mimir(config))
        print(f"round {round_}: fp32 {times['fp32'][-1]:.3f} s/step, bf16 {times['bf16'][-1]:.3f} s/step", flush=True)
    print(f"step time bf16 / fp32 = {min(times['bf16']) / min(times['fp32']):.3f}x (best of {rounds} rounds)")


def step_costs(work: Path, rounds: int, data: str | None) -> None:
    """Seconds per ``training_step`` (forward, backward, anchor) at the small preset's settings, with
    and without label-only scoring and LoRA dropout, and with the KL anchor's batch at full size, at
    half (one row, or half the tokens per row) and off, on the same batches."""
    import dataclasses

    import torch

    from mimir.train.trainer import prepare_trainer
    from mimir.tune import SMALL_TRAIN

    path = Path(data) if data else make_data(work / "data.jsonl", n=96)
    small = {k: v for k, v in SMALL_TRAIN.items() if k not in ("epochs", "dropout", "save_steps")}
    config = dataclasses.replace(config_for(path, work / "step", 1), **small, dropout=0.05, save_steps=10_000)
    trainer, _, _ = prepare_trainer(config, work / "step")
    trainer.current_gradient_accumulation_steps = 1  # set by the training loop, which this drives by hand
    model = trainer.model
    model.train()
    batches = list(itertools.islice(iter(trainer.get_train_dataloader()), 2))
    anchor = list(itertools.islice(trainer.anchor, 2 * len(batches)))  # a prose and a chat batch per step pair
    lora = [(module, key, module.lora_dropout[key]) for module in model.modules() if hasattr(module, "lora_dropout")
            for key in module.lora_dropout]
    # name: (label positions only, LoRA dropout, anchor batch cut to [rows, tokens] or None for no anchor)
    full = tuple(anchor[0].shape)
    variants = {"trl defaults": (False, True, full), "labels only": (True, True, full), "no dropout": (False, False, full),
                "both (tune)": (True, False, full), "tune, anchor 1 row": (True, False, (1, full[1])),
                "tune, anchor 64 tokens": (True, False, (full[0], 64)), "tune, no anchor": (True, False, None)}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_ in range(rounds):
        for name, (labels_only, dropout, cut) in variants.items():
            trainer.score_labels_only = labels_only
            for module, key, layer in lora:
                module.lora_dropout[key] = layer if dropout else torch.nn.Identity()
            trainer.anchor_weight = config.anchor_weight if cut else 0.0
            trainer.anchor = iter([a[:cut[0], :cut[1]] for a in anchor]) if cut else None
            start = time.monotonic()
            for batch in batches:
                trainer.training_step(model, dict(batch))
                model.zero_grad()
            times[name].append((time.monotonic() - start) / len(batches))
        print(f"round {round_}: " + ", ".join(f"{name} {t[-1]:.2f} s" for name, t in times.items()), flush=True)
    shape = "x".join(str(n) for n in batches[0]["input_ids"].shape)
    base = statistics.median(times["trl defaults"])
    print(f"training batch {shape}, anchor batch {full[0]}x{full[1]}")
    for name, t in times.items():
        print(f"{name}: {statistics.median(t):.2f} s/step (median of {rounds}) = {statistics.median(t) / base:.2f}x")


def rss_child(method: str, steps: int) -> None:
    from mimir.train.trainer import train

    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(Path(tmp) / "data.jsonl")
        start = time.monotonic()
        train(config_for(data, Path(tmp) / "out", steps, method))
        elapsed = time.monotonic() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(json.dumps({"method": method, "peak_rss_mib": round(peak), "seconds": round(elapsed, 1)}))


def memory(steps: int) -> None:
    results = {}
    for method in ("lora", "qlora"):
        out = subprocess.run([sys.executable, __file__, "--rss-child", method, "--steps", str(steps)],
                             capture_output=True, text=True, check=True).stdout
        results[method] = json.loads(out.strip().splitlines()[-1])
        print(f"{method}: peak RSS {results[method]['peak_rss_mib']} MiB, {results[method]['seconds']} s for {steps} steps", flush=True)
    print(f"peak RSS qlora / lora = {results['qlora']['peak_rss_mib'] / results['lora']['peak_rss_mib']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="a-b rounds of the speed comparison")
    parser.add_argument("--only", choices=["speed", "memory", "precision", "step"])
    parser.add_argument("--data", help="training records for --only step (default: generated clinic dialogues)")
    parser.add_argument("--rss-child", choices=["lora", "qlora"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        return rss_child(args.rss_child, args.steps)
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "speed"):
            speed(Path(tmp), args.steps, args.rounds)
        if args.only == "precision":
            precision(Path(tmp), args.steps, args.rounds)
        if args.only == "step":
            step_costs(Path(tmp), max(args.rounds, 3), args.data)
    if args.only in (None, "memory"):
        memory(args.steps)


if __name__ == "__main__":
    main()
