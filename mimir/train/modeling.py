"""Load the tokenizer, the base model (full precision or 4-bit nf4) and build the peft/trl configs."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from mimir.errors import TrainingError
from mimir.train.config import TrainConfig

log = logging.getLogger(__name__)


def load_tokenizer(base_path: str) -> tuple[Any, str]:
    """The base tokenizer with the training chat template installed (returned too)."""
    from transformers import AutoTokenizer

    from mimir.train.template import build_training_template

    tokenizer = AutoTokenizer.from_pretrained(base_path)
    template = build_training_template(tokenizer)
    tokenizer.chat_template = template
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, template


def use_cuda(config: TrainConfig) -> bool:
    import torch

    if config.device == "cuda" and not torch.cuda.is_available():
        raise TrainingError("device is 'cuda' but no CUDA GPU is visible; use device: auto or cpu")
    return config.device != "cpu" and torch.cuda.is_available()


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX). Only these make bf16 autocast
    pay off: oneDNN also runs bf16 on plain AVX512 by emulation, which is slower than fp32."""
    import torch

    checks = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(check() for check in checks if check is not None)


def compute_dtype(config: TrainConfig):
    """bf16 where the GPU supports it, or for LoRA on a CPU with native bf16 (autocast over fp32 weights:
    `benchmarks/training.py --only precision` measured 0.55x the fp32 step time at the small preset on
    an AVX512-BF16 EPYC), or when asked for; fp32 otherwise."""
    import torch

    cuda = use_cuda(config)
    if config.precision == "auto":
        native = torch.cuda.is_bf16_supported() if cuda else (config.method == "lora" and cpu_has_native_bf16())
        return torch.bfloat16 if native else torch.float32
    if config.precision == "bf16":
        return torch.bfloat16
    if config.precision == "fp16":
        return torch.float16
    return torch.float32


def load_model(base_path: str, config: TrainConfig):
    """The base causal LM: plain for LoRA, quantised to 4-bit nf4 (bitsandbytes) for QLoRA."""
    import torch
    from transformers import AutoModelForCausalLM

    dtype = compute_dtype(config)
    cuda = use_cuda(config)
    # On CPU, bf16 means autocast over fp32 weights (bf16 weights would round every LoRA update away).
    kwargs: dict[str, Any] = {"dtype": dtype if cuda or config.method == "qlora" else torch.float32}
    if config.method == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype,
        )
        # One device per process (accelerate launch sets LOCAL_RANK); bitsandbytes also runs on CPU.
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", 0))} if cuda else {"": "cpu"}
    try:
        model = AutoModelForCausalLM.from_pretrained(base_path, **kwargs)
    except ImportError as exc:  # bitsandbytes missing or unusable on this platform
        raise TrainingError(f"QLoRA needs bitsandbytes: {exc}; `pip install bitsandbytes` or use method: lora") from None
    if config.method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=config.gradient_checkpointing)
    model.config.use_cache = False  # the KV cache is useless in training and wastes memory
    return model


def lora_config(config: TrainConfig):
    from peft import LoraConfig

    targets: Any = "all-linear" if config.target_modules == ["all-linear"] else list(config.target_modules)
    return LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=targets,
        bias="none",
        task_type="CAUSAL_LM",
    )


def sft_args(config: TrainConfig, output_dir: Path):
    """trl ``SFTConfig`` from our config: input is pre-tokenised with labels, so no chat templating there."""
    import torch
    from trl import SFTConfig

    cuda = use_cuda(config)
    dtype = compute_dtype(config)
    return SFTConfig(
        output_dir=str(output_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio,  # transformers 5: a float < 1 is a ratio of the total steps
        weight_decay=config.weight_decay,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accumulation,
        activation_checkpointing=config.gradient_checkpointing,
        max_length=config.max_length,
        packing=config.packing,
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
        seed=config.seed,
        neftune_noise_alpha=config.embedding_noise or None,
        data_seed=config.seed,
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        eval_strategy="no",
        use_cpu=not cuda,
        bf16=dtype == torch.bfloat16,  # on CPU: torch.autocast to bf16 (fast where AVX512-BF16/AMX exist)
        fp16=cuda and dtype == torch.float16,
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        dataset_num_proc=None,
    )
