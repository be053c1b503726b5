"""Trainer callbacks: metrics JSONL for the live loss plot, NaN guard, graceful stop on SIGTERM."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any, Callable

from transformers import TrainerCallback

from mimir.errors import TrainingError
from mimir.jsonl import JsonlWriter
from mimir.train.files import METRICS_FILE, is_main_process


class MetricsCallback(TrainerCallback):
    """One JSONL record per logged step: step, loss, lr, grad_norm, tokens/s, eta, elapsed."""

    def __init__(self, output_dir: str | Path, progress: Callable[[dict], None] | None = None) -> None:
        self.path = Path(output_dir) / METRICS_FILE
        self.progress = progress
        self._writer: JsonlWriter | None = None
        self._t0 = self._last_t = time.monotonic()
        self._start_step = 0
        self._last_tokens: float | None = None

    def _emit(self, record: dict[str, Any]) -> None:
        record["time"] = round(time.time(), 3)
        if self._writer is not None:
            self._writer.write(record)
        if self.progress is not None:
            self.progress(dict(record))

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self._writer = JsonlWriter(self.path)
        self._t0 = self._last_t = time.monotonic()
        self._start_step = state.global_step  # > 0 when resuming from a checkpoint
        self._emit({"event": "start", "step": state.global_step, "max_steps": state.max_steps, "resumed": state.global_step > 0})

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "eval_loss" in logs:  # the app plots it beside the training loss
            self._emit({"event": "eval", "step": state.global_step, "eval_loss": logs["eval_loss"]})
        if "loss" not in logs:  # eval / final summary records go to the card instead
            return
        now = time.monotonic()
        tokens = logs.get("num_tokens")
        tokens_per_s = None
        if tokens is not None and self._last_tokens is not None and now > self._last_t:
            tokens_per_s = (tokens - self._last_tokens) / (now - self._last_t)
        self._last_tokens, self._last_t = tokens, now
        done = state.global_step - self._start_step
        eta = (now - self._t0) / done * (state.max_steps - state.global_step) if done > 0 else None
        self._emit(
            {
                "step": state.global_step,
                "max_steps": state.max_steps,
                "epoch": round(state.epoch or 0.0, 4),
                "loss": logs["loss"],
                "lr": logs.get("learning_rate"),
                "grad_norm": logs.get("grad_norm"),
                "tokens_per_s": round(tokens_per_s, 1) if tokens_per_s is not None else None,
                "eta_s": round(eta, 1) if eta is not None else None,
                "elapsed_s": round(now - self._t0, 2),
            }
        )

    def on_train_end(self, args, state, control, **kwargs):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def event(self, record: dict[str, Any]) -> None:
        """Append an out-of-band record (end, error) after training stopped."""
        if not is_main_process():
            return
        with JsonlWriter(self.path) as writer:
            record["time"] = round(time.time(), 3)
            writer.write(record)
        if self.progress is not None:
            self.progress(dict(record))


class NanGuard(TrainerCallback):
    """Stop at once when the loss (or gradient norm) stops being a finite number."""

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate

    def on_log(self, args, state, control, logs=None, **kwargs):
        for key in ("loss", "grad_norm"):
            value = (logs or {}).get(key)
            if isinstance(value, (int, float)) and not math.isfinite(value):
                raise TrainingError(
                    f"training stopped: {key} became {value} at step {state.global_step}. Lower `learning_rate` "
                    f"(now {self.learning_rate:g}), use precision fp32, or check the data for empty or huge "
                    "dialogues; the last checkpoint in output_dir is still valid."
                )


class StopFlag(TrainerCallback):
    """Save a checkpoint and stop at the next step boundary once the event is set (SIGTERM, UI stop)."""

    def __init__(self, event: threading.Event | None = None) -> None:
        self.event = event or threading.Event()

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def request(self, *_: Any) -> None:
        self.event.set()

    def on_step_end(self, args, state, control, **kwargs):
        if self.requested:
            control.should_save = True
            control.should_training_stop = True
        return control


class PollStop(TrainerCallback):
    """Ask :class:`StopFlag` to stop when a caller's ``stop()`` predicate turns true (in-process runs)."""

    def __init__(self, stop: Callable[[], bool], flag: StopFlag) -> None:
        self.stop, self.flag = stop, flag

    def on_step_end(self, args, state, control, **kwargs):
        if self.stop():
            self.flag.request()
            control.should_save = True
            control.should_training_stop = True
        return control
