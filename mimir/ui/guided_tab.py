"""Guided run: documents in → one button → :func:`mimir.tune.tune` (generate → verify → train → knowledge
check) with each stage's progress live, Stop / resume, the knowledge-check result, and push buttons.

The run lives in ``<workspace>/tune/`` (a rerun resumes there); the worker thread reports
:class:`mimir.tune.StageEvent`s into a queue the handler streams to the page.
"""

from __future__ import annotations

import queue
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

from mimir.ui.common import as_ui_error, guard, guard_stream, md_table, remove_uploads, shorten, status, upload_paths
from mimir.ui.context import AppContext
from mimir.ui.session import Session
from mimir.ui.text import eta_text

STAGES = ["knowledge", "data", "generate", "verify", "train", "check"]
EXAMPLE, UPLOAD = "example", "upload"


def tune_dir(session: Session) -> Path:
    return session.workspace / "tune"


def prepare_documents(session: Session, source: str, files: Any) -> Path:
    """The folder of documents the run learns from: the bundled example, or this session's uploads
    (copied into the workspace; the temp uploads are deleted)."""
    from mimir.knowledge import example_files

    folder = session.workspace / "tune-documents"
    if source == EXAMPLE:
        folder.mkdir(parents=True, exist_ok=True)
        for path in example_files():
            shutil.copyfile(path, folder / path.name)
        return folder
    paths = upload_paths(files)
    if not paths:
        if folder.is_dir() and any(folder.iterdir()):
            return folder  # resume with the documents of the earlier run
        raise gr.Error("Upload one or more documents (pdf, docx, txt, md, csv, json, html) or pick the bundled example.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path in paths:
            shutil.copyfile(path, folder / Path(path).name)
    finally:
        remove_uploads(paths)
    return folder


def tune_config(ctx: AppContext, session: Session, documents: Path, overrides: dict[str, Any] | None = None):
    """The recipe's defaults; ``overrides`` (``MIMIR_GUIDED_OVERRIDES`` in tests) caps a quick run."""
    from mimir.config import config_from_dict
    from mimir.tune import TuneConfig

    values = {"knowledge": str(documents), "run_dir": str(tune_dir(session)), "model": session.model_spec or ctx.default_model,
              **(overrides or {})}
    return config_from_dict(TuneConfig, values, where="guided run settings")


def run_guided(ctx: AppContext, session: Session, source: str, files: Any,
               overrides: dict[str, Any] | None = None) -> Iterator[tuple[str, list[list[Any]], str]]:
    """Stream (status line, stage table, result markdown) while tune runs in a worker thread."""
    from mimir.tune import tune

    if session.live.get("guided") is not None:
        raise gr.Error("A guided run is already going in this session; Stop it first.")
    config = tune_config(ctx, session, prepare_documents(session, source, files), overrides)
    stop, events, outcome = threading.Event(), queue.Queue(), {}
    session.live["guided"] = stop
    stages: dict[str, dict[str, Any]] = {}

    def work() -> None:
        try:
            outcome["result"] = tune(config, progress=events.put, stop=stop)
        except BaseException as exc:  # noqa: BLE001 - shown on the page below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="mimir-ui-guided", daemon=True)
    started = time.monotonic()
    worker.start()
    try:
        while True:
            alive = worker.is_alive()
            changed = False
            while True:
                try:
                    event = events.get_nowait()
                except queue.Empty:
                    break
                changed = True
                if event.stage == "log":
                    continue
                row = stages.setdefault(event.stage, {"started": time.monotonic()})
                row.update(done=event.done, total=event.total, message=event.message)
            if not alive:
                break
            if stop.is_set():
                line = status(f"stopping… (asked {time.monotonic() - session.live.get('guided:stop_at', started):.0f} s ago); "
                              "finished stages stay saved", "warn")
            else:
                current = next(reversed(stages), None)
                line = status(f"running · {current or 'starting'} · {time.monotonic() - started:.0f} s", "info")
            yield line, _table(stages), gr.skip() if not changed else ""
            worker.join(0.5)
    finally:
        session.live.pop("guided", None)
        session.live.pop("guided:stop_at", None)
    if "error" in outcome:
        raise as_ui_error(outcome["error"])
    result = outcome["result"]
    session.live["guided_result"] = result
    if result.stopped:
        yield (status(f"stopped after {time.monotonic() - started:.0f} s; press Run again to resume where it stopped", "warn"),
               _table(stages), "")
        return
    yield status(f"done in {time.monotonic() - started:.0f} s: a tuned adapter and its knowledge check", "ok"), _table(stages), \
        result_markdown(result)


def _table(stages: dict[str, dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for name, row in stages.items():
        done, total = int(row.get("done", 0)), int(row.get("total", 0))
        rows.append([name, eta_text(done, total, time.monotonic() - row["started"]) if total else str(done),
                     shorten(row.get("message", ""), 120)])
    return rows


def result_markdown(result: Any) -> str:
    """Recall base vs tuned with 95% intervals (with and without the system prompt) and answers side by side."""
    check = result.check or {}
    rows = []
    for name in ("base", "tuned"):
        r = check.get(name)
        if not r:
            continue
        w, p = r["with_system_prompt"], r["without_system_prompt"]
        rows.append([name, f"{w['recall']:.2f} [{w['ci95'][0]:.2f}, {w['ci95'][1]:.2f}]",
                     f"{p['recall']:.2f} [{p['ci95'][0]:.2f}, {p['ci95'][1]:.2f}]", f"{r['general_perplexity']:.1f}"])
    text = f"### Knowledge check — {check.get('questions', 0)} held-out questions, closed book\n\n"
    text += md_table(["model", "recall with system prompt [95% CI]", "recall without", "general perplexity"], rows)
    if "perplexity_change" in check:
        text += f"\n\nGeneral perplexity change (forgetting): {check['perplexity_change']:+.1%}"
    if "chat_perplexity_change" in check:
        text += f"\n\nChat drift (perplexity on the base model's own general answers): {check['chat_perplexity_change']:+.1%}"
    stored = (check.get("tuned") or {}).get("stored")
    if stored:
        held_out = check["tuned"]["without_system_prompt"]["recall"]
        why = ("the facts are in; new wordings of the questions are what it misses" if stored["recall"] - held_out >= 0.2
               else "most facts were not stored: more epochs would help" if stored["recall"] < 0.5 else "")
        text += (f"\n\nStored: the tuned model answers {stored['recall']:.2f} [{stored['ci95'][0]:.2f}, {stored['ci95'][1]:.2f}] "
                 f"of {stored['questions']} of its own training questions" + (f" ({why})." if why else "."))
    examples = check.get("examples") or []
    if examples:
        text += "\n\n### Example answers (no system prompt)\n\n" + md_table(
            ["question", "expected", "base", "tuned"],
            [[shorten(e["question"], 100), shorten(", ".join(e.get("key_facts") or []), 60), shorten(e["base"], 140),
              shorten(e["tuned"], 140)] for e in examples])
    return text


def request_stop(session: Session) -> str:
    stop = session.live.get("guided")
    if stop is None:
        return status("Nothing is running.")
    session.live.setdefault("guided:stop_at", time.monotonic())
    stop.set()
    return status("stopping… finished stages stay saved; Run again resumes.", "warn")


def push_guided_dataset(session: Session, repo_id: str, private: bool, oauth_token: gr.OAuthToken | None = None) -> str:
    from mimir.ui import hub_tab

    result = _result(session)
    path = result.paths.get("dialogues") or result.paths.get("train_data")
    chosen = {"train": path} if path and Path(path).is_file() else {}
    try:
        return hub_tab.push_dataset_files(session, chosen, ["train"], {}, repo_id, private, False, "other", oauth_token)
    except Exception as exc:  # noqa: BLE001 - in words on the status line
        return hub_tab.hub_problem(exc)


def push_guided_adapter(session: Session, repo_id: str, private: bool, oauth_token: gr.OAuthToken | None = None) -> str:
    from mimir.ui import hub_tab

    result = _result(session)
    try:
        return hub_tab.push_adapter_folder(session, Path(result.paths["adapter"]), repo_id, private, "", "other", oauth_token)
    except Exception as exc:  # noqa: BLE001
        return hub_tab.hub_problem(exc)


def _result(session: Session) -> Any:
    result = session.live.get("guided_result")
    if result is None or result.stopped or "adapter" not in result.paths:
        raise gr.Error("Finish a guided run first: the push uses its dataset and adapter.")
    return result


def build(ctx: AppContext, state: gr.State, overrides: dict[str, Any] | None = None) -> None:
    gr.Markdown("**From your documents to a tuned model in one click**: MIMIR writes training dialogues about every "
                "fact, checks them against the documents, trains a LoRA adapter and measures what it learned on "
                "questions it never saw. The numbered tabs do the same steps one at a time.")
    with gr.Row():
        source = gr.Radio([("Bundled example (clinic handbook + on-call rota)", EXAMPLE), ("My documents", UPLOAD)],
                          value=EXAMPLE, label="Documents", elem_id="guided-source")
        files = gr.File(label="Your documents", file_count="multiple", height=120, elem_id="guided-files")
    from mimir.config import ui_default
    from mimir.generate.roles import load_roles
    from mimir.tune import TuneConfig

    with gr.Row():
        domain = gr.Dropdown(sorted(load_roles("").domains), label="Domain (whose expert is tuned)",
                             **ui_default(TuneConfig, "domain"), elem_id="guided-domain")
        preset = gr.Dropdown(["auto", "small", "roleplay"], label="Data recipe preset", **ui_default(TuneConfig, "preset"),
                             elem_id="guided-preset")
    with gr.Row():
        run_btn = gr.Button("Run: generate → verify → train → check", variant="primary", elem_id="guided-run")
        stop_btn = gr.Button("Stop", variant="stop", elem_id="guided-stop")
    line = gr.Markdown(elem_id="guided-status")
    table = gr.Dataframe(headers=["stage", "progress", "latest"], interactive=False, wrap=True, elem_id="guided-stages",
                         column_widths=["14%", "30%", "56%"])
    result = gr.Markdown(elem_id="guided-result")
    with gr.Accordion("Push the dataset and the adapter to the Hub (token: Hub tab)", open=False):
        with gr.Row():
            d_repo = gr.Textbox(label="Dataset repo", placeholder="my-expert-dialogues")
            a_repo = gr.Textbox(label="Model repo", placeholder="my-expert-lora")
            private = gr.Checkbox(value=True, label="Private")
        with gr.Row():
            d_btn = gr.Button("Push dataset")
            a_btn = gr.Button("Push adapter")
        pushed = gr.Markdown(elem_id="guided-pushed")

    def go(session, source_, files_, domain_, preset_):
        yield from run_guided(ctx, session, source_, files_, {"domain": domain_, "preset": preset_, **(overrides or {})})

    run_btn.click(guard_stream(go), inputs=[state, source, files, domain, preset], outputs=[line, table, result])
    stop_btn.click(guard(request_stop), inputs=state, outputs=line)
    d_btn.click(guard(push_guided_dataset), inputs=[state, d_repo, private], outputs=pushed)
    a_btn.click(guard(push_guided_adapter), inputs=[state, a_repo, private], outputs=pushed)
