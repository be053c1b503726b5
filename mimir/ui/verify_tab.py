"""Verify tab: check the generated dialogues against their sources; verdicts with readable reasons and totals.

The raw dialogues are never changed: the stage writes verdicts and the verified dataset beside them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from mimir.jsonl import read_records
from mimir.ui.common import guard, md_table, status
from mimir.ui.context import AppContext, session_model
from mimir.ui.generate_tab import paths as generation_paths
from mimir.ui.render import VERDICT_HEADERS, dialogue_messages, verdict_row, verdict_totals
from mimir.ui.session import Session


def verify_paths(session: Session) -> dict[str, Path]:
    folder = session.workspace / "verify"
    return {"verdicts": folder / "verdicts.jsonl", "verified": folder / "verified_dialogues.jsonl",
            "export": folder / "verified_export.jsonl"}


def run_verification(ctx: AppContext, session: Session, mode: str, use_judge: bool, judge_spec: str, progress: Any = None):
    """Run the stage; return (totals markdown, verdict rows)."""
    from mimir.config import config_from_dict
    from mimir.verify import VerifyConfig, run_verification as verify

    raw, _ = generation_paths(session)
    if not raw.exists():
        raise gr.Error("Nothing to verify yet: generate dialogues in the Generate tab first.")
    out = verify_paths(session)
    config = config_from_dict(VerifyConfig, {
        "input": str(raw), "knowledge": str(session.knowledge_dir), "verdicts": str(out["verdicts"]),
        "output": str(out["verified"]), "export": str(out["export"]), "mode": mode,
        "judge": bool(use_judge), "judge_model": (judge_spec or session.model_spec).strip(),
    }, where="verification settings")
    judge = session_model(ctx, config.judge_model, session.secret("endpoint")) if use_judge else None
    verify(config, judge=judge, progress=progress)
    return verdict_view(session)


def verdict_view(session: Session) -> tuple[str, list[list[Any]]]:
    verdicts = list(read_records(verify_paths(session)["verdicts"]))
    if not verdicts:
        return status("No verdicts yet."), []
    totals = verdict_totals(verdicts)
    reasons: dict[str, int] = {}
    for v in verdicts:
        if v.get("decision") in ("reject", "fix", "judge_failed"):
            for r in v.get("reasons", []):
                key = str(r).split(":")[0]
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
        mode = gr.Radio([("Keep / reject", "filter"), ("Keep / fix / reject (judge rewrites wrong turns)", "fix")],
                        value="fix", label="Mode")
        use_judge = gr.Checkbox(value=True, label="LLM judge after the deterministic checks")
        judge_spec = gr.Textbox(value="", label="Judge model spec (empty: the generation model)",
                                placeholder="e.g. endpoint:meta-llama/Llama-3.1-70B-Instruct")
    run_btn = gr.Button("Verify dialogues", variant="primary", elem_id="verify-run")
    totals = gr.Markdown(elem_id="verify-totals")
    with gr.Row():
        table = gr.Dataframe(headers=VERDICT_HEADERS, interactive=False, wrap=True, elem_id="verify-table", scale=3,
                             max_height=480)
        chat = gr.Chatbot(label="Dialogue (click a row)", height=480, sanitize_html=True, scale=2)

    def run(session, m, j, spec, progress=gr.Progress()):
        return run_verification(ctx, session, m, j, spec, progress=progress)

    run_btn.click(guard(run), inputs=[state, mode, use_judge, judge_spec], outputs=[totals, table])
    table.select(guard(show), inputs=state, outputs=chat)
