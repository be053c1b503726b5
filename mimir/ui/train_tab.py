"""Train tab: one-click LoRA / QLoRA as a subprocess, live loss plot from its metrics file,
stop / resume, and the model card when it ends.

The run lives in ``<workspace>/train/<name>/`` with the YAML config the user can also run by
hand (``python -m mimir train --config .../train_config.yaml``); the app only watches files, so
a closed tab or a restarted app does not lose it (reopen the workspace to watch it again).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from mimir.ui.common import guard, status
from mimir.ui.context import AppContext
from mimir.ui.session import Session

_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def dataset_choices(session: Session) -> list[tuple[str, str]]:
    """Training exports (chat `messages` JSONL) this workspace has produced, verified first, as (label, path)."""
    found = []
    for path in sorted(session.workspace.glob("*/*_export.jsonl")):
        rel = path.relative_to(session.workspace)
        found.append((str(rel), str(path)))
    found.sort(key=lambda item: (0 if "verif" in item[0] else 1, item[0]))
    return found


def run_dir(session: Session, name: str) -> Path:
    name = (name or "").strip()
    if not _RUN_NAME.match(name):
        raise gr.Error("Run name: letters, digits, '.', '_' or '-' (up to 64), e.g. mimir-lora")
    return session.workspace / "train" / name


def start_training(
    session: Session, dataset: str, upload: Any, name: str, method: str, base_model: str, rank: float, alpha: float,
    epochs: float, max_steps: float, lr: float, batch_size: float, max_length: float,
) -> tuple[str, gr.Timer]:
    """Launch (or resume: same name, same folder) the training subprocess."""
    from mimir.config import config_from_dict
    from mimir.train import launch
    from mimir.train.config import TrainConfig

    data = str(Path(getattr(upload, "name", upload))) if upload is not None else (dataset or "").strip()
    if not data:
        raise gr.Error("Pick the training data (generate and verify first) or upload a JSONL of `messages` records.")
    out = run_dir(session, name)
    current = _run(session)
    if current is not None and Path(current.output_dir) == out and current.status in ("starting", "running"):
        # The child writes its status file only once it runs; this also catches a quick second click.
        raise gr.Error(f"Run {name!r} is already training (pid {current.pid}); stop it first or pick another name.")
    config = config_from_dict(TrainConfig, {
        "dataset": data, "output_dir": str(out), "method": method, "base_model": (base_model or "embedded").strip(),
        "rank": int(rank), "alpha": int(alpha), "epochs": float(epochs), "max_steps": int(max_steps),
        "learning_rate": float(lr), "batch_size": int(batch_size), "max_length": int(max_length), "resume": True,
    }, where="train settings")
    run = launch(config)
    session.train_run = str(out)
    session.live["train"] = run
    return status(f"Training started (pid {run.pid}) in {out}; the plot updates every 2 s.", "ok"), gr.Timer(active=True)


def _run(session: Session):
    from mimir.train import TrainingRun

    if not session.train_run:
        return None
    run = session.live.get("train")
    if run is None or str(run.output_dir) != session.train_run:
        run = TrainingRun.attach(session.train_run)  # e.g. after reopening the workspace
        session.live["train"] = run
    return run


def poll(session: Session) -> tuple[str, pd.DataFrame, str, gr.Timer]:
    """One timer tick: status line, loss curve, model card; the timer stops when the run ends."""
    run = _run(session)
    if run is None:
        return status("No training run yet."), _frame([]), "", gr.Timer(active=False)
    metrics = run.metrics()
    state = run.status
    last = metrics[-1] if metrics else {}
    bits = [f"**{state}**", f"step {last.get('step', 0)}" + (f"/{last['max_steps']}" if last.get("max_steps") else "")]
    if "loss" in last:
        bits.append(f"loss {last['loss']:.4f}")
    for key, fmt in (("lr", "lr {:.2e}"), ("tokens_per_s", "{:.0f} tok/s"), ("eta_s", "eta {:.0f} s")):
        if isinstance(last.get(key), (int, float)):
            bits.append(fmt.format(last[key]))
    kind = {"finished": "ok", "failed": "error", "stopped": "warn"}.get(state, "info")
    line = status(" · ".join(bits), kind)
    if state == "failed":
        line += f"\n\n```\n{run.error}\n```"
    card_path = Path(session.train_run) / "adapter" / "README.md"
    card = card_path.read_text(encoding="utf-8") if state == "finished" and card_path.exists() else ""
    return line, _frame(metrics), card, gr.Timer(active=state in ("starting", "running"))


def stop_training(session: Session) -> str:
    run = _run(session)
    if run is None:
        raise gr.Error("No training run to stop.")
    state = run.stop(timeout=60)
    return status(f"Training {state}; press Start with the same run name to resume from the last checkpoint.", "warn")


def submit_to_jobs(
    session: Session, dataset: str, push_to: str, flavor: str, source: str, timeout: str, method: str, base_model: str,
    max_steps: float, oauth_token: gr.OAuthToken | None = None,
) -> str:
    """Run the same training on Hugging Face Jobs (for users without a GPU); data and adapter live on the Hub."""
    import os

    from mimir.config import config_from_dict
    from mimir.train.config import TrainConfig
    from mimir.train.jobs import JobsConfig, submit_job

    config = config_from_dict(TrainConfig, {
        "dataset": (dataset or "").strip(), "push_to_hub": (push_to or "").strip() or None, "method": method,
        "base_model": (base_model or "embedded").strip(), "max_steps": int(max_steps),
    }, where="job settings")
    jobs = config_from_dict(JobsConfig, {"mimir_source": (source or "").strip(), "flavor": flavor, "timeout": (timeout or "2h").strip(),
                                         "endpoint": os.environ.get("HF_ENDPOINT") or None}, where="job settings")
    token = getattr(oauth_token, "token", None) or session.secret("hub")
    handle = submit_job(config, jobs, token=token)
    session.live["job"] = (handle, jobs)
    return status(f"Job {handle.id} submitted in {handle.namespace}: {handle.status} — {handle.url}", "ok")


def job_state(session: Session, oauth_token: gr.OAuthToken | None = None) -> str:
    from mimir.train.jobs import job_status

    if "job" not in session.live:
        raise gr.Error("No job submitted from this session.")
    handle, jobs = session.live["job"]
    stage, message = job_status(handle.id, handle.namespace, jobs, token=getattr(oauth_token, "token", None) or session.secret("hub"))
    return status(f"Job {handle.id}: {stage}" + (f" — {message}" if message else ""), "error" if stage == "ERROR" else "info")


def _frame(metrics: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [{"step": int(m["step"]), "loss": float(m["loss"])} for m in metrics if "loss" in m and "step" in m]
    return pd.DataFrame(rows, columns=["step", "loss"])


def build(ctx: AppContext, state: gr.State) -> None:
    with gr.Row():
        with gr.Column(scale=2):
            with gr.Row():
                dataset = gr.Dropdown([], label="Training data (from this workspace)", allow_custom_value=True, scale=3)
                refresh = gr.Button("↻", scale=0, size="sm", min_width=60)
            upload = gr.File(label="…or upload a JSONL of chat `messages` records", file_types=[".jsonl"], height=120)
            name = gr.Textbox(value="mimir-lora", label="Run name (same name = resume)")
            base_model = gr.Textbox(value="embedded", label="Base model (embedded, a folder or a Hub id)")
        with gr.Column(scale=3):
            method = gr.Radio([("LoRA", "lora"), ("QLoRA (4-bit nf4)", "qlora")], value="lora", label="Method")
            with gr.Row():
                rank = gr.Number(value=16, precision=0, label="Rank r")
                alpha = gr.Number(value=32, precision=0, label="Alpha")
                lr = gr.Number(value=2e-4, label="Learning rate")
            with gr.Row():
                epochs = gr.Number(value=3, label="Epochs")
                max_steps = gr.Number(value=-1, precision=0, label="Max steps (-1: epochs)")
                batch = gr.Number(value=4, precision=0, label="Batch size")
                max_len = gr.Number(value=512, precision=0, label="Max length")
            with gr.Row():
                start = gr.Button("Start / resume training", variant="primary", elem_id="train-start")
                stop = gr.Button("Stop (saves a checkpoint)", variant="stop")
    line = gr.Markdown(status("No training run yet."), elem_id="train-status")
    plot = gr.LinePlot(_frame([]), x="step", y="loss", title="Training loss", height=280, elem_id="train-loss")
    with gr.Accordion("Model card", open=False):
        card = gr.Markdown()
    timer = gr.Timer(2.0, active=False)
    with gr.Accordion("No GPU here? Run it on Hugging Face Jobs", open=False):
        gr.Markdown("The job reads the data from the Hub and pushes the adapter to the Hub (push the dataset in the Hub tab "
                    "first). It uses the Hub login or token from the Hub tab.")
        with gr.Row():
            j_data = gr.Textbox(label="Dataset on the Hub", placeholder="hf://datasets/OWNER/NAME/FILE.jsonl")
            j_push = gr.Textbox(label="Push the adapter to", placeholder="OWNER/my-expert-lora")
        with gr.Row():
            j_flavor = gr.Dropdown(["cpu-basic", "t4-small", "a10g-small", "a10g-large", "a100-large"], value="a10g-small",
                                   label="Hardware")
            j_source = gr.Textbox(label="pip requirement that installs MIMIR", placeholder="git+https://github.com/OWNER/mimir")
            j_timeout = gr.Textbox(value="2h", label="Time limit")
            j_steps = gr.Number(value=-1, precision=0, label="Max steps (-1: epochs)")
        with gr.Row():
            j_submit = gr.Button("Submit job")
            j_check = gr.Button("Check job status")
        j_status = gr.Markdown()

    refresh.click(guard(lambda s: gr.Dropdown(choices=dataset_choices(s))), inputs=state, outputs=dataset)
    dataset.focus(guard(lambda s: gr.Dropdown(choices=dataset_choices(s))), inputs=state, outputs=dataset)
    start.click(guard(start_training), inputs=[state, dataset, upload, name, method, base_model, rank, alpha, epochs, max_steps,
                                               lr, batch, max_len], outputs=[line, timer])
    stop.click(guard(stop_training), inputs=state, outputs=line)
    timer.tick(guard(poll), inputs=state, outputs=[line, plot, card, timer])
    j_submit.click(guard(submit_to_jobs), inputs=[state, j_data, j_push, j_flavor, j_source, j_timeout, method, base_model, j_steps],
                   outputs=j_status)
    j_check.click(guard(job_state), inputs=state, outputs=j_status)
