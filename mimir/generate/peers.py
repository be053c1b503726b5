"""A peer's turn: in its own persona it adds something — a follow-up question, a detail of its own
situation, a constraint — never an echo.

The kind of contribution is a closed choice (scored by the model); the message then opens with
that kind's words (prefilled) and the model continues it. A message that repeats an earlier turn
(see :mod:`mimir.generate.echo`) is asked again once, with the next-best kind and a reminder;
if it is still an echo it is dropped. Both are counted in the dialogue's meta
(``echo_reasks``, ``echo_dropped``).
"""

from __future__ import annotations

from typing import Any, Generator

from mimir.generate.agents import Agent, clean_turn, display, render
from mimir.generate.echo import is_echo
from mimir.models.structured import ChoiceRequest, continuation, prefill
from mimir.prompts import load_prompts
from mimir.types import Turn


def peer_turn(agent: Agent, expert: str, knowledge: str, earlier: list[str], roles: list[str], stop_token: str,
              meta: dict[str, Any]) -> Generator[Any, Any, Turn | None]:
    """The peer's turn, or None when both tries only echoed what was said."""
    moves: dict[str, dict[str, str]] = load_prompts()["peer_moves"]
    name = display(agent.name)
    fields = dict(name=name, expert=display(expert), persona=agent.role.persona)
    ask = agent.request(render("peer_move_cue", **fields), knowledge) + [prefill(render("peer_move_opening", **fields))]
    options = {" " + spec["option"]: key for key, spec in moves.items()}
    choice = yield ChoiceRequest(ask, list(options))
    meta["peer_moves"] = meta.get("peer_moves", 0) + 1
    if choice.ok:
        ranked = sorted(options, key=lambda o: -choice.scores.get(o, 0.0)) if choice.scores else list(options)
        ranked.remove(choice.option)
        ranked.insert(0, choice.option)
    else:
        meta["peer_move_fallbacks"] = meta.get("peer_move_fallbacks", 0) + 1
        ranked = list(options)
    for attempt, option in enumerate(ranked[:2]):
        move = moves[options[option]]
        cue = render("peer_cue", move=move["cue"].format(**fields), **fields)
        if attempt:
            cue += "\n" + render("peer_no_repeat", **fields)
        messages = agent.request(cue, knowledge) + [prefill(move["opening"])]
        reply = yield messages
        meta["model_calls"] = meta.get("model_calls", 0) + 1
        meta["prompt_tokens"] = meta.get("prompt_tokens", 0) + reply.prompt_tokens
        meta["completion_tokens"] = meta.get("completion_tokens", 0) + reply.completion_tokens
        text = (move["opening"] + " " + continuation(messages, reply.text).strip()).strip()
        text, stopped = clean_turn(_first_sentences(text), agent.name, roles, stop_token)
        if not is_echo(text, earlier):
            return Turn(speaker=agent.name, role="user", content=text, meta={"move": options[option], "stop": stopped})
        if attempt == 0:
            meta["echo_reasks"] = meta.get("echo_reasks", 0) + 1
    meta["echo_dropped"] = meta.get("echo_dropped", 0) + 1
    return None


def _first_sentences(text: str, n: int = 2) -> str:
    """At most ``n`` sentences: a peer adds one thing, it does not take over the conversation."""
    from mimir.facts.text import sentences

    parts = sentences(text.replace("\n", " "))
    return " ".join(parts[:n]) if parts else text
