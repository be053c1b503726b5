"""Training configuration: one dataclass, loadable from YAML, with defaults for a laptop CPU.

The defaults train the embedded SmolLM2-135M-Instruct with LoRA on all linear layers in a few
minutes on two CPU cores. On a GPU raise ``batch_size`` / ``max_length`` and the run picks bf16.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mimir.config import option
from mimir.errors import ConfigError

Method = Literal["lora", "qlora"]


@dataclass
class TrainConfig:
    """Everything one fine-tuning run needs; ``python -m mimir train --config train.yaml`` reads it."""

    dataset: str = option(
        "",
        help="Training data: a JSONL file of records with `messages` (OpenAI chat format), or several "
        "comma-separated, or hf://datasets/OWNER/NAME/FILE.jsonl to download from the Hub.",
    )
    output_dir: str = option("runs/train", help="Folder for checkpoints, metrics, the adapter and its card.")
    eval_dataset: str | None = option(None, help="Optional held-out JSONL (same format); its loss goes into the card.")
    base_model: str = option(
        "embedded",
        help="Model to tune: 'embedded' (SmolLM2-135M-Instruct, offline), a local folder or a Hub id.",
    )
    method: Method = option("lora", help="'lora' (full-precision base) or 'qlora' (base quantised to 4-bit nf4 with bitsandbytes).")
    rank: int = option(16, min=1, help="LoRA rank r: size of the low-rank update.")
    alpha: int = option(32, min=1, help="LoRA alpha: the update is scaled by alpha / rank.")
    dropout: float = option(0.05, min=0.0, max=0.99, help="Dropout on the LoRA input.")
    target_modules: list[str] = option(
        ["all-linear"],
        help="Module names that get LoRA adapters (e.g. q_proj, v_proj); ['all-linear'] means every linear layer but the head.",
    )
    epochs: float = option(3.0, min=0.0, help="Passes over the data; ignored when max_steps > 0.")
    max_steps: int = option(-1, min=-1, help="Stop after this many optimizer steps (-1: run `epochs`).")
    learning_rate: float = option(2e-4, min=0.0, help="Peak learning rate (AdamW).")
    lr_scheduler: str = option("cosine", help="transformers scheduler name: cosine, linear, constant, ...")
    warmup_ratio: float = option(0.03, min=0.0, max=1.0, help="Fraction of steps spent warming the learning rate up.")
    weight_decay: float = option(0.0, min=0.0, help="AdamW weight decay.")
    batch_size: int = option(4, min=1, help="Sequences per device per forward pass.")
    grad_accumulation: int = option(1, min=1, help="Forward passes per optimizer step (effective batch = batch_size x this x devices).")
    max_length: int = option(512, min=16, help="Tokens per sequence; longer dialogues are cut at the end.")
    split_long_dialogues: bool = option(
        True, help="Split dialogues longer than max_length into windows of whole exchanges (system prompt repeated) "
        "so no answer is lost to truncation; false cuts them at max_length."
    )
    anchor_weight: float = option(
        0.0, min=0.0, help="Weight of a KL(base || tuned) term on general text added to every step's loss (mimir.train.anchor): "
        "keeps general language while the adapter learns the data. 0 turns it off."
    )
    anchor_chat_share: float = option(
        0.5, min=0.0, max=1.0, help="Share of the anchor's batches taken from the training data's replay records (the base "
        "model's own chat answers, which tune writes) in the chat template instead of prose: guards everyday chat, which "
        "prose alone left +41-64% perplexity. Unused without replay records or anchor_weight."
    )
    anchor_rows: int = option(2, min=1, help="Rows of general text in each step's anchor batch (more: a firmer pull, a slower step).")
    anchor_tokens: int = option(
        128, min=16, help="Tokens per anchor row. The anchor runs the tuned model (forward and backward) and the base model on "
        "anchor_rows x anchor_tokens tokens every step, at the full vocabulary: its cost per step grows with both."
    )
    embedding_noise: float = option(
        0.0, min=0.0, help="NEFTune: uniform noise of this alpha added to the input embeddings while training (not at "
        "inference, not on the anchor's passes), so the adapter keys on meaning rather than on exact token strings. 0 turns it off."
    )
    group_by_length: bool = option(
        True, help="Batch sequences of similar length together (less padding: faster on CPU, same loss); false samples at random."
    )
    packing: bool = option(False, help="Pack several short dialogues into one max_length sequence (faster, same loss mask).")
    gradient_checkpointing: bool = option(False, help="Recompute activations in the backward pass: less memory, ~30% slower.")
    seed: int = option(42, help="Seed for data order, LoRA init and dropout.")
    logging_steps: int = option(1, min=1, help="Write a metrics record every this many optimizer steps.")
    save_steps: int = option(50, min=1, help="Save a resumable checkpoint every this many steps.")
    save_total_limit: int = option(2, min=1, help="Keep at most this many checkpoints (oldest are deleted).")
    resume: bool = option(True, help="Continue from the newest checkpoint in output_dir when there is one.")
    merge: bool = option(False, help="Also write the base model with the adapter merged in (output_dir/merged).")
    device: str = option("auto", choices=("auto", "cpu", "cuda"), help="'auto' (CUDA when present), 'cpu' or 'cuda'.")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = option(
        "auto", help="Compute precision: 'auto' is bf16 on a GPU that supports it and, for LoRA, on a CPU with "
        "AVX512-BF16 or AMX (autocast over fp32 weights, ~1.8x faster steps there), fp32 elsewhere."
    )
    push_to_hub: str | None = option(
        None, help="After training, upload the adapter and card to this Hub model repo (token from HF_TOKEN)."
    )
    dataset_name: str | None = option(None, help="Hub id of the training dataset, named in the model card.")

    def validate(self) -> "TrainConfig":
        """Fail early, naming the field and the fix."""
        if not self.dataset:
            raise ConfigError("train config: `dataset` is empty; give the JSONL file of training dialogues")
        positive = ("rank", "alpha", "batch_size", "grad_accumulation", "max_length", "logging_steps", "save_steps")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"train config: `{name}` must be >= 1, got {getattr(self, name)}")
        if self.max_steps <= 0 and self.epochs <= 0:
            raise ConfigError("train config: set `epochs` > 0 or `max_steps` > 0")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"train config: `dropout` must be in [0, 1), got {self.dropout}")
        if self.learning_rate <= 0:
            raise ConfigError(f"train config: `learning_rate` must be > 0, got {self.learning_rate}")
        if not self.target_modules:
            raise ConfigError("train config: `target_modules` is empty; use ['all-linear'] or name the modules")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"train config: `device` must be auto, cpu or cuda, got {self.device!r}")
        return self
