"""In-process training: trl ``SFTTrainer`` + peft LoRA (or QLoRA on a 4-bit nf4 base).

:func:`train` is the worker the subprocess runs (``python -m mimir train``) and what notebooks
call directly. It writes into ``output_dir``: ``train_config.yaml`` (resolved config),
``metrics.jsonl``, ``status.json``, ``checkpoint-N/`` and, at the end, ``adapter/`` (peft
weights + tokenizer with the training chat template + README.md card) and optionally ``merged/``.
"""

from __future__ import annotations

import json
import logging
import math
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mimir.config import save_config
from mimir.errors import TrainingError
from mimir.secrets import redact
from mimir.train.config import TrainConfig
from mimir.train.files import ADAPTER_DIR, CONFIG_FILE, MERGED_DIR, write_status

log = logging.getLogger(__name__)

@dataclass
class TrainResult:
    """What a finished (or stopped) run produced."""

    status: str  # "finished" | "stopped"
    output_dir: str
    adapter_dir: str | None
    steps: int
    final_loss: float | None
    train_examples: int
    eval_results: dict[str, Any] = field(default_factory=dict)
    merged_dir: str | None = None


def oom_advice(config: TrainConfig) -> str:
    """The next smaller setting to try after running out of memory."""
    if config.batch_size > 1:
        smaller = config.batch_size // 2
        accum = config.grad_accumulation * config.batch_size // smaller
        return (f"try batch_size {smaller} with grad_accumulation {accum} "
                "(same effective batch)")
    tips = [f"max_length {max(64, config.max_length // 2)}"]
    if not config.gradient_checkpointing:
        tips.append("gradient_checkpointing: true")
    if config.method == "lora":
        tips.append("method: qlora")
    return "batch_size is already 1; try " + ", ".join(tips)


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


def train(
    config: TrainConfig,
    dataset_path: str | None = None,
    output_dir: str | None = None,
    progress: Callable[[dict], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Fine-tune ``config.base_model`` on the dialogues; resume from the newest checkpoint if any.

    ``progress`` receives every metrics record; ``stop()`` returning True (polled each step)
    saves a checkpoint and ends the run with status ``"stopped"`` — so does SIGTERM.
    """
    from mimir.config import merge_overrides

    config = merge_overrides(config, {"dataset": dataset_path, "output_dir": output_dir}).validate()
    out = Path(config.output_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out / CONFIG_FILE)
    write_status(out, "starting")
    # SIGTERM (TrainingRun.stop) from here on means: checkpoint at the next step boundary, then exit,
    # even when it arrives while the libraries and the model are still loading.
    stop_event = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop_event.set()) if _main_thread() else None
    try:
        return _guarded(config, out, progress, stop, stop_event)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _guarded(config, out, progress, stop, stop_event) -> TrainResult:
    """Run, turning every failure into a recorded status with a message the UI can show."""
    from mimir.train.callbacks import MetricsCallback

    metrics = MetricsCallback(out, progress)
    try:
        result = _run(config, out, metrics, stop, stop_event)
    except BaseException as exc:
        if isinstance(exc, TrainingError):
            message = str(exc)
        elif _is_oom(exc):
            message = f"out of memory at batch_size {config.batch_size}, max_length {config.max_length}: {oom_advice(config)}"
        elif isinstance(exc, KeyboardInterrupt):
            message = "interrupted"
        else:
            message = f"{type(exc).__name__}: {exc}"
        message = redact(message)  # exceptions may quote URLs or headers with a token
        write_status(out, "failed", message=message)
        metrics.event({"event": "error", "message": message})
        if isinstance(exc, TrainingError) or not _is_oom(exc):
            raise
        raise TrainingError(message) from None
    write_status(out, result.status, step=result.steps, final_loss=result.final_loss, adapter=result.adapter_dir)
    metrics.event({"event": "end", "state": result.status, "step": result.steps, "final_loss": result.final_loss})
    return result


def prepare_trainer(config: TrainConfig, output_dir: Path, callbacks: list[Any] | None = None) -> tuple[Any, Any, str]:
    """(SFTTrainer, tokenizer, resolved base path), ready to ``.train()``; tests inspect weights through it."""
    from transformers import set_seed
    from trl import SFTTrainer

    from mimir.models.embedded import resolve_model
    from mimir.train.data import build_dataset, load_conversations
    from mimir.train.modeling import load_model, load_tokenizer, lora_config, sft_args

    set_seed(config.seed)
    base_path = resolve_model(config.base_model)
    tokenizer, template = load_tokenizer(base_path)
    window = config.max_length if config.split_long_dialogues else None
    train_set = build_dataset(load_conversations(config.dataset), tokenizer, template, window)
    eval_set = build_dataset(load_conversations(config.eval_dataset), tokenizer, template, window) if config.eval_dataset else None
    from mimir.train.anchor import anchor_batches, replay_chats
    from mimir.train.sft import mimir_trainer

    extra: dict[str, Any] = {}
    trainer_class: Any = mimir_trainer(SFTTrainer)
    if config.anchor_weight > 0:  # KL to the base on general text (see mimir.train.anchor)
        chats = replay_chats(config.dataset) if config.anchor_chat_share > 0 else []
        extra = {"anchor_weight": config.anchor_weight,
                 "anchor": anchor_batches(tokenizer, batch_size=config.anchor_rows, max_tokens=config.anchor_tokens, seed=config.seed,
                                          chats=chats, chat_share=config.anchor_chat_share)}
    trainer = trainer_class(
        model=load_model(base_path, config),
        args=sft_args(config, output_dir),
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=tokenizer,
        peft_config=lora_config(config),
        callbacks=callbacks or [],
        **extra,
    )
    return trainer, tokenizer, base_path


def last_checkpoint(output_dir: str | Path) -> str | None:
    """The newest *complete* checkpoint: trainer_state.json is written last, so a folder without a
    readable one was cut short by a kill and is skipped (transformers' get_last_checkpoint would pick it)."""
    found = []
    for path in Path(output_dir).glob("checkpoint-*"):
        try:
            step = int(path.name.split("-", 1)[1])
            json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
        except (ValueError, OSError):
            continue
        found.append((step, path))
    return str(max(found)[1]) if found else None


def _run(config: TrainConfig, out: Path, metrics: Any, stop: Callable[[], bool] | None, stop_event: Any) -> TrainResult:
    from mimir.train.callbacks import NanGuard, PollStop, StopFlag

    stop_flag = StopFlag(stop_event)
    callbacks = [metrics, NanGuard(config.learning_rate), stop_flag]
    if stop is not None:
        callbacks.append(PollStop(stop, stop_flag))
    trainer, tokenizer, base_path = prepare_trainer(config, out, callbacks)
    checkpoint = last_checkpoint(out) if config.resume else None
    if checkpoint:
        log.info("resuming from %s", checkpoint)
    write_status(out, "running", resumed_from=checkpoint)
    output = trainer.train(resume_from_checkpoint=checkpoint)
    n_train, has_eval = len(trainer.train_dataset), trainer.eval_dataset is not None
    steps = trainer.state.global_step
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    final_loss = float(losses[-1]) if losses else None
    if stop_flag.requested:
        return TrainResult("stopped", str(out), None, steps, final_loss, n_train)
    if final_loss is None and output.training_loss is not None and math.isfinite(output.training_loss):
        final_loss = float(output.training_loss)
    return _finish(config, out, trainer, tokenizer, base_path, steps, final_loss, n_train, has_eval)


def _finish(config, out, trainer, tokenizer, base_path, steps, final_loss, n_train, has_eval) -> TrainResult:
    from mimir.train.card import render_card, write_card

    eval_results: dict[str, Any] = {}
    if has_eval:
        eval_results = {k: float(v) for k, v in trainer.evaluate().items() if k in ("eval_loss",)}
    adapter = out / ADAPTER_DIR
    if trainer.is_world_process_zero():
        trainer.model.save_pretrained(str(adapter))
        tokenizer.save_pretrained(str(adapter))  # carries the training chat template
        base_name = _public_base_name(config.base_model)
        _set_adapter_base(adapter, base_name)
        save_config(config, adapter / CONFIG_FILE)
        write_card(adapter, render_card(config, base_model=base_name, final_loss=final_loss, steps=steps,
                                        train_examples=n_train, eval_results=eval_results))
    merged = None
    if config.merge and trainer.is_world_process_zero():
        from mimir.train.merge import merge_adapter

        merged = str(merge_adapter(adapter, out / MERGED_DIR, base_model=base_path))
    if config.push_to_hub and trainer.is_world_process_zero():
        _push(adapter, config.push_to_hub)
    return TrainResult("finished", str(out), str(adapter), steps, final_loss, n_train, eval_results, merged)


def _public_base_name(base_model: str) -> str:
    """The embedded model by its Hub id, so a pushed adapter loads anywhere; other names as given."""
    from mimir.models.embedded import EMBEDDED_HUB_ID

    return EMBEDDED_HUB_ID if base_model in ("embedded", "") else base_model


def _set_adapter_base(adapter: Path, base_name: str) -> None:
    """peft records the local cache path of the base; record the portable name instead."""
    path = adapter / "adapter_config.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["base_model_name_or_path"] = base_name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def _push(adapter: Path, repo_id: str) -> None:
    """Upload the adapter folder as a private model repo; the token comes from HF_TOKEN / the local
    login (never from the config) and is passed explicitly on each call."""
    from huggingface_hub import HfApi, get_token

    from mimir.errors import AuthError
    from mimir.secrets import remember

    token = remember(get_token())
    if not token:
        raise AuthError(f"push_to_hub {repo_id!r} needs a token: set HF_TOKEN or run `hf auth login`")
    api = HfApi()
    api.create_repo(repo_id, repo_type="model", exist_ok=True, private=True, token=token)
    api.upload_folder(repo_id=repo_id, folder_path=str(adapter), repo_type="model", commit_message="MIMIR adapter",
                      token=token)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()

