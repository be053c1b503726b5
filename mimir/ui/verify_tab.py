"""Verify tab: check the generated dialogues against their sources; verdicts with readable reasons and totals.

The raw dialogues are never changed: the stage writes verdicts and the verified dataset beside them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import gradio as gr

from mimir.jsonl import read_records
from mimir.ui.common import guard, md_table, status
from mimir.ui.text import eta_text
from mimir.ui.context import AppContext, session_model
from mimir.ui.generate_tab import paths as generation_paths
from mimir.ui.render import VERDICT_HEADERS, dialogue_messages, verdict_row, verdict_totals
from mimir.ui.session import Session


def verify_paths(session: Session) -> dict[str, Path]:
    """Verdicts and report in ``verify/``; the verified dialogues beside the raw ones (stage rule); the
    training export of the kept/fixed dialogues in ``verify/verified_export.jsonl``."""
    from mimir.verify import verified_path

    raw, _ = generation_paths(session)
    folder = session.workspace / "verify"
    return {"verdicts": folder / "verdicts.jsonl", "verified": verified_path(raw), "export": folder / "verified_export.jsonl"}


def _settings_changed(folder: Path, settings: dict[str, Any], fresh: bool) -> bool:
    """Whether earlier verdicts must go: asked to (re-run), or made with other settings (mode, judge)."""
    marker = folder / "settings.json"
    before = json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else None
    folder.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(settings), encoding="utf-8")
    return fresh or (before is not None and before != settings)


def run_verification(ctx: AppContext, session: Session, mode: str, judge_spec: str, reasoning: bool = False,
                     progress: Any = None, fresh: bool = False) -> tuple[str, list[list[Any]]]:
    """Run the stage, then export the kept and fixed dialogues for training. Verdicts are reused (resume)
    only when they were made with the same settings; changed settings or ``fresh`` verify everything again."""
    from mimir.config import config_from_dict
    from mimir.generate import export_for_training, write_export
    from mimir.generate.pipeline import load_dialogues
    from mimir.verify import VerifyConfig, verify_dialogues

    raw, _ = generation_paths(session)
    if not raw.exists():
        raise gr.Error("Nothing to verify yet: generate dialogues in the Generate tab first.")
    spec = (judge_spec or session.model_spec).strip()
    config = config_from_dict(VerifyConfig, {"mode": mode, "judge": spec}, where="verification settings")
    judge = session_model(ctx, spec, session.secret("endpoint")) if mode != "filter" else None
    out = verify_paths(session)
    if _settings_changed(out["verdicts"].parent, {"mode": mode, "judge": spec if mode != "filter" else ""}, fresh):
        for old in (out["verdicts"], out["verified"], out["export"]):
            old.unlink(missing_ok=True)
    started = time.monotonic()
    step = (lambda done, total, *_: progress((done, total), desc="verified " + eta_text(done, total, time.monotonic() - started))
            ) if progress else None
    report = verify_dialogues(raw, session.knowledge_dir, config, judge_model=judge, out_dir=out["verdicts"].parent,
                              progress=step)
    kept = [d for d in load_dialogues(out["verified"]).values() if d.status == "ok"] if out["verified"].exists() else []
    roles = session.generation.get("roles_file")
    write_export(export_for_training(kept, include_reasoning=bool(reasoning), roles=roles), out["export"])
    text, rows = verdict_view(session)
    return text + f"\n\n```\n{report.text()}\n```", rows


def verdict_view(session: Session) -> tuple[str, list[list[Any]]]:
    verdicts = list(read_records(verify_paths(session)["verdicts"]))
    if not verdicts:
        return status("No verdicts yet."), []
    totals = verdict_totals(verdicts)
    reasons: dict[str, int] = {}
    for v in verdicts:  # dialogues per reason (a dialogue with the same reason twice counts once)
        if v.get("decision") in ("reject", "fix", "judge_failed"):
            for key in {str(r).split(":")[0] for r in v.get("reasons", [])}:
                reasons[key] = reasons.get(key, 0) + 1
    text = status(f"{len(verdicts)} dialogue(s): kept {totals['keep']}, fixed {totals['fix']}, rejected {totals['reject']}, "
                  f"judge failed {totals['judge_failed']}", "ok")
    if reasons:
        text += "\n\n" + md_table(["reason (rejected / fixed)", "dialogues"], sorted(reasons.items(), key=lambda kv: -kv[1]))
    return text, [verdict_row(v) for v in verdicts]


def show(session: Session, evt: gr.SelectData) -> list[dict[str, Any]]:
    """Clicking a verdict row shows its dialogue."""
    row = evt.row_value if getattr(evt, "row_value", None) else None
    dialogue_id = row[0] if row else None
    raw, _ = generation_paths(session)
    for record in read_records(raw):
        if record.get("id") == dialogue_id:
            return dialogue_messages(record)
    return []


def build(ctx: AppContext, state: gr.State) -> None:
    with gr.Row():
        mode = gr.Radio([("Deterministic checks only", "filter"), ("+ LLM judge (keep / reject)", "judge"),
                         ("+ LLM judge that fixes wrong turns", "fix")], value="filter", label="Mode")
        judge_spec = gr.Textbox(value="", label="Judge model spec (empty: the generation model)",
                                placeholder="e.g. endpoint:meta-llama/Llama-3.1-70B-Instruct")
        reasoning = gr.Checkbox(value=False, label="Keep reasoning traces in the training export")
    with gr.Row():
        run_btn = gr.Button("Verify dialogues", variant="primary", elem_id="verify-run")
        rerun_btn = gr.Button("Verify again from scratch", elem_id="verify-rerun")
    gr.Markdown("Changing the mode or the judge verifies every dialogue again; otherwise earlier verdicts are reused.")
    totals = gr.Markdown(elem_id="verify-totals")
    with gr.Row():
        table = gr.Dataframe(headers=VERDICT_HEADERS, interactive=False, wrap=True, elem_id="verify-table", scale=3,
                             max_height=480)
        chat = gr.Chatbot(label="Dialogue (click a row)", height=480, sanitize_html=True, scale=2)

    def run(session, m, spec, r, progress=gr.Progress()):
        return run_verification(ctx, session, m, spec, r, progress=progress)

    def rerun(session, m, spec, r, progress=gr.Progress()):
        return run_verification(ctx, session, m, spec, r, progress=progress, fresh=True)

    run_btn.click(guard(run), inputs=[state, mode, judge_spec, reasoning], outputs=[totals, table])
    rerun_btn.click(guard(rerun), inputs=[state, mode, judge_spec, reasoning], outputs=[totals, table])
    table.select(guard(show), inputs=state, outputs=chat)
