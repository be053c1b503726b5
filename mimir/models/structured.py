"""Constrained steps, one mechanism for every backend: a closed choice, and a prefilled opening.

- :meth:`ChatModel.choose` picks one option of a closed set for each conversation. The local
  backend scores every option by its token log-probability after the prompt (one batched forward,
  no sampling: the answer is always one of the options); an endpoint sends the options as a JSON
  schema enum (``response_format``), falling back to asking in words and parsing where a server
  lacks it; the scripted backend answers from its script. :func:`choose_by_generation` is the
  fallback every backend inherits: ask for one option, parse, ask again once with the error.
- A free-text step is constrained by its opening: a final ``{"role": "assistant", "content":
  PREFIX, "prefill": True}`` message is continued by the model (see :func:`prefill`), so a field
  label ("Thought:", "Final Answer:") is written by us, never forgotten by the model.

Coroutines that drive many dialogues at once yield a :class:`ChoiceRequest` instead of a plain
message list when a step is a closed choice; the engine batches those into one ``choose`` call.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from mimir.models.base import ChatModel, Conversation

CHOICE_CUE = "Reply with exactly one of these options and nothing else: {options}"
CHOICE_RETRY = "That was not one of the options ({error}). Reply with exactly one of: {options}"


@dataclass
class Choice:
    """The option picked for one conversation.

    ``option`` is None only when a backend without constrained decoding never named an option
    (``error`` says why); callers must handle that case explicitly (count it, fall back in the open).
    """

    option: str | None
    options: list[str]
    scores: dict[str, float] = field(default_factory=dict)  # option -> log-probability (local backend)
    method: str = "logprob"  # logprob | schema | parsed | scripted
    attempts: int = 1
    error: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def ok(self) -> bool:
        return self.option is not None

    def probabilities(self) -> dict[str, float]:
        """Scores normalised over the options (empty where the backend gave no scores)."""
        import math

        if not self.scores:
            return {}
        top = max(self.scores.values())
        weights = {k: math.exp(v - top) for k, v in self.scores.items()}
        total = sum(weights.values())
        return {k: w / total for k, w in weights.items()}


@dataclass
class ChoiceRequest:
    """A closed-choice step yielded by a dialogue coroutine (answered with a :class:`Choice`)."""

    conversation: list[dict[str, Any]]
    options: list[str]


def prefill(text: str) -> dict[str, Any]:
    """The message that makes a model continue ``text`` (a field label, a JSON opening ...)."""
    return {"role": "assistant", "content": text, "prefill": True}


def is_prefilled(conversation: Sequence[dict[str, Any]]) -> bool:
    return bool(conversation) and conversation[-1].get("role") == "assistant" and bool(conversation[-1].get("prefill"))


def continuation(conversation: Sequence[dict[str, Any]], text: str) -> str:
    """The model's continuation of a prefilled conversation: a server that repeats the prefix
    (one that answers instead of continuing) has the repeated prefix cut off."""
    if is_prefilled(conversation):
        prefix = str(conversation[-1].get("content") or "")
        if prefix.strip() and text.lstrip().startswith(prefix.strip()):
            return text.lstrip()[len(prefix.strip()):]
    return text


def per_conversation(options: Sequence[str] | Sequence[Sequence[str]], n: int) -> list[list[str]]:
    """One option list per conversation (a flat list is shared); checks each list is usable."""
    lists = [list(options)] * n if not options or isinstance(options[0], str) else [list(o) for o in options]
    if len(lists) != n:
        raise ValueError(f"choose: {len(lists)} option lists for {n} conversations")
    for opts in lists:
        if not opts or not all(isinstance(o, str) and o.strip() for o in opts):
            raise ValueError(f"choose: every option list needs non-empty strings, got {opts!r}")
        if len({o.strip().lower() for o in opts}) != len(opts):
            raise ValueError(f"choose: options must differ, got {opts!r}")
    return lists


def choice_schema(options: list[str]) -> dict[str, Any]:
    """The JSON schema an OpenAI-compatible server enforces: ``{"choice": <one of options>}``."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "choice",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"choice": {"type": "string", "enum": [o.strip() for o in options]}},
                "required": ["choice"],
                "additionalProperties": False,
            },
        },
    }


def self_hosted_format(response_format: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's ``json_schema`` response format in the form self-hosted servers read through
    ``huggingface_hub``: ``{"type": "json_object", "value": schema, "schema": schema}``.

    With a ``base_url``, ``InferenceClient`` rewrites ``json_schema`` into TGI's grammar
    (``json_object`` + ``value``), and llama-server reads a ``json_object`` schema from ``schema`` only, so it
    got ``{}`` and replied with free JSON. A format that is not ``json_schema`` passes the client
    unchanged; with both keys, TGI and llama-server each find the schema."""
    schema = response_format["json_schema"]["schema"]
    return {"type": "json_object", "value": schema, "schema": schema}


def parse_choice(text: str, options: list[str]) -> str | None:
    """The option a free-text reply names: a ``{"choice": ...}`` object, the whole reply, or the
    option named first (whole words, case-insensitive); None when it names none."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            value = str(data.get("choice", "")).strip().lower()
            return next((o for o in options if o.strip().lower() == value), None)
    exact = next((o for o in options if o.strip().lower() == stripped.strip(" .\"'").lower()), None)
    if exact is not None:
        return exact
    best: tuple[int, int, str] | None = None
    for option in options:
        match = re.search(rf"(?<!\w){re.escape(option.strip())}(?!\w)", text, flags=re.I)
        if match and (best is None or (match.start(), -len(option)) < best[:2]):
            best = (match.start(), -len(option), option)
    return best[2] if best else None


def plain_request(conversation: Sequence[dict[str, Any]], options: list[str]) -> list[dict[str, Any]]:
    """The conversation as a plain question for a backend without constrained decoding: a prefill
    becomes part of the cue ("… Verdict: ?"), then the options are listed."""
    messages = [dict(m) for m in conversation]
    opening = ""
    if is_prefilled(messages):
        opening = str(messages.pop()["content"]).strip()
    listed = " | ".join(o.strip() for o in options)
    cue = (f"Complete: {opening} ...\n" if opening else "") + CHOICE_CUE.format(options=listed)
    if messages and messages[-1]["role"] == "user":
        messages[-1] = {**messages[-1], "content": f"{messages[-1]['content']}\n\n{cue}"}
    else:
        messages.append({"role": "user", "content": cue})
    return messages


def choose_by_generation(model: "ChatModel", conversations: list["Conversation"], options: list[list[str]],
                         retries: int = 1) -> list[Choice]:
    """Ask in words, parse, ask again (with what was wrong) up to ``retries`` times."""
    from mimir.models.base import GenerationSettings

    settings = GenerationSettings(max_new_tokens=16, temperature=0.0, seed=0)
    requests = [plain_request(c, o) for c, o in zip(conversations, options)]
    results = [Choice(option=None, options=o, method="parsed", attempts=0) for o in options]
    open_ = list(range(len(conversations)))
    for _ in range(retries + 1):
        if not open_:
            break
        replies = model.generate([requests[i] for i in open_], settings)
        still = []
        for i, reply in zip(open_, replies):
            result = results[i]
            result.attempts += 1
            result.prompt_tokens += reply.prompt_tokens
            result.completion_tokens += reply.completion_tokens
            picked = parse_choice(reply.text, options[i])
            if picked is not None:
                result.option, result.error = picked, ""
                continue
            result.error = f"the reply {reply.text.strip()[:80]!r} names no option"
            requests[i] = requests[i] + [
                {"role": "assistant", "content": reply.text},
                {"role": "user", "content": CHOICE_RETRY.format(error=result.error, options=" | ".join(o.strip() for o in options[i]))},
            ]
            still.append(i)
        open_ = still
    return results
