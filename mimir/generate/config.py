"""Configuration of the generation stage (``python -m mimir generate --config gen.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mimir.config import option

Framework = Literal["none", "cot", "react", "reflexion"]


@dataclass
class GenerateConfig:
    """How to turn a knowledge base into multi-role training dialogues."""

    knowledge: str = option("", path="dir", help="Knowledge base folder (built by `python -m mimir knowledge add`).")
    output: str = option("runs/dialogues.jsonl", help="Where dialogues are appended (JSONL, resumable).")
    export: str = option("", help="Optional path for the training export (chat `messages` JSONL). Empty: skip.")
    model: str = option("local", help="Model spec: local, local:PATH, endpoint:MODEL[@URL], scripted.")
    roles_file: str = option(
        "", bundled="roles.yaml", help="Role library (YAML). Empty: the bundled library (mimir/assets/roles.yaml; its "
        "fields show the format)."
    )
    domain: str = option("medical", help="Domain whose roles take part (a key of `domains` in the roles file).")
    target_role: str = option("", help="The expert being tuned. Empty: the domain's first expert role.")
    participants: list[str] = option([], help="Roles that may join besides the target. Empty: every role of the domain.")
    group_sizes: list[int] = option([2], min=2, help="Roles per dialogue, cycled over scenarios (e.g. [2, 2, 4]).")
    questions_per_fact: int = option(2, min=1, help="How many dialogues ask about each fact sentence (in different contexts).")
    facts_per_dialogue: int = option(2, min=1, help="Fact sentences the asker works through in one dialogue.")
    max_turns: int = option(6, min=1, help="Turn budget per dialogue (spoken turns; tool steps do not count).")
    max_dialogues: int = option(0, min=0, help="Cap on dialogues (0: every planned scenario). Scenarios are spread over all chunks.")
    frameworks: list[Framework] = option(["none"], help="Reasoning frameworks of the expert, cycled: none, cot, react, reflexion (the 135M embedded model does best with none).")
    tools: list[str] = option(["knowledge_retriever"], choices=("knowledge_retriever", "tavily_search", "google_search"), help="Tools the expert may call: knowledge_retriever, tavily_search, google_search.")
    speaker_selection: Literal["auto", "round_robin", "moderator"] = option(
        "auto", help="Next speaker: round_robin, moderator (a model step), or auto (moderator when > 2 roles)."
    )
    question_style: Literal["model", "template"] = option(
        "model",
        help="model: the asker agent words each question itself (a reply that is not a clean question on the topic "
        "falls back to the rule-built one); template: always the rule-built question (no model call).",
    )
    passage_window: int = option(1, min=0, help="Sentences of the source chunk shown around the focus fact (0: the whole chunk).")
    retrieval_k: int = option(1, min=0, help="Chunks retrieved for each expert turn (besides the scenario's own chunk).")
    react_max_steps: int = option(3, min=1, help="ReAct: tool calls allowed per expert turn before it must answer.")
    max_new_tokens: int = option(64, min=1, help="Longest generated message in tokens (a batch runs until its longest reply ends).")
    temperature: float = option(0.0, min=0.0, max=2.0, help="0 = greedy (the embedded model is most reliable greedy).")
    seed: int = option(0, help="Seed for planning and sampling; part of every record id.")
    max_active: int = option(16, min=1, help="Dialogues advanced together; their next steps share one batched model call.")
    stop_token: str = option("<END>", help="A role that writes this ends the dialogue.")
    closing_turn: bool = option(
        False, help="After its last question is answered the asker gets a closing turn (and may send the stop token); "
        "off: the dialogue ends right after the last answer (best for small models, whose small talk is noise)."
    )
    holdout_questions: str = option(
        "", path="file", help="JSONL of evaluation questions (field `question`) that must never enter training data."
    )
    retry_failed: bool = option(False, help="On resume, run dialogues that failed before again.")
    tavily_api_key_env: str = option("TAVILY_API_KEY", help="Environment variable holding the Tavily key (never stored).")
    tavily_base_url: str = option("", help="Tavily API base URL. Empty: https://api.tavily.com.")
    google_provider: Literal["serper", "serpapi"] = option("serper", help="Google search provider.")
    google_api_key_env: str = option("SERPER_API_KEY", help="Environment variable holding the Serper/SerpAPI key.")
    google_base_url: str = option("", help="Search endpoint URL. Empty: the provider's public URL.")


@dataclass
class BaselineConfig:
    """How to build a baseline data set on the same knowledge."""

    kind: Literal["original", "self-instruct", "baize"] = option("original", help="Which baseline.")
    knowledge: str = option("", path="dir", help="Knowledge base folder.")
    output: str = option("runs/baseline.jsonl", help="Where baseline dialogues are appended (JSONL, resumable).")
    export: str = option("", help="Optional path for the training export (chat `messages` JSONL).")
    model: str = option("local", help="Model spec (self-instruct and baize only).")
    n: int = option(40, min=1, help="How many examples (dialogues) to produce.")
    seed: int = option(0, help="Seed for sampling and ids.")
    temperature: float = option(0.7, min=0.0, max=2.0, help="Sampling temperature for self-instruct (diversity needs > 0).")
    max_new_tokens: int = option(96, min=1, help="Longest generated message in tokens.")
    rouge_threshold: float = option(0.7, min=0.0, max=1.0, help="Self-instruct: drop an instruction whose ROUGE-L with any kept one exceeds this.")
    baize_turns: int = option(4, min=2, help="Baize: spoken turns per self-chat (human and AI together).")
    domain: str = option("medical", help="Domain for the assistant's persona in the export (a roles-file domain).")
    roles_file: str = option("", bundled="roles.yaml", help="Role library used for the export's system prompt. Empty: the bundled one.")
    target_role: str = option("", help="Role whose persona the exported system prompt uses. Empty: the domain's first expert.")
    holdout_questions: str = option("", path="file", help="JSONL of evaluation questions that must never enter training data.")
