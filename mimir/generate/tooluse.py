"""Tools used because they help: the expert looks things up when its context lacks the answer.

The expert of a scenario that allows ``knowledge_retriever`` holds no standing reference data:
what it knows in a dialogue is what it retrieved (its earlier observations stay in its memory).
Before each answer :func:`lacks_answer` checks whether the context holds the answer (the focus
fact, or for a question nobody planned a sentence that covers the question's words); when it
does not, :func:`retrieve` runs a real call — the query is the model's own, written into a
prefilled argument field — and the answer is grounded in the observation (its key sentence
becomes the cue's key fact). The call, the observation and the answer are the trajectory kept in
the record, which is what tunes the agent.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any, Generator

from mimir.generate.agents import render
from mimir.facts.text import sentences
from mimir.generate.safety import looks_like_injection
from mimir.models.structured import continuation, prefill
from mimir.secrets import redact
from mimir.tools.guard import ToolCallRefused, asking
from mimir.types import ToolCall, Turn, stable_id

if TYPE_CHECKING:
    from mimir.generate.frameworks import TurnContext

RETRIEVER = "knowledge_retriever"
_WORD = re.compile(r"[a-z0-9][a-z0-9'.:-]*")
_STOP = set("a an the is are was were be been of to in on at for by with and or what which who whom when where how many "
            "much does do did can could would should you your i me my we our it its this that there from about please tell "
            "also any if so just know want need".split())


def content_words(text: str) -> set[str]:
    return {w.strip(".:'") for w in _WORD.findall(text.lower()) if w.strip(".:'") not in _STOP and len(w.strip(".:'")) > 1}


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def lacks_answer(focus: str, question: str, context: str) -> bool:
    """Whether ``context`` misses the answer: the focus fact is not in it, or (no focus: a question
    nobody planned) no sentence of it covers half of the question's content words."""
    if focus:
        return _norm(focus) not in _norm(context)
    wanted = content_words(question)
    if not wanted:
        return False
    best = max((len(wanted & content_words(s)) for s in sentences(context)), default=0)
    return best < max(1, (len(wanted) + 1) // 2)


def key_sentence(observation: str, focus: str, question: str) -> str:
    """The sentence of an observation the answer rests on: the focus fact where the observation
    holds it, else the sentence sharing most words with the question ('' for an empty observation)."""
    body = re.sub(r"<<<[^\n]*>>>|<<<end>>>", " ", observation)
    if focus and _norm(focus) in _norm(body):
        return focus
    wanted = content_words(question + " " + focus)
    scored = [(len(wanted & content_words(s)), -i, s) for i, s in enumerate(sentences(body))]
    return max(scored)[2] if scored and max(scored)[0] > 0 else ""


def context_text(ctx: "TurnContext") -> str:
    """Everything the expert can see now: its standing data, its memory (earlier observations
    included) and this turn's tool steps."""
    parts = [ctx.knowledge] + [str(m.get("content") or "") for m in ctx.agent.memory] + [str(m.get("content") or "") for m in ctx.extra]
    return "\n".join(parts)


def parse_query(text: str) -> str:
    """The query string of a prefilled ``{"query": "`` argument field: up to the closing quote or line end."""
    value = re.split(r'"|\n', text, maxsplit=1)[0]
    return re.sub(r"\s+", " ", value).strip(" .,;")[:200]


def run_call(ctx: "TurnContext", name: str, arguments: dict[str, Any], thought: str, step: int) -> str:
    """Execute one tool call for real and record it (assistant call turn, tool observation turn,
    and the same as messages for the rest of this answer). Returns the observation."""
    call = ToolCall(id=stable_id(ctx.call_prefix, step, name, arguments, prefix="call_", length=12), name=name, arguments=arguments)
    tool = ctx.tools[name]
    started = time.perf_counter()
    try:
        with asking(ctx.question):  # the asker's words may appear in a web query; knowledge spans may not
            observation = str(tool(**tool_arguments(tool, arguments)))
    except ToolCallRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - a failing tool is an observation, as in a real agent
        observation = f"Tool error: {type(exc).__name__}: {redact(exc)[:300]}"
        ctx.count("tool_errors")
    ctx.count("tool_seconds", time.perf_counter() - started)
    ctx.count("tool_calls")
    if name == RETRIEVER and not observation.startswith("Tool error"):
        ctx.count("retriever_calls")
    if looks_like_injection(observation):
        ctx.tainted = True
        ctx.meta["injection_suspected"] = True
    text = (f"Thought: {thought}\n" if thought else "") + f"Action: {name}\nAction Input: {json.dumps(arguments, ensure_ascii=False)}"
    ctx.extra.append({"role": "assistant", "content": text, "tool_calls": [openai_call(call)]})
    ctx.extra.append({"role": "tool", "tool_call_id": call.id, "name": name,
                      "content": render("react_observation", tool=name, observation=observation)})
    ctx.tool_turns.append(Turn(speaker=ctx.agent.name, role="assistant", content="", tool_calls=[call], reasoning=thought))
    ctx.tool_turns.append(Turn(speaker="tool", role="tool", content=observation, tool_call_id=call.id, meta={"tool": name}))
    ctx.observations.append(observation)
    return observation


def write_query(ctx: "TurnContext", tool: str, thought: str = "") -> Generator[list[dict[str, Any]], Any, str]:
    """The model writes the call's typed argument into a prefilled field; an empty one falls back
    to the question (counted)."""
    opening = (f"Thought: {thought}\n" if thought else "") + f'Action: {tool}\nAction Input: {{"query": "'
    messages = ctx.request(render("tool_query_cue", tool=tool, question=ctx.question)) + [prefill(opening)]
    reply = yield messages
    query = parse_query(continuation(messages, reply.text))
    ctx.count("tool_arguments")
    if len(content_words(query)) < 1:
        ctx.count("tool_query_fallbacks")
        query = ctx.question.strip()[:200]
    return query


def retrieve(ctx: "TurnContext", max_calls: int = 2) -> Generator[list[dict[str, Any]], Any, None]:
    """Look up the answer: the model's own query first; if that observation still lacks the answer,
    once more with the question itself. Sets the turn's key fact from the observation."""
    for attempt in range(max_calls):
        if ctx.tainted:
            return
        query = (yield from write_query(ctx, RETRIEVER)) if attempt == 0 else ctx.question.strip()[:200]
        if attempt:
            ctx.count("retrieval_requeries")
        run_call(ctx, RETRIEVER, {"query": query}, "", attempt)
        if not lacks_answer(ctx.focus, ctx.question, context_text(ctx)):
            break
    ground_in_observations(ctx)


def ground_in_observations(ctx: "TurnContext") -> None:
    """The turn's key fact line from what the tools returned."""
    if not ctx.observations:
        return
    joined = "\n".join(ctx.observations)
    sentence = key_sentence(joined, ctx.focus, ctx.question)
    from mimir.generate.agents import fact_line

    ctx.fact_line = fact_line(sentence) if sentence else ""
    ctx.grounded_in = sentence


def tool_arguments(tool: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    """Map the arguments onto the tool's declared inputs (one string input: the query)."""
    inputs = list(getattr(tool, "inputs", {}) or {"query": {}})
    if set(arguments) <= set(inputs) and arguments:
        return arguments
    value = next(iter(arguments.values()), "") if arguments else ""
    return {inputs[0]: str(value)}


def openai_call(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)}}
