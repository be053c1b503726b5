"""How the target expert composes one answer: none, CoT, ReAct or Reflexion.

Each framework is a generator: it yields chat requests (lists of messages) and receives the
model's :class:`Reply`, so the engine can batch the steps of many dialogues into one model
call. It returns the turns it produced: for ReAct the tool calls and observations, then the
answer; the framework trace (reasoning, thoughts, draft and critique) goes to ``Turn.reasoning``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Generator

from mimir.generate.agents import Agent, display, render
from mimir.generate.safety import looks_like_injection
from mimir.models.base import Reply
from mimir.models.toolcalls import parse_tool_calls
from mimir.secrets import redact
from mimir.tools.guard import ToolCallRefused, asking
from mimir.types import ToolCall, Turn, stable_id

Step = Generator[list[dict[str, Any]], Reply, list[Turn]]

_ACTION = re.compile(r"Action\s*:\s*([A-Za-z_][\w]*)\s*[\[(]\s*(?:query\s*=\s*)?[\"']?(.*?)[\"']?\s*[\])]", re.S)
_FINAL = re.compile(r"Final Answer\s*:\s*(.*)", re.S | re.I)
_ANSWER = re.compile(r"(?:^|\n)\s*\**Answer\**\s*:\s*(.*)", re.S | re.I)


@dataclass
class TurnContext:
    """What one expert answer can use."""

    agent: Agent
    asker: str
    knowledge: str  # delimited data blocks shown in the system prompt
    tools: dict[str, Any]  # name -> smolagents Tool, only those the scenario allows
    max_steps: int
    call_prefix: str  # makes tool-call ids unique and deterministic
    fact_line: str = ""  # the focus fact, quoted as data, closing every cue
    tainted: bool = False  # untrusted instructions seen: tool calls are off for this turn
    meta: dict[str, Any] = field(default_factory=dict)

    def request(self, cue: str, extra: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """The agent's request for this step: its reference data in the system prompt, ``cue`` last."""
        return self.agent.request(cue, self.knowledge, extra)

    def count(self, key: str, n: float = 1) -> None:
        self.meta[key] = self.meta.get(key, 0) + n


def strip_label(text: str, label: str) -> str:
    return re.sub(rf"^\s*\**{label}\**\s*:\s*", "", text.strip(), flags=re.I).strip()


def answer_plain(ctx: TurnContext) -> Step:
    reply = yield ctx.request(render("expert_cue", name=display(ctx.agent.name), asker=display(ctx.asker), fact_line=ctx.fact_line))
    return [Turn(speaker=ctx.agent.name, role="assistant", content=reply.text)]


def answer_cot(ctx: TurnContext) -> Step:
    reply = yield ctx.request(render("cot_cue", name=display(ctx.agent.name), asker=display(ctx.asker), fact_line=ctx.fact_line))
    match = _ANSWER.search(reply.text)
    if match and match.group(1).strip():
        reasoning = strip_label(reply.text[: match.start()], "Reasoning")
        return [Turn(speaker=ctx.agent.name, role="assistant", content=match.group(1).strip(), reasoning=reasoning)]
    ctx.count("cot_unparsed")  # no "Answer:" marker: the whole reply is the answer
    return [Turn(speaker=ctx.agent.name, role="assistant", content=strip_label(reply.text, "Reasoning"))]


def answer_reflexion(ctx: TurnContext) -> Step:
    name, asker = display(ctx.agent.name), display(ctx.asker)
    draft = (yield ctx.request(render("expert_cue", name=name, asker=asker, fact_line=ctx.fact_line))).text.strip()
    critique = (yield ctx.request(render("reflexion_critique", asker=asker, draft=draft))).text.strip()
    revised = (yield ctx.request(render("reflexion_revise", asker=asker, draft=draft, critique=critique, fact_line=ctx.fact_line))).text
    revised = strip_label(revised, "(?:Improved |Final |Revised )?answer")
    if not revised:
        ctx.count("reflexion_empty_revision")
        revised = draft
    trace = f"Draft: {draft}\nCritique: {critique}"
    return [Turn(speaker=ctx.agent.name, role="assistant", content=revised, reasoning=trace, meta={"draft": draft, "critique": critique})]


def parse_react(reply: Reply) -> tuple[str, ToolCall | None, str | None]:
    """(thought, action, final answer) from a ReAct-format reply (or a native tool call)."""
    text = reply.text
    final = _FINAL.search(text)
    action_match = _ACTION.search(text)
    call: ToolCall | None = reply.tool_calls[0] if reply.tool_calls else None
    if call is None and action_match and (not final or action_match.start() < final.start()):
        call = ToolCall(id="", name=action_match.group(1), arguments={"query": action_match.group(2).strip()})
    if call is None:
        parsed = parse_tool_calls(text)
        call = parsed[0] if parsed else None
    cut = min([m.start() for m in (final, action_match) if m] + [len(text)])
    thought = strip_label(text[:cut], "Thought")
    if call is not None and final and action_match and action_match.start() < final.start():
        final = None  # act first; the answer comes after the observation
    return thought, call, final.group(1).strip() if final else None


def answer_react(ctx: TurnContext) -> Step:
    """Thought -> Action -> Observation, executed for real, until a Final Answer."""
    name, asker = display(ctx.agent.name), display(ctx.asker)
    tool_list = "\n".join(f"- {t.name}: {t.description}" for t in ctx.tools.values()) or "- (none)"
    extra: list[dict[str, Any]] = []
    turns: list[Turn] = []
    thoughts: list[str] = []
    if looks_like_injection(ctx.knowledge):
        ctx.tainted = True
        ctx.meta["injection_suspected"] = True
    for step in range(ctx.max_steps + 1):
        can_act = bool(ctx.tools) and not ctx.tainted and step < ctx.max_steps
        cue = (render("react_cue", name=name, asker=asker, tool_list=tool_list, fact_line=ctx.fact_line) if can_act
               else render("react_no_tools_cue", fact_line=ctx.fact_line))
        reply = yield ctx.request(cue, extra)
        thought, call, final = parse_react(reply)
        if thought:
            thoughts.append(thought)
        if call is not None and final is None and not (can_act and call.name in ctx.tools):
            if ctx.tainted:  # the call followed instructions found in data: recorded, dialogue rejected
                raise ToolCallRefused(f"the expert called {call.name!r} after instructions were found in its data "
                                      "(possible prompt injection); the dialogue is rejected")
            ctx.count("dropped_tool_calls")  # not allowed here: never executed, never recorded as a call
            reason = "untrusted instructions in data" if ctx.tainted else f"tool {call.name!r} not allowed now"
            ctx.meta.setdefault("dropped_reasons", []).append(reason)
            if step < ctx.max_steps:
                continue
            final = thought  # out of steps: what the model said besides the call is its answer
            call = None
        if call is not None and final is None:
            call.id = stable_id(ctx.call_prefix, step, call.name, call.arguments, prefix="call_", length=12)
            started = time.perf_counter()
            question = next((m["content"] for m in reversed(ctx.agent.memory) if m["role"] == "user"), "")
            try:
                with asking(question):  # the asker's words may appear in a web query; knowledge spans may not
                    observation = str(ctx.tools[call.name](**_arguments(ctx.tools[call.name], call.arguments)))
            except ToolCallRefused:
                raise
            except Exception as exc:  # noqa: BLE001 - a failing tool is an observation, as in a real agent
                observation = f"Tool error: {type(exc).__name__}: {redact(exc)[:300]}"
                ctx.count("tool_errors")
            ctx.count("tool_seconds", time.perf_counter() - started)
            if looks_like_injection(observation):
                ctx.tainted = True
                ctx.meta["injection_suspected"] = True
            text = f"Thought: {thought}\nAction: {call.name}[{call.arguments.get('query', '')}]"
            extra.append({"role": "assistant", "content": text, "tool_calls": [_openai_call(call)]})
            extra.append({"role": "tool", "tool_call_id": call.id, "name": call.name,
                          "content": render("react_observation", tool=call.name, observation=observation)})
            turns.append(Turn(speaker=ctx.agent.name, role="assistant", content="", tool_calls=[call], reasoning=thought))
            turns.append(Turn(speaker="tool", role="tool", content=observation, tool_call_id=call.id, meta={"tool": call.name}))
            continue
        answer = final if final is not None else strip_label(_ACTION.sub("", reply.text), "Thought")
        if final is None:
            ctx.count("react_unparsed")
        turns.append(Turn(speaker=ctx.agent.name, role="assistant", content=answer, reasoning="\n".join(thoughts)))
        return turns
    raise AssertionError("unreachable: the last step always answers")


def _arguments(tool: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    """Map whatever the model wrote onto the tool's declared inputs (one string input: the query)."""
    inputs = list(getattr(tool, "inputs", {}) or {"query": {}})
    if set(arguments) <= set(inputs) and arguments:
        return arguments
    value = next(iter(arguments.values()), "") if arguments else ""
    return {inputs[0]: str(value)}


def _openai_call(call: ToolCall) -> dict[str, Any]:
    import json

    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)}}


FRAMEWORKS = {"none": answer_plain, "cot": answer_cot, "react": answer_react, "reflexion": answer_reflexion}
