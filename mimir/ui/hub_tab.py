"""Hub tab: log in (OAuth on a Space, else a token held in session memory), push the dataset and
the adapter with their cards. Tokens go to each call and nowhere else (never back to the page).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import gradio as gr

from mimir.ui.common import guard, md_table, status
from mimir.ui.context import AppContext
from mimir.ui.session import Session


def _token(session: Session, oauth_token: Any) -> Any:
    """OAuth (a Space login) first, then the token pasted in this session; the stage falls back to HF_TOKEN."""
    if oauth_token is not None and getattr(oauth_token, "token", None):
        return oauth_token
    return session.secret("hub")


def hub_problem(exc: BaseException, on_space: bool = False) -> str:
    """A Hub failure in words, for the status line (which then shows only the current outcome)."""
    from mimir.errors import HubAuthError, HubError, MimirError

    text = str(exc)
    if isinstance(exc, HubAuthError) and "no Hugging Face token" in text:
        where = "sign in with the Hugging Face button above, or " if on_space else ""
        return status(f"No Hugging Face token: {where}paste a token with write access in the token field above and "
                      "press **Use token** (or start the app with HF_TOKEN set).", "error")
    if isinstance(exc, HubAuthError) or getattr(exc, "status", None) == 401:
        return status("Token rejected by the Hub: check it is a current token with write access "
                      "(https://huggingface.co/settings/tokens) and paste it again.", "error")
    if isinstance(exc, HubError) and "no connection to the Hub" in text:
        return status("No connection to the Hub: check the network (or HF_ENDPOINT) and try again.", "error")
    if isinstance(exc, (MimirError, ValueError, OSError, gr.Error)):
        return status(getattr(exc, "message", None) or text, "error")
    raise exc


def set_token(session: Session, token: str) -> tuple[str, str]:
    """Hold a pasted token for this session and say whose it is; the field is cleared. The status line
    says who is logged in now, or why the token was not accepted (never a stale earlier line)."""
    from mimir.hub.auth import whoami

    if not (token or "").strip():
        session.set_secret("hub", "")
        return "", status("Token cleared from this session.")
    session.set_secret("hub", token)
    try:
        user = whoami(token.strip())
    except Exception as exc:  # noqa: BLE001 - shown in words below
        session.set_secret("hub", "")
        return "", hub_problem(exc)
    write = "with write access" if user.get("can_write") else "READ-ONLY: pushing will fail"
    return "", status(f"Logged in as {user.get('name')} ({write}); the token stays in this session's memory only.", "ok")


def dataset_splits(session: Session) -> dict[str, Path]:
    """Which dataset splits this workspace has, by the names they get on the Hub."""
    ws = session.workspace
    candidates = {
        "raw": ws / "generate" / "mimir_dialogues.jsonl",
        "verified": ws / "generate" / "mimir_dialogues.verified.jsonl",
        "original": ws / "generate" / "original_dialogues.jsonl",
        "self_instruct": ws / "generate" / "self_instruct_dialogues.jsonl",
        "baize": ws / "generate" / "baize_dialogues.jsonl",
    }
    return {name: path for name, path in candidates.items() if _has_records(path)}


def _has_records(path: Path) -> bool:
    if not path.is_file() or not path.stat().st_size:
        return False
    with path.open("rb") as handle:
        return any(line.strip() for line in handle)


def push_dataset(session: Session, repo_id: str, private: bool, splits: list[str], include_knowledge: bool,
                 license_id: str, oauth_token: gr.OAuthToken | None = None) -> str:
    available = dataset_splits(session)
    chosen = {name: str(available[name]) for name in splits or [] if name in available}
    return push_dataset_files(session, chosen, splits, available, repo_id, private, include_knowledge, license_id, oauth_token)


def push_dataset_files(session: Session, chosen: dict[str, str], splits: list[str], available: dict[str, Path], repo_id: str,
                       private: bool, include_knowledge: bool, license_id: str, oauth_token: Any = None) -> str:
    """Push dialogue files as dataset splits with a card (the Hub tab and the guided run use this)."""
    from mimir.config import config_from_dict
    from mimir.hub import DatasetPushConfig
    from mimir.hub import push_dataset as push

    if not chosen:
        if not splits:
            raise gr.Error("Pick at least one split to push.")
        have = ", ".join(available) or "none yet"
        if "verified" in splits and "raw" in available:
            raise gr.Error(f"The verified split is empty: verification kept no dialogue. Push the raw split, or verify "
                           f"again (e.g. with the judge that fixes turns). Splits with records: {have}.")
        raise gr.Error(f"Nothing to push: the chosen split(s) have no records yet ({', '.join(splits)}); splits with records: {have}. "
                       "Generate (and verify) dialogues first.")
    config = config_from_dict(DatasetPushConfig, {
        "repo_id": (repo_id or "").strip(), "private": bool(private), "include_knowledge_files": bool(include_knowledge),
        "license": (license_id or "other").strip(),
    }, where="dataset push")
    verdicts = session.workspace / "verify" / "verdicts.jsonl"
    run_config = session.workspace / "generate" / "generate_config.yaml"
    sources: list[str] = []
    files: list[str] = []
    if (session.knowledge_dir / "manifest.json").exists():
        from mimir.knowledge import KnowledgeBase

        kb = KnowledgeBase.open(session.knowledge_dir)
        sources = sorted(kb.sources)
        if include_knowledge:  # explicit opt-in; otherwise only the names go into the card
            files = sorted(str(p) for p in (kb.root / "documents").glob("*") if p.is_file())
    result = push(chosen, config=config, token=_token(session, oauth_token),
                  run_config=str(run_config) if run_config.exists() else None,
                  verdicts=str(verdicts) if verdicts.exists() else None,
                  knowledge_sources=sources, knowledge_files=files)
    return _result_md(result)


def push_adapter(session: Session, run: str, repo_id: str, private: bool, merged_repo: str, license_id: str,
                 oauth_token: gr.OAuthToken | None = None) -> str:
    adapter = _run_folder(session, run) / "adapter"
    if not adapter.is_dir():
        raise gr.Error("Pick a finished training run (its adapter/ folder) from the list.")
    return push_adapter_folder(session, adapter, repo_id, private, merged_repo, license_id, oauth_token)


def push_adapter_folder(session: Session, adapter: Path, repo_id: str, private: bool, merged_repo: str, license_id: str,
                        oauth_token: Any = None) -> str:
    """Push one adapter folder with its card (the Train tab's runs and the guided run use this)."""
    from mimir.config import config_from_dict
    from mimir.hub import AdapterPushConfig
    from mimir.hub import push_adapter as push

    config = config_from_dict(AdapterPushConfig, {
        "repo_id": (repo_id or "").strip(), "private": bool(private), "merged_repo_id": (merged_repo or "").strip(),
        "license": (license_id or "other").strip(),
    }, where="adapter push")
    summary = session.workspace / "evaluate" / "summary.json"
    result = push(str(adapter), config=config, token=_token(session, oauth_token),
                  eval_results=str(summary) if summary.exists() else None)
    return _result_md(result)


def adapter_runs(session: Session) -> list[tuple[str, str]]:
    """(run name, run name) of finished runs; resolved to the folder on the server (no paths on the page)."""
    return [(p.parent.name, p.parent.name) for p in sorted((session.workspace / "train").glob("*/adapter")) if p.is_dir()]


def _run_folder(session: Session, run: str) -> Path:
    name = (run or "").strip()
    if not name or "/" in name or name.startswith("."):
        raise gr.Error("Pick a finished training run (its adapter/ folder) from the list.")
    return session.workspace / "train" / name


def _result_md(result: Any) -> str:
    files = md_table(["file"], [[f] for f in result.files[:30]])
    visibility = "private" if result.private else "public"
    return status(f"Pushed to {result.repo_id} ({visibility}): {result.url}", "ok") + "\n\n" + files


def build(ctx: AppContext, state: gr.State) -> None:
    with gr.Row():
        if ctx.on_space:
            gr.LoginButton()  # Spaces OAuth; handlers receive the user's token as gr.OAuthToken
        token = gr.Textbox(label="Hugging Face token (write access)", type="password", placeholder="hf_…",
                           info="Held in this session's memory only; never saved, logged or shown. Empty: HF_TOKEN.")
        token_btn = gr.Button("Use token", scale=0)
    who = gr.Markdown()
    with gr.Row():
        with gr.Column():
            gr.Markdown("### Dataset")
            d_repo = gr.Textbox(label="Dataset repo", placeholder="my-clinic-dialogues or org/name")
            d_splits = gr.CheckboxGroup(["raw", "verified", "original", "self_instruct", "baize"], value=["verified"],
                                        label="Splits")
            with gr.Row():
                d_private = gr.Checkbox(value=True, label="Private")
                d_knowledge = gr.Checkbox(value=False, label="Also upload my private knowledge files")
                d_license = gr.Textbox(value="other", label="License")
            d_btn = gr.Button("Push dataset", variant="primary")
            d_out = gr.Markdown()
        with gr.Column():
            gr.Markdown("### Adapter")
            with gr.Row():
                a_run = gr.Dropdown([], label="Training run")
                a_refresh = gr.Button("↻", scale=0, size="sm", min_width=60)
            a_repo = gr.Textbox(label="Model repo", placeholder="my-clinic-expert-lora or org/name")
            a_merged = gr.Textbox(label="Also push the merged model to (optional)")
            with gr.Row():
                a_private = gr.Checkbox(value=True, label="Private")
                a_license = gr.Textbox(value="other", label="License")
            a_btn = gr.Button("Push adapter", variant="primary")
            a_out = gr.Markdown()
    gr.Markdown("A temporary public link to this app: start it with `python -m mimir app --share`.")

    def reported(push):  # the status line under the button shows this push's outcome, success or failure
        def handler(*args, **kwargs):
            try:
                return push(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - hub_problem re-raises what is not a user-facing failure
                return hub_problem(exc, ctx.on_space)

        return functools.wraps(push)(handler)

    token_btn.click(guard(set_token), inputs=[state, token], outputs=[token, who])
    d_btn.click(lambda: status("Pushing the dataset…"), outputs=d_out).then(
        guard(reported(push_dataset)), inputs=[state, d_repo, d_private, d_splits, d_knowledge, d_license], outputs=d_out)
    a_refresh.click(guard(lambda s: gr.Dropdown(choices=adapter_runs(s))), inputs=state, outputs=a_run)
    a_run.focus(guard(lambda s: gr.Dropdown(choices=adapter_runs(s))), inputs=state, outputs=a_run)
    a_btn.click(lambda: status("Pushing the adapter…"), outputs=a_out).then(
        guard(reported(push_adapter)), inputs=[state, a_run, a_repo, a_private, a_merged, a_license], outputs=a_out)
    return (lambda s: gr.Dropdown(choices=adapter_runs(s), value=(adapter_runs(s) or [[None, None]])[-1][1])), [a_run]
