"""Dialogues -> training rows in the chat ``messages`` format that ``datasets`` and trl load as is.

The TARGET role's turns become ``assistant`` messages (the only ones a tuned model learns to
write); every other role becomes a ``user`` message with the speaker's ``name``; ReAct steps
become an assistant message with OpenAI ``tool_calls`` followed by ``tool`` messages. The system
message is the target's persona WITHOUT any knowledge: the model must learn the facts, closed book.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mimir.generate.agents import introduction, render
from mimir.facts.text import contains_fact, fact_strings
from mimir.generate.roles import RoleBook, load_roles
from mimir.resources import package_path
from mimir.types import Chunk, Dialogue

DEFAULT_ROLES = package_path("assets", "roles.yaml")


def training_system_prompt(role_name: str, roles: RoleBook | None = None) -> str:
    """The closed-book system prompt of the tuned role (also what to use when evaluating it)."""
    book = roles or load_roles(DEFAULT_ROLES)
    if role_name not in book.roles:  # a role written in the app or another roles file: its name is all we know
        return render("training_system", introduction=introduction(role_name, "") + " You know the documents by heart.")
    role = book.get(role_name)
    return render("training_system", introduction=introduction(role.name, role.persona))


def export_for_training(
    dialogues: list[Dialogue],
    include_reasoning: bool = False,
    *,
    include_tools: bool = True,
    roles: RoleBook | str | Path | None = None,
    system_prompt: str | None = None,
) -> list[dict[str, Any]]:
    """One row per usable dialogue: ``{"id", "messages", "metadata"}`` (failed dialogues are skipped).

    ``include_reasoning``: prepend the framework trace (CoT reasoning, ReAct thoughts, Reflexion
    draft + critique) to the assistant's text. ``include_tools=False`` drops tool-call steps and
    observations (closed-book training). ``system_prompt`` overrides the target persona prompt.
    """
    book = roles if isinstance(roles, RoleBook) else load_roles(roles or DEFAULT_ROLES)
    rows = []
    for dialogue in dialogues:
        if dialogue.status != "ok" or dialogue.scenario is None:
            continue
        target = dialogue.scenario.target_role
        system = system_prompt if system_prompt is not None else training_system_prompt(target, book)
        messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
        for turn in dialogue.turns:
            if turn.role == "tool":
                if include_tools:
                    messages.append({"role": "tool", "name": str(turn.meta.get("tool", "tool")),
                                     "tool_call_id": turn.tool_call_id, "content": turn.content})
                continue
            if turn.speaker != target:
                messages.append({"role": "user", "name": turn.speaker, "content": turn.content})
                continue
            if turn.tool_calls:
                if include_tools:
                    messages.append({
                        "role": "assistant", "name": target,
                        "content": turn.reasoning if include_reasoning else "",
                        "tool_calls": [{"id": c.id, "type": "function",
                                        "function": {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)}}
                                       for c in turn.tool_calls],
                    })
                continue
            text = turn.content
            if include_reasoning and turn.reasoning:
                text = render("reasoning_in_answer", reasoning=turn.reasoning, answer=turn.content)
            messages.append({"role": "assistant", "name": target, "content": text})
        while len(messages) > 1 and messages[-1]["role"] != "assistant":
            messages.pop()  # trailing questions or thanks teach the target nothing
        if len(messages) < 3 or not any(m["role"] == "assistant" and m["content"] for m in messages):
            continue
        s = dialogue.scenario
        rows.append({
            "id": dialogue.id,
            "messages": messages,
            "metadata": {
                "source": dialogue.source,
                "scenario_id": s.id,
                "topic": s.topic,
                "domain": str(dialogue.meta.get("domain", "")),
                "roles": list(s.roles),
                "target_role": target,
                "framework": s.framework,
                "chunk_ids": list(s.chunk_ids),
                "model": dialogue.model,
                "seed": dialogue.seed,
                "num_turns": sum(1 for t in dialogue.turns if t.role != "tool"),
                "seconds": float(dialogue.timings.get("seconds", 0.0)),
            },
        })
    return rows


def write_export(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Write rows as JSONL atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    return path


def fact_share(dialogues: list[Dialogue], chunks: list[Chunk] | dict[str, Chunk]) -> dict[str, float]:
    """Share of the target's answers that restate >= 1 fact string of the dialogue's source chunks."""
    by_id = chunks if isinstance(chunks, dict) else {c.id: c for c in chunks}
    answers = hits = focus_hits = 0
    for d in dialogues:
        if d.status != "ok" or d.scenario is None:
            continue
        facts = [f for cid in d.scenario.chunk_ids if cid in by_id for f in fact_strings(by_id[cid].text)]
        for turn in d.turns:
            if turn.speaker == d.scenario.target_role and turn.role == "assistant" and turn.content:
                answers += 1
                hits += bool(contains_fact(turn.content, facts))
                focus_hits += bool(contains_fact(turn.content, fact_strings(str(turn.meta.get("focus", "")))))
    return {"expert_turns": answers, "with_source_fact": hits / answers if answers else 0.0,
            "with_focus_fact": focus_hits / answers if answers else 0.0}
