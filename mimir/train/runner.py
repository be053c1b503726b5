"""Run training as a subprocess the app can watch, stop and resume.

The child is ``python -m mimir train --config OUTPUT_DIR/train_config.yaml`` in its own session,
so a closed browser tab or a restarted app does not kill it. It reports through files only:
``metrics.jsonl`` (live loss plot), ``status.json`` (state, error message) and ``train.log``.
Stopping sends SIGTERM: the child saves a checkpoint at the next step and exits; launching the
same config again resumes from that checkpoint.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mimir.config import merge_overrides, save_config
from mimir.errors import TrainingError
from mimir.jsonl import read_records
from mimir.train.config import TrainConfig
from mimir.train.files import ACTIVE, CONFIG_FILE, LOG_FILE, METRICS_FILE, STATUS_FILE, read_status


def read_metrics(output_dir: str | Path, *, events: bool = False) -> list[dict[str, Any]]:
    """Step records sorted by step; after a resume the re-done steps replace the lost ones.

    With ``events=True``, returns the raw stream including start / end / error records.
    """
    records = list(read_records(Path(output_dir) / METRICS_FILE))
    if events:
        return records
    by_step = {r["step"]: r for r in records if "loss" in r and "step" in r}
    return [by_step[s] for s in sorted(by_step)]


class TrainingRun:
    """Handle on one training subprocess (or, after :meth:`attach`, on its files and pid)."""

    def __init__(self, output_dir: str | Path, process: subprocess.Popen | None = None, pid: int | None = None) -> None:
        self.output_dir = Path(output_dir)
        self.process = process
        self.pid = process.pid if process is not None else pid

    @classmethod
    def attach(cls, output_dir: str | Path) -> "TrainingRun":
        """Reconnect to a run started earlier (e.g. before the app restarted)."""
        status = read_status(Path(output_dir))
        return cls(output_dir, pid=status.get("pid"))

    def _alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        if not self.pid:
            return False
        try:
            os.kill(self.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    @property
    def status(self) -> str:
        """starting | running | finished | stopped | failed."""
        state = read_status(self.output_dir).get("state", "starting")
        if self._alive():
            return state if state in ACTIVE else "running"
        if state in ACTIVE:  # died without a word: killed, or crashed before writing status
            return "failed"
        return state

    @property
    def error(self) -> str | None:
        """Why the run failed, in words (None unless it failed)."""
        if self.status != "failed":
            return None
        status = read_status(self.output_dir)
        if status.get("state") == "failed" and status.get("message"):
            return str(status["message"])
        code = self.process.returncode if self.process is not None else None
        return f"the training process ended unexpectedly (exit code {code}); last log lines:\n{self.log_tail()}"

    def metrics(self) -> list[dict[str, Any]]:
        return read_metrics(self.output_dir)

    def log_tail(self, lines: int = 20) -> str:
        path = self.output_dir / LOG_FILE
        if not path.exists():
            return ""
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def wait(self, timeout: float | None = None) -> str:
        """Block until the process ends (TimeoutError after ``timeout`` seconds); returns :attr:`status`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self.process is not None:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                raise TimeoutError(f"training in {self.output_dir} still running after {timeout} s") from None
        else:
            while self._alive():
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"training in {self.output_dir} still running after {timeout} s")
                time.sleep(0.5)
        return self.status

    def stop(self, timeout: float = 120.0) -> str:
        """Ask the run to save a checkpoint and exit; kill it if it does not within ``timeout``."""
        if not self._alive():
            return self.status
        os.kill(self.pid, signal.SIGTERM)
        try:
            return self.wait(timeout)
        except TimeoutError:
            self.kill()
            return self.status

    def kill(self) -> None:
        """End the process at once (no checkpoint; resume uses the previous one)."""
        if self._alive():
            os.kill(self.pid, signal.SIGKILL)
            if self.process is not None:
                self.process.wait()


def launch(
    config: TrainConfig,
    dataset_path: str | None = None,
    output_dir: str | None = None,
    *,
    python: str | None = None,
    env: dict[str, str] | None = None,
) -> TrainingRun:
    """Write the resolved config into the output folder and start ``python -m mimir train`` on it."""
    config = merge_overrides(config, {"dataset": dataset_path, "output_dir": output_dir}).validate()
    out = Path(config.output_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    status = read_status(out)
    if status.get("state") in ACTIVE and TrainingRun(out, pid=status.get("pid"))._alive():
        raise TrainingError(f"a training run is already active in {out} (pid {status.get('pid')}); stop it first")
    config = merge_overrides(config, {"output_dir": str(out), "dataset": _absolute(config.dataset)})
    if config.eval_dataset:
        config = merge_overrides(config, {"eval_dataset": _absolute(config.eval_dataset)})
    path = save_config(config, out / CONFIG_FILE)
    (out / STATUS_FILE).unlink(missing_ok=True)
    log = (out / LOG_FILE).open("ab")
    child_env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    root = source_checkout_root()
    if root:  # running from a source checkout that is not installed: let `-m mimir` find this very package
        child_env["PYTHONPATH"] = os.pathsep.join(p for p in (root, child_env.get("PYTHONPATH", "")) if p)
    process = subprocess.Popen(
        [python or sys.executable, "-m", "mimir", "-v", "train", "--config", str(path)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=child_env,
        start_new_session=True,  # survives the app's process group and a closed tab
    )
    log.close()
    return TrainingRun(out, process)


def source_checkout_root() -> str | None:
    """The folder holding this ``mimir`` package when it runs from a source checkout (the child
    needs it on PYTHONPATH); ``None`` when it is installed in site-packages (``pip install .``)."""
    import site

    package_parent = Path(__file__).resolve().parents[1].parent
    sites = {Path(p).resolve() for p in (*site.getsitepackages(), site.getusersitepackages()) if p}
    return None if package_parent in sites else str(package_parent)


def _absolute(spec: str) -> str:
    """Make local data paths absolute (the child runs elsewhere); leave hf:// untouched."""
    parts = [s.strip() for s in spec.split(",") if s.strip()]
    return ",".join(p if p.startswith("hf://") else str(Path(p).expanduser().resolve()) for p in parts)
