"""Train tab: one-click LoRA / QLoRA as a subprocess, live loss plot from its metrics file,
stop / resume, and the model card when it ends.

The run lives in ``<workspace>/train/<name>/`` with the YAML config the user can also run by
hand (``python -m mimir train --config .../train_config.yaml``); the app only watches files, so
a closed tab or a restarted app does not lose it (reopen the workspace to watch it again).
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from mimir.config import ui_default  # app defaults and help come from the configs
from mimir.train.config import TrainConfig
from mimir.ui.common import guard, remove_uploads, status, upload_paths
from mimir.ui.context import AppContext
from mimir.ui.render import card_markdown
from mimir.ui.session import Session

_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def count_records(path: Path) -> int:
    """Training records (non-empty JSON lines) in a JSONL file; 0 when it is missing."""
    if not path.is_file():
        return 0
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def dataset_choices(session: Session) -> list[tuple[str, str]]:
    """Training exports (chat `messages` JSONL) of this workspace with their record counts, as (label, path):
    verified first, then the rest; empty ones are not offered (training on nothing can only fail)."""
    found = []
    for path in sorted(session.workspace.glob("*/*_export.jsonl")) + sorted(session.workspace.glob("train/uploads/*.jsonl")):
        n = count_records(path)
        if n:
            rel = path.relative_to(session.workspace)
            found.append((f"{rel} — {n} record(s)", str(path)))
    found.sort(key=lambda item: (0 if "verif" in item[0] else 1, item[0]))
    return found


def dataset_dropdown(session: Session) -> gr.Dropdown:
    choices = dataset_choices(session)
    return gr.Dropdown(choices=choices, value=choices[0][1] if choices else None)


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

    if upload is not None:  # keep a copy in the workspace (a resume needs it); the temp upload goes
        uploaded = upload_paths(upload)[0]
        data = str(session.path("train", "uploads", uploaded.name))
        try:
            shutil.copyfile(uploaded, data)
        finally:
            remove_uploads([uploaded])
    else:
        data = (dataset or "").strip()
    if not data:
        raise gr.Error("Pick the training data (generate and verify first) or upload a JSONL of `messages` records.")
    n_records = count_records(Path(data))
    if not n_records:
        raise gr.Error(f"{Path(data).name} has no training records: verify kept no dialogue, or the file is empty. "
                       "Pick another dataset (the list shows record counts) or generate more dialogues.")
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
    session.live.pop("train:stop_at", None)
    return (status(f"Training started on {n_records} record(s) (pid {run.pid}) in {out}; the plot updates every 2 s.", "ok"),
            gr.Timer(active=True))


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
    from mimir.train.runner import read_metrics

    evals = [r for r in read_metrics(run.output_dir, events=True) if "eval_loss" in r and "step" in r]
    state = run.status
    last = metrics[-1] if metrics else {}
    bits = [f"**{state}**", f"step {last.get('step', 0)}" + (f"/{last['max_steps']}" if last.get("max_steps") else "")]
    if "loss" in last:
        bits.append(f"loss {last['loss']:.4f}")
    for key, fmt in (("lr", "lr {:.2e}"), ("tokens_per_s", "{:.0f} tok/s"), ("eta_s", "eta {:.0f} s")):
        if isinstance(last.get(key), (int, float)):
            bits.append(fmt.format(last[key]))
    kind = {"finished": "ok", "failed": "error", "stopped": "warn"}.get(state, "info")
    asked = session.live.get("train:stop_at")
    if asked is not None and state in ("starting", "running"):
        bits[0] = f"**stopping…** (asked {time.monotonic() - asked:.0f} s ago; saving a checkpoint at the next step)"
        kind = "warn"
    line = status(" · ".join(bits), kind)
    if state == "failed":
        line += f"\n\n```\n{run.error}\n```"
    card_path = Path(session.train_run) / "adapter" / "README.md"
    card = card_markdown(card_path.read_text(encoding="utf-8")) if state == "finished" and card_path.exists() else ""
    if state not in ("starting", "running"):
        session.live.pop("train:stop_at", None)
    return line, _frame(metrics + evals), card, gr.Timer(active=state in ("starting", "running"))


def stop_training(session: Session, wait_s: float = 60.0) -> str:
    """Ask the run to stop (SIGTERM: checkpoint at the next step, then exit) and return at once; the status
    line says "stopping…" until it has stopped. A run that has not ended after ``wait_s`` is killed."""
    run = _run(session)
    if run is None:
        raise gr.Error("No training run to stop.")
    if run.status not in ("starting", "running"):
        return status(f"Training is {run.status}; nothing to stop.")
    if "train:stop_at" not in session.live:
        session.live["train:stop_at"] = time.monotonic()
        threading.Thread(target=run.stop, kwargs={"timeout": wait_s}, name="mimir-ui-train-stop", daemon=True).start()
    return status("stopping… the run saves a checkpoint at the next step; Start with the same run name resumes it.", "warn")


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
    """Loss by step as numbers (typed columns even when empty, so the plot's axes are quantitative, never
    categories), one series for the training loss and one for the eval loss where the run has one."""
    rows = [(int(m["step"]), float(m["loss"]), "train") for m in metrics if "loss" in m and "step" in m]
    rows += [(int(m["step"]), float(m["eval_loss"]), "eval") for m in metrics if "eval_loss" in m and "step" in m]
    return pd.DataFrame({
        "step": pd.Series([r[0] for r in rows], dtype="int64"),
        "loss": pd.Series([r[1] for r in rows], dtype="float64"),
        "series": pd.Series([r[2] for r in rows], dtype="string"),
    })


def build(ctx: AppContext, state: gr.State) -> None:
    with gr.Row():
        with gr.Column(scale=2):
            with gr.Row():
                dataset = gr.Dropdown([], label="Training data (from this workspace)", allow_custom_value=True, scale=3)
                refresh = gr.Button("↻", scale=0, size="sm", min_width=60)
            upload = gr.File(label="…or upload a JSONL of chat `messages` records", file_types=[".jsonl"], height=120)
            name = gr.Textbox(value="mimir-lora", label="Run name (same name = resume)")
            base_model = gr.Textbox(**ui_default(TrainConfig, "base_model"), label="Base model (embedded, a folder or a Hub id)")
        with gr.Column(scale=3):
            method = gr.Radio([("LoRA", "lora"), ("QLoRA (4-bit nf4)", "qlora")], **ui_default(TrainConfig, "method"), label="Method")
            with gr.Row():
                rank = gr.Number(**ui_default(TrainConfig, "rank"), precision=0, label="Rank r")
                alpha = gr.Number(**ui_default(TrainConfig, "alpha"), precision=0, label="Alpha")
                lr = gr.Number(**ui_default(TrainConfig, "learning_rate"), label="Learning rate")
            with gr.Row():
                epochs = gr.Number(**ui_default(TrainConfig, "epochs"), label="Epochs")
                max_steps = gr.Number(**ui_default(TrainConfig, "max_steps"), precision=0, label="Max steps (-1: epochs)")
                batch = gr.Number(**ui_default(TrainConfig, "batch_size"), precision=0, label="Batch size")
                max_len = gr.Number(**ui_default(TrainConfig, "max_length"), precision=0, label="Max length")
            with gr.Row():
                start = gr.Button("Start / resume training", variant="primary", elem_id="train-start")
                stop = gr.Button("Stop (saves a checkpoint)", variant="stop")
    line = gr.Markdown(status("No training run yet."), elem_id="train-status")
    plot = gr.LinePlot(_frame([]), x="step", y="loss", color="series", title="Loss", x_title="step", y_title="loss",
                       height=280, elem_id="train-loss", color_map={"train": "#2563eb", "eval": "#f97316"})
    with gr.Accordion("Model card", open=False):
        card = gr.Markdown(elem_id="train-card")
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

    refresh.click(guard(dataset_dropdown), inputs=state, outputs=dataset)
    dataset.focus(guard(lambda s: gr.Dropdown(choices=dataset_choices(s))), inputs=state, outputs=dataset)
    start.click(guard(start_training), inputs=[state, dataset, upload, name, method, base_model, rank, alpha, epochs, max_steps,
                                               lr, batch, max_len], outputs=[line, timer])
    stop.click(guard(stop_training), inputs=state, outputs=line)
    timer.tick(guard(poll), inputs=state, outputs=[line, plot, card, timer])
    j_submit.click(guard(submit_to_jobs), inputs=[state, j_data, j_push, j_flavor, j_source, j_timeout, method, base_model, j_steps],
                   outputs=j_status)
    j_check.click(guard(job_state), inputs=state, outputs=j_status)

    def on_open(session):  # opening the tab (e.g. after reopening a workspace) shows its datasets and its run
        return (dataset_dropdown(session), *poll(session))

    return on_open, [dataset, line, plot, card, timer]
