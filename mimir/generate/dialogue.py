"""One dialogue as a coroutine: it yields chat requests and receives replies.

Roles speak in round-robin order or as a moderator step decides; the asker works through the
scenario's focus facts, the target expert answers with its framework, grounded in the focus
fact and the retrieved chunks (as data blocks); the dialogue ends on the stop signal or the
turn budget. The coroutine never calls the model itself: :mod:`mimir.generate.engine` batches
the requests of many dialogues into one model call.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Generator

from mimir.errors import DialogueFailed  # noqa: F401 (re-exported)
from mimir.generate.agents import Agent, clean_turn, display, fact_line, knowledge_text, render, window
from mimir.facts.text import fact_strings
from mimir.generate.frameworks import FRAMEWORKS, TurnContext
from mimir.generate.holdout import Holdout
from mimir.generate.roles import Role
from mimir.generate.peers import peer_turn
from mimir.generate.tooluse import RETRIEVER, lacks_answer, retrieve
from mimir.models.base import Reply
from mimir.models.structured import ChoiceRequest, prefill
from mimir.types import Chunk, Dialogue, Scenario, Turn

DialogueRun = Generator[list[dict[str, Any]], Reply, Dialogue]


@dataclass
class Setup:
    """Everything a dialogue needs besides the model."""

    roles: dict[str, Role]
    chunks: dict[str, Chunk]  # the scenario's source chunks
    search: Any  # callable(query, k) -> list[Chunk] (retrieval for grounding), or None
    tools: dict[str, Any]  # all tools built for this run (name -> smolagents Tool)
    retrieval_k: int = 1
    react_max_steps: int = 3
    stop_token: str = "<END>"
    holdout: Holdout = field(default_factory=Holdout)
    question_style: str = "model"  # model | template
    closing_turn: bool = False
    passage_window: int = 1


def run_dialogue(dialogue_id: str, scenario: Scenario, setup: Setup) -> DialogueRun:
    started = time.perf_counter()
    names = scenario.roles
    agents = {n: Agent(role=setup.roles[n], others=[o for o in names if o != n]) for n in names}
    target, asker = scenario.target_role, names[0]
    source = [setup.chunks[c] for c in scenario.chunk_ids]
    turns: list[Turn] = []
    meta: dict[str, Any] = {"prompt_tokens": 0, "completion_tokens": 0, "model_calls": 0}
    asked = 0  # focus facts the asker has asked about so far
    last: str | None = None

    def spoken() -> int:  # tool steps (the call and its observation) do not count against the budget
        return sum(1 for t in turns if t.role != "tool" and not t.tool_calls)

    steps = 0
    muted: set[str] = set()  # peers whose turn was just dropped: asked again only after someone adds a turn
    while spoken() < scenario.max_turns and steps < 2 * scenario.max_turns:
        steps += 1  # dropped echo turns use a step but no turn
        speaker = yield from _next_speaker(scenario, agents, turns, last, meta, muted)
        if speaker is None:
            meta["ended_by"] = "moderator: conversation complete"
            break
        role = setup.roles[speaker]
        focus_index = max(0, asked - 1)
        if speaker == target:
            answering = asker_of(turns, asker)
            new = yield from _expert(dialogue_id, scenario, agents[speaker], answering, source, setup,
                                     focus_index if answering == asker else None, meta)
        elif speaker == asker:
            new, asked = yield from _seeker(scenario, agents[speaker], target, asked, setup, meta)
        else:
            knowledge = knowledge_text("", source) if role.sees_knowledge else ""
            earlier = [t.content for t in turns if t.role != "tool" and t.content]
            peer = yield from peer_turn(agents[speaker], target, knowledge, earlier, names, setup.stop_token, meta)
            if peer is None:  # it only echoed what was said: dropped (counted), the floor moves on
                last = speaker
                muted.add(speaker)  # greedy decoding would echo again on the same context
                continue
            new = [peer]
        stop = False
        for turn in new:
            if turn.role != "tool" and not turn.tool_calls:
                turn.content, seen = clean_turn(turn.content, speaker, names, setup.stop_token)
                stop = stop or seen or bool(turn.meta.pop("stop", False))
        final = new[-1]
        if not final.content:
            if speaker == target:
                raise DialogueFailed(f"the {speaker} produced an empty answer at turn {spoken() + 1}")
            hints = scenario.focus_hints or scenario.focus or [scenario.topic]
            key = "seeker_fallback" if speaker == asker else "peer_fallback"
            final.content = render(key, cloze=hints[min(max(0, asked - 1), len(hints) - 1)])
            meta["fallback_turns"] = meta.get("fallback_turns", 0) + 1
        if speaker != target and (copied := setup.holdout.match(final.content)):
            raise DialogueFailed(f"turn {spoken() + 1} copies a held-out evaluation question: {copied!r}")
        turns.extend(new)
        muted.clear()
        for agent in agents.values():
            agent.observe(speaker, final.content)
        last = speaker
        if stop and any(t.speaker == target for t in turns):
            meta["ended_by"] = f"stop signal from {speaker}"
            break
        agenda = len(scenario.focus_hints or scenario.focus)
        if speaker == target and agenda and asked >= agenda and not setup.closing_turn:
            meta["ended_by"] = "all questions answered"
            break
    else:
        meta["ended_by"] = "turn budget"
    if "ended_by" not in meta:
        meta["ended_by"] = "turn budget"
    if not any(t.speaker == target and t.role == "assistant" and t.content for t in turns):
        raise DialogueFailed(f"the target role {target!r} never answered within {scenario.max_turns} turns")
    meta["domain"] = setup.roles[target].domain
    return Dialogue(id=dialogue_id, scenario=scenario, turns=turns, timings={"seconds": time.perf_counter() - started}, meta=meta)


def asker_of(turns: list[Turn], default: str) -> str:
    """Who the expert answers: the latest non-tool speaker who is not the expert."""
    for turn in reversed(turns):
        if turn.role == "user":
            return turn.speaker
    return default


def _tally(meta: dict[str, Any], reply: Reply) -> None:
    meta["prompt_tokens"] += reply.prompt_tokens
    meta["completion_tokens"] += reply.completion_tokens
    meta["model_calls"] += 1


def _next_speaker(scenario: Scenario, agents: dict[str, Agent], turns: list[Turn], last: str | None,
                  meta: dict[str, Any], muted: set[str] = frozenset()) -> Generator[Any, Any, str | None]:  # type: ignore[assignment]
    """Who speaks next; None when the moderator ends the conversation. The moderator's step is a
    closed choice among the allowed speakers (and, once the expert has answered, "nobody")."""
    names = scenario.roles
    if last is None:
        return names[0]
    order = names[names.index(last) + 1 :] + names[: names.index(last) + 1]
    round_robin = next((n for n in order if n not in muted), names[0])
    spoken = [t for t in turns if t.role != "tool"]
    if spoken and spoken[-1].meta.get("move") == "question" and scenario.target_role in names:
        return scenario.target_role  # a peer's follow-up question is for the expert (any speaker selection)
    if scenario.speaker_selection != "moderator" or len(names) <= 2:
        return round_robin
    if last == names[0] and scenario.target_role in names:
        return scenario.target_role  # the asker's question is for the expert: no need to ask the moderator
    candidates = [n for n in names if n != last and n not in muted]
    if len(candidates) == 1:
        return candidates[0]
    transcript = "\n".join(f"{display(t.speaker)}: {t.content}" for t in turns[-6:] if t.role != "tool")
    roster = "; ".join(f"{display(n)} ({agents[n].role.persona})" for n in names)
    options = {" " + display(c): c for c in candidates}
    if any(t.speaker == scenario.target_role for t in spoken):
        options[" " + render("moderator_stop_option")] = None
    request = [
        {"role": "system", "content": render("moderator_system", roster=roster)},
        {"role": "user", "content": render("moderator_cue", transcript=transcript, candidates=", ".join(display(c) for c in candidates))},
        prefill(render("moderator_opening")),
    ]
    choice = yield ChoiceRequest(request, list(options))
    _tally(meta, choice)
    meta["moderator_steps"] = meta.get("moderator_steps", 0) + 1
    if not choice.ok or choice.option not in options:
        meta["moderator_fallbacks"] = meta.get("moderator_fallbacks", 0) + 1
        return round_robin
    picked = options[choice.option]
    meta["moderator_valid"] = meta.get("moderator_valid", 0) + 1
    meta.setdefault("moderator_choices", []).append({"turn": len(spoken), "speaker": picked or "(end)", "method": choice.method})
    return picked


def pick_name(text: str, candidates: list[str]) -> str | None:
    """The candidate named first in ``text`` (underscores may be written as spaces)."""
    best: tuple[int, str] | None = None
    for name in candidates:
        for form in {name, display(name)}:
            match = re.search(rf"\b{re.escape(form)}\b", text, flags=re.I)
            if match and (best is None or match.start() < best[0]):
                best = (match.start(), name)
    return best[1] if best else None


def _seeker(scenario: Scenario, agent: Agent, expert: str, asked: int, setup: Setup, meta: dict[str, Any]):
    hints = scenario.focus_hints or scenario.focus
    if asked == 0 and scenario.seed_question:
        return [Turn(speaker=agent.name, role="user", content=scenario.seed_question, meta={"seed": True})], 1
    if asked < len(hints):
        question = hints[asked]
        turn_meta: dict[str, Any] = {"focus": asked, "question_source": "template"}
        if setup.question_style == "model":
            key = "seeker_first_cue" if asked == 0 else "seeker_next_cue"
            reply = yield agent.request(render(key, name=display(agent.name), expert=display(expert), question=question))
            _tally(meta, reply)
            worded = acceptable_question(reply.text, question, scenario.focus[asked] if asked < len(scenario.focus) else "")
            if worded and setup.holdout.match(worded):
                worded, turn_meta["rejected_holdout_copy"] = None, True
            if worded:
                question, turn_meta["question_source"] = worded, "model"
            else:
                meta["template_questions"] = meta.get("template_questions", 0) + 1
        return [Turn(speaker=agent.name, role="user", content=question, meta=turn_meta)], asked + 1
    reply = yield agent.request(render("seeker_done_cue", stop=setup.stop_token))
    _tally(meta, reply)
    return [Turn(speaker=agent.name, role="user", content=reply.text)], asked


_STOPWORDS = set("a an the is are was were be of to in on at for by with and or what which who when how many much "
                 "does do did can could would you your i me my it its this that there from about please tell".split())


def acceptable_question(text: str, template: str, focus: str) -> str | None:
    """The model's wording of ``template`` if it is a short question on the same topic that does not
    give the answer away; otherwise None (the caller then asks the rule-built question)."""
    first = text.strip().split("\n")[0].strip().strip('"')
    end = first.find("?")
    if end < 0:
        return None
    question = first[: end + 1].strip()
    words = re.findall(r"[a-z0-9']+", question.lower())
    if not 3 <= len(words) <= 35:
        return None
    wanted = {w for w in re.findall(r"[a-z0-9']+", template.lower()) if w not in _STOPWORDS}
    if wanted and len(wanted & set(words)) < max(1, len(wanted) // 2):
        return None
    answers = [f for f in fact_strings(focus) if f.lower() not in template.lower()]
    if any(f.lower() in question.lower() for f in answers):
        return None  # the asker would be stating the answer
    return question


def _expert(dialogue_id: str, scenario: Scenario, agent: Agent, asker: str, source: list[Chunk], setup: Setup,
            focus_index: int | None, meta: dict[str, Any]):
    """The expert's answer. With the knowledge retriever allowed, the expert holds no standing data:
    when its context lacks the answer it looks it up (any framework; ReAct chooses the call itself)
    and answers from the observation. Otherwise it answers from the scenario's passages."""
    question = agent.memory[-1]["content"] if agent.memory else scenario.topic
    # focus_index None: the expert answers a peer's question, which no planned fact covers
    focus = scenario.focus[focus_index] if scenario.focus and focus_index is not None else ""
    tools = {n: setup.tools[n] for n in scenario.tools if n in setup.tools}
    retrieving = RETRIEVER in tools
    chunks: list[Chunk] = []
    if not retrieving:
        # One window over all of the dialogue's focus facts, the same every turn: the expert's prompt
        # then grows turn by turn and the local backend reuses its prefix. This turn's fact is in the cue.
        chunks = [window(c, scenario.focus, setup.passage_window) for c in source]
        if setup.search is not None and setup.retrieval_k > 0:
            # retrieved once for the dialogue's whole agenda (the same query every turn), so the
            # expert's reference data, its system prompt, is fixed and its prompts only grow.
            agenda = " ".join(scenario.focus_hints or scenario.focus) or question
            for chunk in setup.search(agenda, setup.retrieval_k + len(source)):
                if chunk.id not in {c.id for c in chunks} and len(chunks) < len(source) + setup.retrieval_k:
                    chunks.append(chunk)
    ctx = TurnContext(
        agent=agent,
        asker=asker,
        knowledge=knowledge_text("", chunks),
        tools=tools,
        max_steps=setup.react_max_steps,
        call_prefix=f"{dialogue_id}:{len(agent.memory)}",
        fact_line=fact_line(focus) if not retrieving else "",
        focus=focus,
        question=question,
    )
    lacking = retrieving and lacks_answer(focus, question, ctx.knowledge + "\n" + "\n".join(str(m.get("content") or "") for m in agent.memory[:-1]))
    if retrieving and not lacking:  # an earlier observation holds it: no call, grounded in that observation
        ctx.observations = [str(m.get("content") or "") for m in agent.memory if m.get("role") == "tool"]  # noqa: E501
        from mimir.generate.tooluse import ground_in_observations

        ground_in_observations(ctx)
    if lacking:
        meta["turns_lacking_answer"] = meta.get("turns_lacking_answer", 0) + 1
        if scenario.framework != "react":
            yield from _drive(retrieve(ctx), meta)
    new: list[Turn] = yield from _drive(FRAMEWORKS[scenario.framework](ctx), meta)
    if scenario.framework != "react":
        new = [*ctx.tool_turns, *new]
    if lacking and any(c.name == RETRIEVER for t in new for c in t.tool_calls):
        meta["lacking_turns_retrieved"] = meta.get("lacking_turns_retrieved", 0) + 1
    if retrieving and focus and ctx.observations and ctx.grounded_in != focus:
        meta["retrieval_missed"] = meta.get("retrieval_missed", 0) + 1  # the answer rests on another sentence
    for key, value in ctx.meta.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            meta[key] = meta.get(key, 0) + value
        elif key == "dropped_reasons":
            meta.setdefault(key, []).extend(value)
        else:
            meta[key] = value
    agent.memory.extend(dict(m) for m in ctx.extra)  # the expert remembers its lookups: later answers can rest on them
    observed = [cid for o in ctx.observations for cid, _ in _blocks(o)]
    new[-1].meta.update({"chunk_ids": [c.id for c in chunks] + [c for c in observed if c not in {x.id for x in chunks}],
                         "focus": focus})
    if ctx.grounded_in:
        new[-1].meta["grounded_in"] = ctx.grounded_in
    return new


def _drive(gen, meta: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Run a framework or tool step generator, passing its requests up and tallying the replies."""
    try:
        request = next(gen)
        while True:
            reply = yield request
            _tally(meta, reply)
            request = gen.send(reply)
    except StopIteration as done:
        return done.value


def _blocks(observation: str) -> list[tuple[str, str]]:
    from mimir.tools.retriever import parse_chunk_blocks

    return parse_chunk_blocks(observation)
