"""Per-role agents: each has its own system prompt and its own memory of the conversation.

An agent's memory is the dialogue as that role saw it: its own turns as ``assistant``, everyone
else's as ``user`` messages carrying the speaker's ``name``. Per-turn cues and retrieved data
go into the request only, never into memory, so they do not pile up turn after turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from mimir.generate.roles import Role
from mimir.prompts import load_prompts
from mimir.generate.safety import data_block
from mimir.types import Chunk

Message = dict[str, Any]


def render(key: str, prompts: dict[str, str] | None = None, **fields: Any) -> str:
    prompts = prompts or load_prompts()
    return prompts[key].format(**fields)


def inline(persona: str) -> str:
    """'A physician ...' -> 'a physician ...' so it reads inside a sentence."""
    if persona[:1].isupper() and not persona[1:2].isupper() and persona.split(" ", 1)[0] in {"A", "An", "The"}:
        return persona[0].lower() + persona[1:]
    return persona


def introduction(name: str, persona: str) -> str:
    """Who the role is, as the opening sentence of its system prompt: 'You are a physician at the
    clinic ...' for a persona that starts with an article (not 'You are doctor, a physician ...');
    'You are the accountant. Knows the tax code.' for one that does not."""
    persona = " ".join(persona.split())
    if persona.split(" ", 1)[0].lower() in {"a", "an", "the"}:
        return f"You are {inline(persona)}"
    return f"You are the {display(name)}." + (f" {persona}" if persona else "")


def display(name: str) -> str:
    """'new_staff_member' -> 'new staff member' (how roles are named inside prompts)."""
    return name.replace("_", " ")


@dataclass
class Agent:
    role: Role
    others: list[str]
    memory: list[Message] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.role.name

    def system_prompt(self) -> str:
        return render(
            "role_system",
            introduction=introduction(self.role.name, self.role.persona),
            goals=self.role.goals or "help the conversation move forward",
            others=", ".join(display(o) for o in self.others),
        )

    def observe(self, speaker: str, content: str) -> None:
        """Remember a spoken turn from this agent's point of view."""
        if speaker == self.name:
            self.memory.append({"role": "assistant", "content": content})
        else:
            self.memory.append({"role": "user", "name": speaker, "content": content})

    def request(self, cue: str, knowledge: str = "", extra: list[Message] | None = None) -> list[Message]:
        """System prompt (+ data) + memory + this step's messages, with ``cue`` closing the last user message."""
        system = self.system_prompt()
        if knowledge:
            system += "\n\n" + render("knowledge_intro") + "\n" + knowledge
        messages = [{"role": "system", "content": system}, *[dict(m) for m in self.memory], *[dict(m) for m in (extra or [])]]
        if messages[-1]["role"] == "user":
            messages[-1]["content"] = f"{messages[-1]['content']}\n\n{cue}"
        else:
            messages.append({"role": "user", "content": cue})
        return messages


def knowledge_text(focus: str, chunks: list[Chunk], max_chars: int = 900) -> str:
    """The data an expert sees for one answer: the source chunks, then the key fact last.

    Small models copy from the data nearest to where they write, so the focus fact goes last.
    """
    template = load_prompts()["data_block"]
    blocks = []
    for chunk in chunks:
        if chunk.text.strip() == focus.strip():
            continue  # the key fact block below already shows it
        text = chunk.text if len(chunk.text) <= max_chars else chunk.text[:max_chars] + " …"
        label = f"chunk id={chunk.id} source={chunk.source}" + (f" heading={chunk.heading}" if chunk.heading else "")
        blocks.append(data_block(text, label, template))
    if focus:
        blocks.append(data_block(focus, "key fact", template))
    return "\n".join(blocks)


def window(chunk: Chunk, focus: str | list[str], size: int) -> Chunk:
    """``chunk`` cut to the ``size`` sentences either side of the ``focus`` sentence(s) (size 0: unchanged)."""
    from mimir.facts.text import sentences

    wanted = [focus] if isinstance(focus, str) else list(focus)
    if size <= 0 or not any(wanted):
        return chunk
    parts = sentences(chunk.text)
    found = [i for i, part in enumerate(parts) if part in wanted]
    if not found:
        return chunk
    return replace(chunk, text=" ".join(parts[max(0, min(found) - size) : max(found) + size + 1]))


def fact_line(focus: str) -> str:
    from mimir.generate.safety import neutralise

    return render("fact_line", fact=neutralise(focus).replace('"', "'")) if focus else ""


def clean_turn(text: str, speaker: str, roles: list[str], stop_token: str) -> tuple[str, bool]:
    """(text, stop signal seen): drop a leading 'Name:' and any lines where the model spoke for others."""
    stopped = bool(stop_token) and stop_token in text
    if stop_token:
        text = text.replace(stop_token, " ")
    names = "|".join(re.escape(display(r)) + "|" + re.escape(r) for r in roles)
    text = re.sub(rf"^\s*\**({names})\**\s*:\s*", "", text.strip(), flags=re.I)
    other = [r for r in roles if r != speaker]
    if other:
        others = "|".join(re.escape(display(r)) + "|" + re.escape(r) for r in other)
        match = re.search(rf"(^|\n)\s*\**({others})\**\s*:", text, flags=re.I)
        if match:
            text = text[: match.start()]
    # small models like to announce what they copy: "The data is: \"...\""
    text = re.sub(r"^\s*(the (reference |key )?(data|fact) (is|says)|according to the (reference )?data)\s*[:,]?\s*", "", text, flags=re.I)
    text = re.sub(r"[ \t]+", " ", text).strip().strip('"').strip()
    return text, stopped
