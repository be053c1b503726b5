"""How the target expert composes one answer: none, CoT, ReAct or Reflexion — as constrained steps.

Each framework is a generator: it yields chat requests (lists of messages, or a
:class:`~mimir.models.structured.ChoiceRequest` for a closed choice) and receives the model's
:class:`Reply` (or :class:`Choice`), so the engine can batch the steps of many dialogues. Every
field is opened by us (a prefilled "Reasoning:", "Thought:", "Final Answer:" ...), so a small
model cannot skip or misspell it; the ReAct action is a closed choice among the allowed tools and
``final_answer``, its argument a prefilled JSON field. The turns returned are the tool calls and
observations (see :mod:`mimir.generate.tooluse`), then the answer; the trace goes to ``Turn.reasoning``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Generator

from mimir.generate.agents import Agent, display, render
from mimir.generate.echo import is_echo
from mimir.generate.safety import looks_like_injection
from mimir.generate.tooluse import RETRIEVER, context_text, ground_in_observations, lacks_answer, run_call, write_query
from mimir.models.structured import ChoiceRequest, continuation, prefill
from mimir.tools.guard import ToolCallRefused
from mimir.types import Turn

Step = Generator[Any, Any, list[Turn]]
FINAL = "final_answer"
_ANSWER_LABEL = re.compile(r"(?:^|\n)\s*\**Answer\**\s*:\s*", re.I)


@dataclass
class TurnContext:
    """What one expert answer can use."""

    agent: Agent
    asker: str
    knowledge: str  # delimited data blocks shown in the system prompt ('' for a retrieving expert)
    tools: dict[str, Any]  # name -> smolagents Tool, only those the scenario allows
    max_steps: int
    call_prefix: str  # makes tool-call ids unique and deterministic
    fact_line: str = ""  # the key fact, quoted as data, closing every cue
    focus: str = ""  # the planned fact this answer should state ('' for a question nobody planned)
    question: str = ""  # what the expert is answering
    tainted: bool = False  # untrusted instructions seen: tool calls are off for this turn
    extra: list[dict[str, Any]] = field(default_factory=list)  # this turn's tool calls and observations
    tool_turns: list[Turn] = field(default_factory=list)
    observations: list[str] = field(default_factory=list)
    grounded_in: str = ""  # the observation sentence the answer rests on
    meta: dict[str, Any] = field(default_factory=dict)

    def request(self, cue: str) -> list[dict[str, Any]]:
        """The agent's request for this step: its data in the system prompt, tool steps, ``cue`` last."""
        return self.agent.request(cue, self.knowledge, self.extra)

    def count(self, key: str, n: float = 1) -> None:
        self.meta[key] = self.meta.get(key, 0) + n


def strip_label(text: str, label: str) -> str:
    return re.sub(rf"^\s*\**{label}\**\s*:\s*", "", text.strip(), flags=re.I).strip()


def _line(text: str) -> str:
    """The first line of a field's value (a small model runs on into the next field)."""
    return re.split(r"\n|\b(?:Action|Final Answer|Observation)\s*:", text.strip(), maxsplit=1)[0].strip()


def _field(ctx: TurnContext, cue: str, opening: str) -> Generator[list[dict[str, Any]], Any, str]:
    """One free-text field whose label we write: the model continues ``opening``."""
    messages = ctx.request(cue) + ([prefill(opening)] if opening else [])
    reply = yield messages
    return continuation(messages, reply.text).strip()


def _names(ctx: TurnContext) -> tuple[str, str]:
    return display(ctx.agent.name), display(ctx.asker)


def answer_plain(ctx: TurnContext) -> Step:
    name, asker = _names(ctx)
    reply = yield ctx.request(render("expert_cue", name=name, asker=asker, fact_line=ctx.fact_line))
    return [Turn(speaker=ctx.agent.name, role="assistant", content=reply.text)]


def answer_cot(ctx: TurnContext) -> Step:
    """"Reasoning:" then "Answer:", both labels ours: one call when the model writes the answer label
    itself, a second (prefilled with its reasoning) when it does not."""
    name, asker = _names(ctx)
    cue = render("cot_cue", name=name, asker=asker, fact_line=ctx.fact_line)
    text = yield from _field(ctx, cue, "Reasoning:")
    parts = _ANSWER_LABEL.split(text, maxsplit=1)
    reasoning = parts[0].strip()
    answer = parts[1].strip() if len(parts) > 1 else ""
    if not answer:
        ctx.count("cot_answer_prefilled")
        answer = yield from _field(ctx, cue, f"Reasoning: {reasoning}\nAnswer:")
    ctx.count("cot_fields", 2)
    ctx.count("cot_fields_parsed", bool(reasoning) + bool(answer))
    return [Turn(speaker=ctx.agent.name, role="assistant", content=answer, reasoning=reasoning)]


def answer_reflexion(ctx: TurnContext) -> Step:
    """Draft, critique (its own field, not the draft again), revision."""
    name, asker = _names(ctx)
    draft = (yield from _field(ctx, render("expert_cue", name=name, asker=asker, fact_line=ctx.fact_line), "")) or ""
    critique = yield from _critique(ctx, asker, draft)
    revise = render("reflexion_revise", asker=asker, draft=draft, critique=critique, fact_line=ctx.fact_line)
    revised = yield from _field(ctx, revise, render("reflexion_revise_opening"))
    ctx.count("reflexion_fields", 3)
    ctx.count("reflexion_fields_parsed", bool(draft) + bool(critique) + bool(revised))
    if not revised:
        ctx.count("reflexion_empty_revision")
        revised = draft
    trace = f"Draft: {draft}\nCritique: {critique}"
    return [Turn(speaker=ctx.agent.name, role="assistant", content=revised, reasoning=trace, meta={"draft": draft, "critique": critique})]


CRITIQUE_VERDICTS = ("complete", "incomplete")


def _critique(ctx: TurnContext, asker: str, draft: str) -> Generator[Any, Any, str]:
    """The critique in the model's own words, asked twice; when both only say the draft again, a
    closed verdict on the draft (complete / incomplete, scored like a judge's) with the planned fact
    named — a critique that is always a critique, never the draft a third time."""
    for cue, opening_key in (("reflexion_critique", "reflexion_critique_opening"),
                             ("reflexion_critique_again", "reflexion_critique_again_opening")):
        opening = render(opening_key)
        written = yield from _field(ctx, render(cue, asker=asker, draft=draft, fact_line=ctx.fact_line), opening)
        if written and not is_echo(written, [draft]):
            return f"{opening} {written}".strip()  # the critique reads as a sentence
        ctx.count("reflexion_critique_echo")
    cue = render("reflexion_verdict", asker=asker, draft=draft, fact_line=ctx.fact_line)
    choice = yield ChoiceRequest(ctx.request(cue) + [prefill(render("reflexion_verdict_opening"))],
                                 [" " + v for v in CRITIQUE_VERDICTS])
    if not choice.ok:
        return ""
    ctx.count("reflexion_critique_verdict")
    fact = f": {ctx.focus}" if ctx.focus else ""
    if choice.option.strip() == "complete":
        return f"The draft is complete: it states the fact from the reference data{fact}."
    return f"The draft is incomplete: it leaves out the fact from the reference data{fact}."


def answer_react(ctx: TurnContext) -> Step:
    """Thought -> action (a closed choice: an allowed tool or final_answer) -> typed argument ->
    real observation, until the final answer. While the context lacks the answer and nothing was
    looked up yet, final_answer is not among the allowed actions; once an observation holds it, only
    final_answer is."""
    name, asker = _names(ctx)
    tool_list = "\n".join(f"- {t.name}: {t.description}" for t in ctx.tools.values()) or "- (none)"
    if looks_like_injection(ctx.knowledge):
        ctx.tainted = True
        ctx.meta["injection_suspected"] = True
    thoughts: list[str] = []
    for step in range(ctx.max_steps + 1):
        can_act = bool(ctx.tools) and not ctx.tainted and step < ctx.max_steps
        must_look = can_act and not ctx.observations and RETRIEVER in ctx.tools and lacks_answer(ctx.focus, ctx.question, context_text(ctx))
        # after untrusted instructions the tools stay among the options: picking one is the sign
        # of a model that obeys data, and the dialogue is rejected (the call is never executed)
        # once a lookup has brought the answer in, another lookup adds nothing: only the final answer
        # is left (unless the data was tainted: then the choice stays open, as above)
        found = bool(ctx.observations) and not lacks_answer(ctx.focus, ctx.question, context_text(ctx))
        offered = bool(ctx.tools) and step < ctx.max_steps and (not found or ctx.tainted)
        actions = (list(ctx.tools) if offered else []) + ([] if must_look else [FINAL])
        if ctx.observations:
            ground_in_observations(ctx)
        cue = (render("react_cue", name=name, asker=asker, tool_list=tool_list, fact_line=ctx.fact_line) if can_act
               else render("react_no_tools_cue", fact_line=ctx.fact_line))
        # the thought opens with our words, so it is a thought about this question, not the format line
        lead = render("react_thought_after" if ctx.observations else "react_thought_first")
        written = _line((yield from _field(ctx, cue, f"Thought: {lead}")))
        thought = f"{lead} {written}".strip() if written else ""
        if thought:
            thoughts.append(thought)
        opening = f"Thought: {thought}\nAction:"
        ctx.count("react_steps")
        if len(actions) == 1:
            action, valid = actions[0], True
        else:
            choice = yield ChoiceRequest(ctx.request(cue) + [prefill(opening)], [" " + a for a in actions])
            valid = choice.ok
            action = choice.option.strip() if choice.ok else FINAL
            ctx.count("react_choices")
        if action != FINAL and ctx.tainted:
            raise ToolCallRefused(f"the expert called {action!r} after instructions were found in its data "
                                  "(possible prompt injection); the dialogue is rejected")
        if action == FINAL:
            answer = yield from _field(ctx, cue, f"Thought: {thought}\nFinal Answer:")
            ctx.count("react_steps_parsed", int(valid and bool(thought) and bool(answer)))
            return [*ctx.tool_turns, Turn(speaker=ctx.agent.name, role="assistant", content=answer, reasoning="\n".join(thoughts))]
        fallbacks = ctx.meta.get("tool_query_fallbacks", 0)
        query = yield from write_query(ctx, action, thought)
        asked = [c.arguments.get("query") for t in ctx.tool_turns for c in t.tool_calls if c.name == action]
        if query in asked:  # the same lookup again would return the same observation: ask the question itself
            ctx.count("tool_query_repeats")
            query = ctx.question.strip()[:200] if ctx.question.strip()[:200] not in asked else query
        ctx.count("react_steps_parsed", int(valid and bool(thought) and ctx.meta.get("tool_query_fallbacks", 0) == fallbacks))
        run_call(ctx, action, {"query": query}, thought, step)
    raise AssertionError("unreachable: the last step always answers")


FRAMEWORKS = {"none": answer_plain, "cot": answer_cot, "react": answer_react, "reflexion": answer_reflexion}
