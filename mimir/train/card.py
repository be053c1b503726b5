"""The adapter's model card (README.md): base model, dataset, hyper-parameters, loss, eval results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from mimir.train.config import TrainConfig

EVAL_FILE = "eval_results.json"


def render_card(
    config: TrainConfig,
    *,
    base_model: str,
    final_loss: float | None,
    steps: int,
    train_examples: int,
    eval_results: dict[str, Any] | None = None,
) -> str:
    """README.md text with Hub metadata (front matter) the Hub and ``peft`` understand."""
    meta: dict[str, Any] = {
        "base_model": base_model,
        "library_name": "peft",
        "pipeline_tag": "text-generation",
        "tags": ["mimir", "lora" if config.method == "lora" else "qlora", "sft", "trl"],
    }
    if config.dataset_name:
        meta["datasets"] = [config.dataset_name]
    hyper = {
        "method": config.method,
        "rank": config.rank,
        "alpha": config.alpha,
        "dropout": config.dropout,
        "target_modules": config.target_modules,
        "epochs": config.epochs,
        "max_steps": config.max_steps,
        "learning_rate": config.learning_rate,
        "lr_scheduler": config.lr_scheduler,
        "batch_size": config.batch_size,
        "grad_accumulation": config.grad_accumulation,
        "max_length": config.max_length,
        "packing": config.packing,
        "split_long_dialogues": config.split_long_dialogues,
        "seed": config.seed,
    }
    lines = [
        "---",
        yaml.safe_dump(meta, sort_keys=False).strip(),
        "---",
        "",
        f"# {Path(config.output_dir).name or 'MIMIR'} adapter",
        "",
        f"A {'QLoRA (4-bit nf4 base)' if config.method == 'qlora' else 'LoRA'} adapter for `{base_model}`, "
        "tuned with [MIMIR](https://arxiv.org/abs/2404.04285) on multi-role expert dialogues. "
        "Loss was computed only on the tuned role's (assistant) turns.",
        "",
        "## Training data",
        "",
        f"- Dataset: {config.dataset_name or Path(config.dataset.split(',')[0]).name}",
        f"- Dialogues: {train_examples}",
        "",
        "## Hyper-parameters",
        "",
        "| name | value |",
        "| --- | --- |",
        *[f"| {k} | {', '.join(v) if isinstance(v, list) else v} |" for k, v in hyper.items()],
        "",
        "## Results",
        "",
        f"- Optimizer steps: {steps}",
        f"- Final training loss: {final_loss:.4f}" if final_loss is not None else "- Final training loss: n/a",
    ]
    for key, value in (eval_results or {}).items():
        lines.append(f"- {key}: {value:.4f}" if isinstance(value, float) else f"- {key}: {value}")
    lines += [
        "",
        "## Use",
        "",
        "```python",
        "from peft import PeftModel",
        "from transformers import AutoModelForCausalLM, AutoTokenizer",
        f'base = AutoModelForCausalLM.from_pretrained("{base_model}")',
        'model = PeftModel.from_pretrained(base, "PATH_OR_REPO_OF_THIS_ADAPTER")',
        'tokenizer = AutoTokenizer.from_pretrained("PATH_OR_REPO_OF_THIS_ADAPTER")  # carries the chat template used in training',
        "```",
        "",
        "Or with MIMIR: `python -m mimir chat --model local --adapter PATH`.",
        "",
    ]
    return "\n".join(lines)


def write_card(adapter_dir: str | Path, text: str) -> Path:
    path = Path(adapter_dir) / "README.md"
    path.write_text(text, encoding="utf-8")
    return path


def add_eval_results(adapter_dir: str | Path, results: dict[str, Any]) -> Path:
    """Record evaluation results (e.g. win/tie/loss) next to the adapter and in its card.

    Called by the evaluation stage after a comparison; rerunning replaces earlier values by key.
    """
    adapter_dir = Path(adapter_dir)
    path = adapter_dir / EVAL_FILE
    merged = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    merged.update(results)
    path.write_text(json.dumps(merged, indent=2, ensure_ascii=False), encoding="utf-8")
    card = adapter_dir / "README.md"
    text = card.read_text(encoding="utf-8") if card.exists() else ""
    head, sep, _ = text.partition("\n## Evaluation\n")
    section = ["", "## Evaluation", ""] + [f"- {k}: {v}" for k, v in merged.items()] + [""]
    card.write_text(head.rstrip("\n") + "\n" + "\n".join(section), encoding="utf-8")
    return path
