"""Roles & tools tab: choose the domain, the tuned role and who joins; edit roles; tools, framework, model.

Edits never touch ``assets/roles.yaml``: the session gets its own copy (``<workspace>/roles.yaml``),
validated by the generation stage's role loader before it is saved.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import gradio as gr

from mimir.config import field_default, ui_default  # app defaults and help come from the configs
from mimir.generate.config import GenerateConfig
from mimir.ui.common import guard, md_table, shorten, status
from mimir.ui.context import ASSETS, AppContext
from mimir.ui.session import Session

TOOLS = [("Knowledge retriever", "knowledge_retriever"), ("Tavily web search", "tavily_search"),
         ("Google search (Serper)", "google_search")]
FRAMEWORKS = [("Chain of thought", "cot"), ("ReAct (tool loop)", "react"), ("Reflexion (draft, critique, revise)", "reflexion"),
              ("Plain answer", "none")]
MODEL_CHOICES = ["local", "endpoint:meta-llama/Llama-3.1-8B-Instruct", "endpoint:MODEL@http://localhost:8000/v1"]


# -- handlers ------------------------------------------------------------------------------------
def roles_file(session: Session) -> Path:
    own = session.workspace / "roles.yaml"
    return own if own.exists() else ASSETS / "roles.yaml"


def role_book(session: Session):
    from mimir.generate.roles import load_roles

    return load_roles(roles_file(session))


def domain_view(session: Session, domain: str) -> tuple[gr.CheckboxGroup, gr.Dropdown, str]:
    """Roles of a domain: participants to pick and experts that can be the tuned target."""
    book = role_book(session)
    roles = book.in_domain(domain)
    experts = [r.name for r in roles if r.kind == "expert"]
    chosen = session.generation.get("participants") or [r.name for r in roles]
    target = session.generation.get("target_role") or (experts[0] if experts else None)
    return (
        gr.CheckboxGroup(choices=[(f"{r.name} ({r.kind})", r.name) for r in roles], value=[n for n in chosen if n in {r.name for r in roles}]),
        gr.Dropdown(choices=experts, value=target if target in experts else (experts[0] if experts else None)),
        roles_table(roles),
    )


def roles_table(roles: list[Any]) -> str:
    rows = [[r.name, r.kind, "yes" if r.sees_knowledge else "no", ", ".join(r.tools) or "—", shorten(r.persona, 120)] for r in roles]
    return md_table(["role", "kind", "sees knowledge", "tools", "persona"], rows)


def apply_choices(
    session: Session, domain: str, target: str, participants: list[str], group_size: float,
    frameworks: list[str], tools: list[str], model_spec: str,
) -> str:
    """Validate the choices against the role library and keep them for the Generate tab."""
    from mimir.models.registry import ModelConfig

    book = role_book(session)
    names = {r.name for r in book.in_domain(domain)}
    if not target or target not in names:
        raise gr.Error(f"Pick the tuned (target) role among the {domain} experts.")
    others = [p for p in participants or [] if p != target]
    if not others:
        raise gr.Error("Pick at least one more role to talk with the target (a dialogue needs 2 roles or more).")
    size = int(group_size)
    if not 2 <= size <= len(others) + 1:
        raise gr.Error(f"Roles per dialogue must be between 2 and {len(others) + 1} with the roles picked.")
    if not frameworks:
        raise gr.Error("Pick at least one reasoning framework.")
    spec = (model_spec or "local").strip()
    ModelConfig.from_spec(spec)  # a bad spec is a clear error now, not at generation time
    session.model_spec = spec
    session.generation.update(
        roles_file=str(roles_file(session)), domain=domain, target_role=target, participants=others,
        group_sizes=[size], frameworks=list(frameworks), tools=list(tools or []),
    )
    missing = [t for t, key in (("tavily_search", "tavily"), ("google_search", "serper")) if t in (tools or []) and not session.has_secret(key)]
    note = f" — {', '.join(missing)} need a key (field below) or the environment variable" if missing else ""
    return status(f"Saved: {target} is tuned; {size} roles per dialogue from {', '.join([target] + others)}; "
                  f"frameworks {', '.join(frameworks)}; tools {', '.join(tools or []) or 'none'}; model {spec}{note}", "warn" if missing else "ok")


def set_keys(session: Session, tavily: str, serper: str, endpoint: str) -> tuple[str, str, str, str]:
    """Hold keys in session memory; the fields are cleared so a key is never sent back to the page."""
    for name, value in (("tavily", tavily), ("serper", serper), ("endpoint", endpoint)):
        if value and value.strip():
            session.set_secret(name, value)
    held = [n for n in ("tavily", "serper", "endpoint") if session.has_secret(n)]
    return "", "", "", status(f"Keys held in memory for this session: {', '.join(held) or 'none'} (never saved or shown)", "ok")


def clear_keys(session: Session) -> str:
    for name in ("tavily", "serper", "endpoint"):
        session.set_secret(name, "")
    return status("Keys cleared from this session.")


def load_role(session: Session, name: str) -> tuple[str, str, str, str, str, bool, list[str]]:
    if not name:
        return "", "", "seeker", "", "", False, []
    role = role_book(session).get(name)
    return role.name, role.domain, role.kind, role.persona, role.goals, role.sees_knowledge, list(role.tools)


def save_role(
    session: Session, name: str, domain: str, kind: str, persona: str, goals: str, sees_knowledge: bool, tools: list[str]
) -> tuple[str, gr.Dropdown, gr.Dropdown]:
    """Add or replace a role in the session's own copy of the role library (validated first)."""
    import yaml

    from mimir.generate.roles import roles_from_dict

    book = role_book(session)
    data = {
        "domains": dict(book.domains),
        "roles": [dataclasses.asdict(r) for r in book.roles.values() if r.name != (name or "").strip()],
    }
    data["roles"].append({"name": (name or "").strip(), "domain": (domain or "").strip(), "kind": kind, "persona": persona or "",
                          "goals": goals or "", "sees_knowledge": bool(sees_knowledge), "tools": list(tools or [])})
    roles_from_dict(data, where="role editor")  # names the bad field before anything is written
    path = session.path("roles.yaml")
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    session.generation["roles_file"] = str(path)
    book = role_book(session)
    return (status(f"Role {name.strip()!r} saved in this workspace's role library ({len(book.roles)} roles).", "ok"),
            gr.Dropdown(choices=list(book.roles)), gr.Dropdown(choices=list(book.domains), value=domain.strip()))


# -- layout --------------------------------------------------------------------------------------
def build(ctx: AppContext, state: gr.State) -> None:
    from mimir.generate.roles import load_roles

    book = load_roles(ASSETS / "roles.yaml")
    domains = list(book.domains)
    first = domains[0]
    experts = [r.name for r in book.in_domain(first) if r.kind == "expert"]

    with gr.Row():
        with gr.Column(scale=3):
            domain = gr.Dropdown(domains, value=first, label="Domain", elem_id="roles-domain")
            target = gr.Dropdown(experts, value=experts[0] if experts else None, label="Tuned role (the expert agent)")
            participants = gr.CheckboxGroup([(f"{r.name} ({r.kind})", r.name) for r in book.in_domain(first)],
                                            value=[r.name for r in book.in_domain(first)], label="Roles that may take part")
            group_size = gr.Slider(2, 6, value=field_default(GenerateConfig, "group_sizes")[0], step=1, label="Roles per dialogue")
            table = gr.Markdown(roles_table(book.in_domain(first)), elem_id="roles-table")
        with gr.Column(scale=2):
            frameworks = gr.CheckboxGroup(FRAMEWORKS, **ui_default(GenerateConfig, "frameworks"), label="Reasoning frameworks (cycled over dialogues)")
            tools = gr.CheckboxGroup(TOOLS, **ui_default(GenerateConfig, "tools"), label="Tools the expert may call")
            model = gr.Dropdown(MODEL_CHOICES, value=ctx.default_model, allow_custom_value=True, label="Model spec",
                                info="local = embedded SmolLM2-135M; endpoint:MODEL@URL for an OpenAI-compatible server")
            apply_btn = gr.Button("Use these choices", variant="primary", elem_id="roles-apply")
            applied = gr.Markdown()
            with gr.Accordion("Keys (held in memory for this session only)", open=False):
                tavily = gr.Textbox(label="Tavily API key", type="password", placeholder="tvly-…")
                serper = gr.Textbox(label="Serper API key (Google search)", type="password")
                endpoint = gr.Textbox(label="Endpoint / Inference Providers token", type="password")
                with gr.Row():
                    keys_btn = gr.Button("Set keys")
                    clear_btn = gr.Button("Clear keys")
                keys_status = gr.Markdown()
    with gr.Accordion("Edit or add a role", open=False):
        with gr.Row():
            pick = gr.Dropdown(list(book.roles), label="Start from role", allow_custom_value=False)
            r_name = gr.Textbox(label="Name")
            r_domain = gr.Textbox(label="Domain", value=first)
            r_kind = gr.Radio(["expert", "seeker", "peer"], value="seeker", label="Kind")
        r_persona = gr.Textbox(label="Persona", lines=2)
        r_goals = gr.Textbox(label="Goals", lines=2)
        with gr.Row():
            r_sees = gr.Checkbox(label="Sees retrieved knowledge")
            r_tools = gr.CheckboxGroup(TOOLS, label="Tools")
        save_btn = gr.Button("Save role")
        saved = gr.Markdown()

    domain.change(guard(domain_view), inputs=[state, domain], outputs=[participants, target, table])
    apply_btn.click(guard(apply_choices), inputs=[state, domain, target, participants, group_size, frameworks, tools, model],
                    outputs=applied)
    keys_btn.click(guard(set_keys), inputs=[state, tavily, serper, endpoint], outputs=[tavily, serper, endpoint, keys_status])
    clear_btn.click(guard(clear_keys), inputs=state, outputs=keys_status)
    pick.change(guard(load_role), inputs=[state, pick], outputs=[r_name, r_domain, r_kind, r_persona, r_goals, r_sees, r_tools])
    save_btn.click(guard(save_role), inputs=[state, r_name, r_domain, r_kind, r_persona, r_goals, r_sees, r_tools],
                   outputs=[saved, pick, domain])
