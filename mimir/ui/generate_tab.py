"""Generate tab: multi-role dialogues with a live preview as they finish, a stop button, baselines.

The stage runs in a worker thread and appends each finished dialogue to its JSONL (fsync'd);
the handler streams what is in that file, so the preview shows exactly what was saved, and
a stop (or a crash) loses at most the dialogues in flight — a rerun resumes.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import gradio as gr

from mimir.config import ui_default  # app defaults and help come from the configs
from mimir.generate.config import GenerateConfig
from mimir.jsonl import read_records
from mimir.models.base import ChatModel, Conversation, GenerationSettings, Reply
from mimir.ui.common import as_ui_error, guard_stream, status
from mimir.ui.text import eta_text
from mimir.ui.context import AppContext, session_model
from mimir.ui.render import DIALOGUE_HEADERS, dialogue_messages, dialogue_row
from mimir.ui.session import Session

POLL_S = 0.5


class StopRequested(BaseException):
    """Raised inside the stage when the user pressed Stop.

    A BaseException on purpose: the stage records a failing model call as failed dialogues
    (``except Exception``); a stop must instead leave the in-flight dialogues unrecorded so a
    rerun generates them, not skip them as failed."""


class StoppableModel(ChatModel):
    """Checks the stop flag before every model call and, while the backend batches continuously,
    every time it asks for more work (at least every 16 decoded tokens): Stop acts within seconds.

    It passes :meth:`serve` through, so the backend keeps its continuous batching: dialogues finish
    (and are saved, and appear in the preview) one by one instead of all in the last round."""

    def __init__(self, inner: ChatModel, stop: threading.Event) -> None:
        self.inner, self.stop, self.name = inner, stop, inner.name

    def _check(self) -> None:
        if self.stop.is_set():
            raise StopRequested()

    def generate(self, conversations: list[Conversation], settings: GenerationSettings | None = None) -> list[Reply]:
        self._check()
        return self.inner.generate(conversations, settings)

    def serve(self, admit, finish, settings: GenerationSettings | None = None) -> None:  # type: ignore[no-untyped-def]
        def checked_admit():  # type: ignore[no-untyped-def]
            self._check()
            return admit()

        self._check()
        self.inner.serve(checked_admit, finish, settings)


def paths(session: Session, kind: str = "mimir") -> tuple[Path, Path]:
    """(records JSONL, training export JSONL) of a generation or baseline kind."""
    folder = session.workspace / "generate"
    return folder / f"{kind}_dialogues.jsonl", folder / f"{kind}_export.jsonl"


def generation_config(session: Session, n: float, max_turns: float, max_new_tokens: float, temperature: float, seed: float):
    from mimir.config import config_from_dict
    from mimir.generate.config import GenerateConfig

    if not (session.knowledge_dir / "manifest.json").exists():
        raise gr.Error("No knowledge yet: add files or load the example in the Knowledge tab first.")
    records, export = paths(session)
    values = {
        **session.generation,
        "knowledge": str(session.knowledge_dir), "output": str(records), "export": str(export), "model": session.model_spec,
        "max_dialogues": int(n), "max_turns": int(max_turns), "max_new_tokens": int(max_new_tokens),
        "temperature": float(temperature), "seed": int(seed),
    }
    # The planner raises a dialogue's turn budget to fit its facts (a question and an answer each), so
    # "2 turns" used to become 4: ask about as many facts as the chosen number of turns can hold.
    roles_per_dialogue = max([2, *(int(g) for g in values.get("group_sizes") or [2])])
    facts = values.get("facts_per_dialogue", GenerateConfig.facts_per_dialogue)
    values["facts_per_dialogue"] = max(1, min(int(facts), int(max_turns) // roles_per_dialogue))
    return config_from_dict(GenerateConfig, values, where="generation settings")


def stream_stage(
    session: Session, key: str, output: Path, work: Callable[[Callable[..., None], threading.Event], Any],
    total: int = 0,
) -> Iterator[tuple[str, list[list[Any]], list[dict[str, Any]], Any]]:
    """Run ``work(progress, stop)`` in a thread; yield (status, rows, latest dialogue, dropdown) as records land.

    The status line counts saved dialogues against ``total`` (or the stage's own progress total) with
    an ETA; once Stop was pressed it says "stopping…" on every tick until the worker has ended."""
    stop = threading.Event()
    session.live[key] = stop
    outcome: dict[str, Any] = {}
    counts = {"total": int(total)}
    before = sum(1 for _ in read_records(output)) if output.exists() else 0

    def progress(done: Any = None, of: Any = None, *_: Any, **__: Any) -> None:
        if isinstance(of, int) and of > 0:
            counts["total"] = of
        if stop.is_set():
            raise StopRequested()

    def run() -> None:
        try:
            outcome["result"] = work(progress, stop)
        except StopRequested:
            outcome["stopped"] = True
        except BaseException as exc:  # noqa: BLE001 - reported to the page below
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=run, name=f"mimir-ui-{key}", daemon=True)
    worker.start()
    size, records, last_yield = -1, [], 0.0
    while True:
        alive = worker.is_alive()
        now_size = output.stat().st_size if output.exists() else 0
        changed = now_size != size
        if changed:  # re-read only when the stage appended something
            size, records = now_size, list(read_records(output))
        if changed or not alive or time.monotonic() - last_yield >= 2.0:
            last_yield = time.monotonic()
            failed = sum(1 for r in records if r.get("status") == "failed")
            elapsed = time.monotonic() - started
            if alive and stop.is_set():
                line = status(f"stopping… (asked {time.monotonic() - session.live.get(key + ':stop_at', started):.0f} s ago; "
                              f"the dialogues in flight are dropped) · {len(records)} dialogue(s) saved", "warn")
            elif alive:
                total_n = max(counts["total"], len(records))
                made = len(records) - before
                todo = max(total_n - before, 0)
                eta = eta_text(made, todo, elapsed) if todo else f"{elapsed:.0f} s"
                line = status(f"running… {len(records)}/{total_n or '?'} dialogue(s) saved ({failed} failed) · this run "
                              f"{eta}", "info")
            elif "error" in outcome:
                session.live.pop(key, None)
                raise as_ui_error(outcome["error"])
            elif outcome.get("stopped"):
                session.live.pop(key + ":stop_at", None)
                line = status(f"stopped after {elapsed:.0f} s: {len(records)} dialogue(s) saved; run again to resume", "warn")
            else:
                line = status(f"done in {elapsed:.0f} s: {len(records)} dialogue(s) ({failed} failed) in {output.name}", "ok")
            if changed or not alive:
                rows = [dialogue_row(r) for r in records]
                latest = dialogue_messages(records[-1]) if records else []
                ids = [r.get("id") for r in records]
                yield line, rows, latest, gr.Dropdown(choices=ids, value=ids[-1] if ids else None)
            else:  # only the clock moved: leave the table, preview and picker as they are
                yield line, gr.skip(), gr.skip(), gr.skip()
        if not alive:
            break
        worker.join(POLL_S)
    session.live.pop(key, None)


def run_generation(ctx: AppContext, session: Session, n, max_turns, max_new_tokens, temperature, seed, reasoning=False):
    from mimir.generate import export_for_training, generate_dialogues, write_export
    from mimir.knowledge import KnowledgeBase

    from mimir.config import save_config

    config = generation_config(session, n, max_turns, max_new_tokens, temperature, seed)
    # The same run from a shell: python -m mimir generate --config <workspace>/generate/generate_config.yaml
    save_config(config, session.path("generate", "generate_config.yaml"))
    model = session_model(ctx, config.model, session.secret("endpoint"))
    keys = {k: v for k, v in {"tavily": session.secret("tavily"), "google": session.secret("serper")}.items() if v}

    def work(progress: Callable[..., None], stop: threading.Event) -> Any:
        kb = KnowledgeBase.open(config.knowledge)
        dialogues = generate_dialogues(kb, config, StoppableModel(model, stop), config.output, progress, api_keys=keys)
        ok = [d for d in dialogues if d.status == "ok"]
        write_export(export_for_training(ok, include_reasoning=bool(reasoning), roles=config.roles_file), config.export)
        return dialogues

    yield from stream_stage(session, "generate", Path(config.output), work, total=config.max_dialogues)


def run_baseline(ctx: AppContext, session: Session, kind: str, n, seed):
    from mimir.config import config_from_dict
    from mimir.generate import build_baseline, export_for_training, write_export
    from mimir.generate.config import BaselineConfig
    from mimir.knowledge import KnowledgeBase

    if not (session.knowledge_dir / "manifest.json").exists():
        raise gr.Error("No knowledge yet: add files or load the example in the Knowledge tab first.")
    records, export = paths(session, kind.replace("-", "_"))
    config = config_from_dict(BaselineConfig, {
        "kind": kind, "knowledge": str(session.knowledge_dir), "output": str(records), "export": str(export),
        "model": session.model_spec, "n": int(n), "seed": int(seed),
        **{k: v for k, v in session.generation.items() if k in ("domain", "roles_file", "target_role")},
    }, where="baseline settings")
    model = session_model(ctx, config.model, session.secret("endpoint")) if kind != "original" else None

    def work(progress: Callable[..., None], stop: threading.Event) -> Any:
        kb = KnowledgeBase.open(config.knowledge)
        wrapped = StoppableModel(model, stop) if model is not None else None
        dialogues = build_baseline(kind, kb, wrapped, config.output, config.n, config=config, progress=progress)
        ok = [d for d in dialogues if d.status == "ok"]
        write_export(export_for_training(ok, include_reasoning=False, roles=config.roles_file), config.export)
        return dialogues

    yield from stream_stage(session, "baseline", records, work, total=config.n)


def request_stop(session: Session, key: str) -> str:
    stop = session.live.get(key)
    if stop is None:
        return status("Nothing is running.")
    if not stop.is_set():
        session.live[key + ":stop_at"] = time.monotonic()
    stop.set()
    return status("stopping… finished dialogues stay saved; the line above says when it has stopped.", "warn")


def show_dialogue(session: Session, dialogue_id: str, kind: str = "mimir") -> list[dict[str, Any]]:
    for record in read_records(paths(session, kind)[0]):
        if record.get("id") == dialogue_id:
            return dialogue_messages(record)
    return []


# -- layout --------------------------------------------------------------------------------------
def build(ctx: AppContext, state: gr.State) -> None:
    gr.Markdown("Roles, tools, framework and model come from the **Roles & tools** tab (defaults: the domain's first expert, "
                "chain of thought, the knowledge retriever, the embedded model).")
    with gr.Row():
        n = gr.Slider(1, 500, value=8, step=1, label="Dialogues", elem_id="gen-n")
        turns = gr.Slider(2, 16, **ui_default(GenerateConfig, "max_turns"), step=1, label="Spoken turns per dialogue (both roles; tool steps not counted)",
                          elem_id="gen-turns")
        max_new = gr.Slider(16, 512, **ui_default(GenerateConfig, "max_new_tokens"), step=16, label="Max tokens per message")
        temperature = gr.Slider(0, 2.0, **ui_default(GenerateConfig, "temperature"), step=0.1, label="Temperature (0 = greedy)")
        seed = gr.Number(**ui_default(GenerateConfig, "seed"), precision=0, label="Seed", scale=0, min_width=90)
    with gr.Row():
        reasoning = gr.Checkbox(value=False, label="Keep reasoning traces in the training export")
        run_btn = gr.Button("Generate dialogues", variant="primary", elem_id="gen-run")
        stop_btn = gr.Button("Stop", variant="stop", elem_id="gen-stop")
    line = gr.Markdown(elem_id="gen-status")
    with gr.Row():
        with gr.Column(scale=3):
            table = gr.Dataframe(headers=DIALOGUE_HEADERS, interactive=False, wrap=True, label="Saved dialogues",
                                 elem_id="gen-table", max_height=480, column_widths=["24%", "10%", "22%", "12%", "8%", "24%"])
        with gr.Column(scale=4):
            pick = gr.Dropdown([], label="Show dialogue", elem_id="gen-pick")
            chat = gr.Chatbot(label="Dialogue preview (the tuned role answers on the left)", height=480, elem_id="gen-chat",
                              sanitize_html=True, render_markdown=True)
    with gr.Accordion("Baselines on the same knowledge (for the comparison in Evaluate)", open=False):
        with gr.Row():
            kind = gr.Radio([("Original data", "original"), ("Self-instruct", "self-instruct"), ("Baize self-chat", "baize")],
                            value="original", label="Baseline")
            b_n = gr.Slider(1, 500, value=8, step=1, label="Examples")
            b_seed = gr.Number(value=0, precision=0, label="Seed", scale=0, min_width=90)
        with gr.Row():
            b_run = gr.Button("Build baseline")
            b_stop = gr.Button("Stop", variant="stop")
        b_line = gr.Markdown()
        b_table = gr.Dataframe(headers=DIALOGUE_HEADERS, interactive=False, wrap=True, max_height=300)
        b_pick = gr.Dropdown([], label="Show example")
        b_chat = gr.Chatbot(height=320, sanitize_html=True)

    def gen(session, n_, t_, m_, temp_, seed_, reasoning_):
        yield from run_generation(ctx, session, n_, t_, m_, temp_, seed_, reasoning_)

    def base(session, kind_, n_, seed_):
        yield from run_baseline(ctx, session, kind_, n_, seed_)

    gen, base = guard_stream(gen), guard_stream(base)
    run_btn.click(gen, inputs=[state, n, turns, max_new, temperature, seed, reasoning], outputs=[line, table, chat, pick])
    stop_btn.click(lambda s: request_stop(s, "generate"), inputs=state, outputs=line)
    pick.select(lambda s, i: show_dialogue(s, i), inputs=[state, pick], outputs=chat)
    b_run.click(base, inputs=[state, kind, b_n, b_seed], outputs=[b_line, b_table, b_chat, b_pick])
    b_stop.click(lambda s: request_stop(s, "baseline"), inputs=state, outputs=b_line)
    b_pick.select(lambda s, k, i: show_dialogue(s, i, k.replace("-", "_")), inputs=[state, kind, b_pick], outputs=b_chat)
