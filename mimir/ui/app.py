"""``build_app()``: the MIMIR Blocks, one tab per pipeline stage, state per browser session."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from mimir.ui import (
    evaluate_tab,
    generate_tab,
    guided_tab,
    hub_tab,
    knowledge_tab,
    roles_tab,
    train_tab,
    verify_tab,
)
from mimir.ui.common import guard
from mimir.ui.context import ASSETS, AppContext, ModelCache, ModelLoader, default_runs_root
from mimir.ui.session import Session
from mimir.ui.text import register_private_root

CSS_PATH = ASSETS / "style.css"
EXTRA_CSS = """
#roles-table table { table-layout: auto; }
#roles-table td:nth-child(-n+3), #roles-table th:nth-child(-n+3) { white-space: nowrap; word-break: keep-all; }
#train-card pre, #guided-result pre { white-space: pre-wrap; }
"""
INTRO = """# MIMIR — personalized agent tuning
Private documents + public datasets in → multi-role training dialogues → verified → LoRA/QLoRA
tuned model → pairwise evaluation → Hugging Face Hub. Work left to right; every step is also a
`python -m mimir <stage>` command."""


def build_app(
    runs_root: str | Path | None = None,
    *,
    model_loader: ModelLoader | None = None,
    default_model: str = "local",
    guided_overrides: dict | None = None,
) -> gr.Blocks:
    """Build the app. Nothing is loaded here: models load on first use, per spec. ``guided_overrides``:
    TuneConfig overrides of the guided run (e.g. a small cap for a quick trial or a test)."""
    if model_loader is None:
        from mimir.models import load_model as model_loader
    ctx = AppContext(
        runs_root=Path(runs_root) if runs_root else default_runs_root(),
        models=ModelCache(model_loader),
        default_model=default_model,
    )

    register_private_root(ctx.runs_root)

    def start_session(request: gr.Request) -> tuple[Session, str]:
        """One workspace per page load, made here and only here: the banner shows the id of the very
        session every handler then receives (state and banner come from this one call)."""
        session = Session.new(ctx.runs_root, owner=_user(request))
        session.model_spec = ctx.default_model
        return session, describe_workspace(session)

    # Uploads land in gradio's cache; handlers delete theirs when done, and this sweeps what is left.
    with gr.Blocks(title="MIMIR", analytics_enabled=False, delete_cache=(1800, 3600)) as demo:
        state = gr.State(None)
        gr.Markdown(INTRO, elem_id="mimir-intro")
        workspace = gr.Markdown(elem_id="mimir-workspace")
        with gr.Accordion("Reopen an earlier workspace", open=False):
            with gr.Row():
                reopen_id = gr.Textbox(show_label=False, placeholder="workspace id, e.g. s-0123456789abcdef", scale=3)
                reopen_btn = gr.Button("Reopen", scale=1)
        with gr.Tabs():
            with gr.Tab("Guided run", id="guided"):
                guided_tab.build(ctx, state, guided_overrides)
            with gr.Tab("1 · Knowledge", id="knowledge"):
                knowledge_tab.build(ctx, state)
            with gr.Tab("2 · Roles & tools", id="roles"):
                roles_tab.build(ctx, state)
            with gr.Tab("3 · Generate", id="generate"):
                generate_tab.build(ctx, state)
            with gr.Tab("4 · Verify", id="verify"):
                verify_tab.build(ctx, state)
            with gr.Tab("5 · Train", id="train") as train_page:
                refreshers = [(train_page, *train_tab.build(ctx, state))]
            with gr.Tab("6 · Evaluate", id="evaluate") as evaluate_page:
                refreshers.append((evaluate_page, *evaluate_tab.build(ctx, state)))
            with gr.Tab("7 · Hub", id="hub") as hub_page:
                refreshers.append((hub_page, *hub_tab.build(ctx, state)))
        # Lists of what the workspace holds (datasets with counts, adapters) are current whenever a tab opens.
        for page, refresh, outputs in refreshers:
            page.select(guard(refresh), inputs=state, outputs=outputs)

        demo.load(start_session, inputs=None, outputs=[state, workspace])
        reopen_btn.click(_reopen(ctx), inputs=[state, reopen_id], outputs=[state, workspace])
    demo.mimir_runs_root = ctx.runs_root  # launch() keeps gradio from serving anything under it
    return demo


def _user(request: gr.Request | None) -> str:
    return str(getattr(request, "username", None) or "") if request is not None else ""


def describe_workspace(session: Session) -> str:
    """The banner: the workspace id (no server folder: paths stay on the server)."""
    owner = f" (owned by {session.owner})" if session.owner else ""
    return (f"Workspace **`{session.id}`**{owner} — keep this id to reopen the workspace later "
            "(e.g. to watch a training run): *Reopen an earlier workspace* below.")


def _reopen(ctx: AppContext):
    from mimir.ui.common import guard

    @guard
    def reopen(session: Session, session_id: str, request: gr.Request = None) -> tuple[Session, str]:
        reopened = Session.reopen(ctx.runs_root, session_id, owner=_user(request))
        # Choices and keys made in this browser carry over; the files come from the reopened workspace.
        reopened.model_spec, reopened.generation = session.model_spec, dict(session.generation)
        reopened._secrets = dict(session._secrets)
        train = reopened.workspace / "train"
        runs = sorted(train.glob("*/status.json"), key=lambda p: p.stat().st_mtime) if train.is_dir() else []
        reopened.train_run = str(runs[-1].parent) if runs else ""
        return reopened, describe_workspace(reopened)

    return reopen


def launch_kwargs(demo: gr.Blocks | None = None, auth: list[tuple[str, str]] | None = None) -> dict:
    """Arguments every launch passes: theme and CSS (gradio 6 takes them at launch), the runs root as
    a *blocked* path (workspaces are private: nothing under it is served by URL; what a page shows —
    charts, tables — is sent as data through the session's own events), and the optional login."""
    kwargs: dict = {"css_paths": [CSS_PATH] if CSS_PATH.exists() else None, "theme": gr.themes.Soft(), "css": EXTRA_CSS}
    root = getattr(demo, "mimir_runs_root", None)
    if root is not None:
        Path(root).mkdir(parents=True, exist_ok=True)
        kwargs["blocked_paths"] = [str(Path(root).resolve())]
    if auth:
        kwargs["auth"] = list(auth)
        kwargs["auth_message"] = "MIMIR: each user sees only the workspaces they made."
    return kwargs
