"""Merge a LoRA adapter into its base model and save a standalone model folder."""

from __future__ import annotations

import json
from pathlib import Path

from mimir.errors import InputFileError


def merge_adapter(adapter_dir: str | Path, output_dir: str | Path, *, base_model: str | None = None) -> Path:
    """Load base + adapter in full precision, fold the LoRA update into the weights, save both model and tokenizer.

    ``base_model`` defaults to the adapter's ``base_model_name_or_path``. A QLoRA adapter is merged into the
    full-precision base (merging into 4-bit weights would lose the update to rounding).
    """
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from mimir.models.embedded import resolve_model

    adapter_dir, output_dir = Path(adapter_dir), Path(output_dir)
    config_path = adapter_dir / "adapter_config.json"
    if not config_path.is_file():
        raise InputFileError(f"{adapter_dir} is not a peft adapter folder (no adapter_config.json)")
    base = resolve_model(base_model or json.loads(config_path.read_text(encoding="utf-8"))["base_model_name_or_path"])
    model = AutoModelForCausalLM.from_pretrained(base)
    merged = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    output_dir.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(output_dir))
    tokenizer_source = adapter_dir if (adapter_dir / "tokenizer_config.json").exists() else Path(base)
    AutoTokenizer.from_pretrained(str(tokenizer_source)).save_pretrained(str(output_dir))
    return output_dir
