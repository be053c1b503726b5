"""The generation stage as one function: knowledge in, resumable dialogue JSONL out."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Callable

from mimir.errors import ConfigError
from mimir.generate.config import GenerateConfig
from mimir.generate.dialogue import Setup, run_dialogue
from mimir.generate.engine import DriveStats, Job, drive
from mimir.generate.holdout import Holdout
from mimir.generate.planner import plan_scenarios
from mimir.generate.roles import load_roles
from mimir.jsonl import JsonlWriter, read_records
from mimir.models.base import ChatModel, GenerationSettings
from mimir.types import Chunk, Dialogue, Scenario, stable_id

log = logging.getLogger(__name__)
Progress = Callable[[int, int, Dialogue], None]


class ChunkList:
    """A tiny in-memory knowledge base (word-overlap search) for plain lists of chunks."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self._chunks = list(chunks)
        self._by_id = {c.id: c for c in self._chunks}

    def chunks(self) -> list[Chunk]:
        return list(self._chunks)

    def get(self, chunk_id: str) -> Chunk:
        return self._by_id[chunk_id]

    def search(self, query: str, k: int = 5, mode: str | None = None) -> list[tuple[Chunk, float]]:
        words = set(re.findall(r"\w+", query.lower()))
        scored = [(c, float(len(words & set(re.findall(r"\w+", c.text.lower()))))) for c in self._chunks]
        scored.sort(key=lambda pair: -pair[1])
        return [pair for pair in scored[:k] if pair[1] > 0]


def as_knowledge(kb: Any) -> Any:
    """Accept a KnowledgeBase, a folder path, or a list of chunks."""
    if isinstance(kb, list):
        return ChunkList(kb)
    if isinstance(kb, (str, Path)):
        if not str(kb):
            raise ConfigError("knowledge: give the knowledge base folder (python -m mimir knowledge add ...)")
        from mimir.knowledge import KnowledgeBase

        return KnowledgeBase.open(kb)
    if not all(hasattr(kb, a) for a in ("chunks", "search")):
        raise ConfigError(f"knowledge: expected a KnowledgeBase or a list of Chunk, got {type(kb).__name__}")
    return kb


def build_tools(names: set[str], config: GenerateConfig, kb: Any, api_keys: dict[str, str] | None = None) -> dict[str, Any]:
    """The smolagents tools the scenarios need (keys from ``api_keys`` or the configured env vars)."""
    keys = api_keys or {}
    tools: dict[str, Any] = {}
    from mimir.tools.guard import LeakGuard

    guard = LeakGuard(kb)  # web queries are checked against the private knowledge before sending
    if "knowledge_retriever" in names:
        from mimir.tools.retriever import KnowledgeRetrieverTool

        tools["knowledge_retriever"] = KnowledgeRetrieverTool(kb, k=max(1, config.retrieval_k), max_chars=900)
    if "tavily_search" in names:
        from mimir.tools.web_search import TavilySearchTool

        tools["tavily_search"] = TavilySearchTool(keys.get("tavily"), base_url=config.tavily_base_url, key_env=config.tavily_api_key_env, guard=guard)
    if "google_search" in names:
        from mimir.tools.web_search import GoogleSearchTool

        tools["google_search"] = GoogleSearchTool(keys.get("google"), provider=config.google_provider,
                                                  base_url=config.google_base_url, key_env=config.google_api_key_env, guard=guard)
    return tools


def dialogue_id(scenario: Scenario, model_name: str, seed: int) -> str:
    return stable_id(scenario.id, model_name, seed, prefix="dlg-")


def load_dialogues(path: str | Path) -> dict[str, Dialogue]:
    """Records of a dialogue JSONL by id; a later record of the same id (a retry) wins."""
    return {r["id"]: Dialogue.from_dict(r) for r in read_records(path)}


def generate_dialogues(
    kb: Any,
    config: GenerateConfig,
    model: ChatModel,
    out_path: str | Path | None = None,
    progress: Progress | None = None,
    *,
    api_keys: dict[str, str] | None = None,
    scenarios: list[Scenario] | None = None,
    stats: DriveStats | None = None,
) -> list[Dialogue]:
    """Plan scenarios over ``kb`` and generate one dialogue per scenario, resumably.

    ``kb``: a :class:`~mimir.knowledge.KnowledgeBase`, its folder, or a list of :class:`Chunk`.
    ``out_path`` (default ``config.output``) receives one JSON line per finished dialogue
    (``Dialogue.to_dict()``), appended and fsynced; rerunning skips ids already there (failed
    ones too, unless ``config.retry_failed``). ``progress(done, total, dialogue)`` is called after
    each dialogue. ``api_keys`` may carry ``tavily`` / ``google`` keys (never stored).
    Pass ``scenarios`` to run a plan of your own; ``stats`` (a :class:`DriveStats`) is filled in.
    Returns the dialogues of every planned scenario in plan order (earlier runs' included).
    """
    knowledge = as_knowledge(kb)
    book = load_roles(config.roles_file)
    holdout = Holdout.load(config.holdout_questions)
    chunks = knowledge.chunks()
    plan = scenarios if scenarios is not None else plan_scenarios(chunks, book, config, holdout)
    out = Path(out_path or config.output)
    existing = load_dialogues(out) if out.exists() else {}
    model_name = getattr(model, "name", type(model).__name__)
    ids = [dialogue_id(s, model_name, config.seed) for s in plan]
    todo = [
        (i, s) for i, s in zip(ids, plan)
        if i not in existing or (config.retry_failed and existing[i].status == "failed")
    ]
    log.info("%d scenarios planned, %d already done, %d to generate", len(plan), len(plan) - len(todo), len(todo))
    by_id = {c.id: c for c in chunks}
    missing = sorted({c for _, s in todo for c in s.chunk_ids} - set(by_id))
    if missing:
        raise ConfigError(f"scenarios name chunk ids the knowledge base lacks: {', '.join(missing[:5])}")
    tools = build_tools({t for _, s in todo for t in s.tools}, config, knowledge, api_keys)

    def search(query: str, k: int) -> list[Chunk]:
        return [c for c, _ in knowledge.search(query, k=k)]

    setup = Setup(roles=book.roles, chunks=by_id, search=search, tools=tools, retrieval_k=config.retrieval_k,
                  react_max_steps=config.react_max_steps, stop_token=config.stop_token, holdout=holdout,
                  question_style=config.question_style, passage_window=config.passage_window,
                  closing_turn=config.closing_turn)
    settings = GenerationSettings(max_new_tokens=config.max_new_tokens, temperature=config.temperature, seed=config.seed)
    results = dict(existing)
    done = len(plan) - len(todo)

    with JsonlWriter(out) as writer:

        def finished(record: Dialogue) -> None:
            nonlocal done
            record.model, record.seed, record.source = model_name, config.seed, "mimir"
            writer.write(record.to_dict())
            results[record.id] = record
            done += 1
            if progress is not None:
                progress(done, len(plan), record)

        jobs = (Job(id=i, scenario=s, run=run_dialogue(i, s, setup)) for i, s in todo)
        measured = drive(jobs, model, settings, max_active=config.max_active, on_finished=finished)
    if stats is not None:
        stats.__dict__.update(measured.__dict__)
    return [results[i] for i in ids if i in results]
