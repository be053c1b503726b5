"""Baseline training data on the same knowledge, to compare MIMIR's dialogues against.

- ``original``: the source data as single-turn pairs (dataset rows' question/answer; passages as
  the answer to "what does <source> say about <section>?").
- ``self-instruct`` (Wang et al.): a model writes new instructions from sampled seed/previous
  tasks, each about a passage of the knowledge; an instruction is kept only if its ROUGE-L with
  every kept one is below the threshold; the model then answers it with that passage as data.
- ``baize`` (Xu et al.): one model chats with itself from a seed question, playing both sides;
  the seeds are questions about the knowledge (spread over the chunks) and the AI side answers
  with the seed's passage. Every arm thus sees the knowledge the MIMIR arm sees (#19).

All three write ``Dialogue`` records (``source`` = original / self_instruct / baize) with the
same resumable JSONL as the generation stage and export through ``export_for_training``.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any, Callable

from mimir.errors import ConfigError
from mimir.generate.agents import load_prompts
from mimir.generate.config import BaselineConfig
from mimir.generate.engine import Job, drive
from mimir.facts.text import clean_text
from mimir.generate.holdout import Holdout
from mimir.generate.pipeline import as_knowledge, load_dialogues
from mimir.generate.roles import load_roles
from mimir.jsonl import JsonlWriter
from mimir.models.base import ChatModel, GenerationSettings, Reply
from mimir.types import Chunk, Dialogue, Scenario, Turn, stable_id

log = logging.getLogger(__name__)
KINDS = {"original": "original", "self-instruct": "self_instruct", "self_instruct": "self_instruct", "baize": "baize"}


def _prompts() -> dict[str, Any]:
    return load_prompts("baselines")


def _record(source: str, key: Any, topic: str, target: str, chunk_ids: list[str], turns: list[Turn], model: str, seed: int) -> Dialogue:
    scenario = Scenario(id=stable_id(source, key, prefix="scn-"), topic=topic, roles=["user", target], target_role=target,
                        chunk_ids=chunk_ids, framework="none")
    return Dialogue(id=stable_id(source, key, seed, prefix=f"{source.replace('_', '')}-"), scenario=scenario,
                    turns=turns, source=source, model=model, seed=seed)  # type: ignore[arg-type]


def _heading(chunk: Chunk) -> str:
    return (chunk.heading.split(" > ")[-1] if chunk.heading else "") or "this topic"


def _spread(items: list[Any], n: int) -> list[Any]:
    """``n`` items spread evenly over the list (all of them when n >= len)."""
    if n >= len(items) or n <= 0:
        return list(items)
    return [items[int(i * len(items) / n)] for i in range(n)]


def build_baseline(
    kind: str,
    kb: Any,
    model: ChatModel | None,
    out_path: str | Path,
    n: int,
    *,
    config: BaselineConfig | None = None,
    progress: Callable[[int, int, Dialogue], None] | None = None,
) -> list[Dialogue]:
    """Build ``n`` baseline dialogues of ``kind`` (original | self-instruct | baize) over ``kb``.

    ``kb``: KnowledgeBase, its folder, or a list of Chunk. ``model`` may be None for ``original``.
    Output is appended to ``out_path`` and a rerun continues from what is there.
    Returns every record of this kind in ``out_path`` (earlier runs' included), up to ``n``.
    """
    if kind not in KINDS:
        raise ConfigError(f"baseline kind {kind!r} is unknown; choose original, self-instruct or baize")
    source = KINDS[kind]
    config = config or BaselineConfig(kind=kind if kind != "self_instruct" else "self-instruct", n=n)  # type: ignore[arg-type]
    if source != "original" and model is None:
        raise ConfigError(f"the {kind} baseline needs a model")
    knowledge = as_knowledge(kb)
    chunks = knowledge.chunks()
    if not chunks:
        raise ConfigError("the knowledge base has no chunks")
    book = load_roles(config.roles_file)
    target = (book.get(config.target_role) if config.target_role else book.default_target(config.domain)).name
    holdout = Holdout.load(config.holdout_questions)
    out = Path(out_path)
    existing = [d for d in load_dialogues(out).values() if d.source == source] if out.exists() else []
    builder = {"original": _original, "self_instruct": _self_instruct, "baize": _baize}[source]
    with JsonlWriter(out) as writer:
        done = len(existing)

        def emit(record: Dialogue) -> None:
            nonlocal done
            writer.write(record.to_dict())
            existing.append(record)
            done += 1
            if progress is not None:
                progress(done, n, record)

        builder(chunks, model, n, config, target, holdout, existing, emit)
    return existing[:n]


def _original(chunks, model, n, config, target, holdout, existing, emit) -> None:
    prompts, have = _prompts(), {d.id for d in existing}
    usable = [c for c in chunks if not (c.kind == "qa" and holdout.match(c.question))]
    for chunk in _spread(usable, n):
        if chunk.kind == "qa" and chunk.question and chunk.answer:
            question, answer = chunk.question, chunk.answer
        else:
            question = prompts["original_question"].format(source=chunk.source, heading=_heading(chunk))
            answer = clean_text(chunk.text).replace("\n", " ")
        turns = [Turn(speaker="user", role="user", content=question), Turn(speaker=target, role="assistant", content=answer)]
        record = _record("original", chunk.id, _heading(chunk), target, [chunk.id], turns, "", config.seed)
        if record.id not in have:
            emit(record)


def _passage(chunk: Chunk, limit: int = 900) -> str:
    from mimir.generate.safety import neutralise

    text = neutralise(clean_text(chunk.text).replace("\n", " "))
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."


def _self_instruct(chunks, model, n, config, target, holdout, existing, emit) -> None:
    """Self-instruct seeded with the knowledge: every new task is written about a passage (spread
    over the chunks) and answered with that passage as reference data, as the MIMIR arm's expert is."""
    from rouge_score import rouge_scorer

    prompts, rng = _prompts(), random.Random(config.seed)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    usable = [c for c in chunks if c.text.strip() or c.answer]
    headings = list(dict.fromkeys(_heading(c) for c in usable))
    seeds = [t.format(heading=h) for h in headings for t in prompts["self_instruct_seeds"]][: 4 * len(prompts["self_instruct_seeds"])]
    pool = seeds + list(prompts["generic_seed_tasks"]) + [d.turns[0].content for d in existing]
    kept = [d.turns[0].content for d in existing]
    settings = GenerationSettings(max_new_tokens=48, temperature=config.temperature, top_p=0.95, seed=config.seed)
    order = _spread(usable, len(usable))
    rng.shuffle(order)
    turn = len(existing)
    stale_rounds = 0
    while len(kept) < n and stale_rounds < 5:
        size = min(16, 2 * (n - len(kept)))
        batch = [(order[(turn + i) % len(order)], rng.sample(pool, k=min(3, len(pool)))) for i in range(size)]
        turn += size
        requests = [[{"role": "user", "content": prompts["self_instruct_passage_prompt"].format(
            passage=_passage(chunk), examples="\n".join(f"{i + 1}. {t}" for i, t in enumerate(examples)))}] for chunk, examples in batch]
        new: list[tuple[Chunk, str]] = []
        for (chunk, _), reply in zip(batch, model.generate(requests, settings)):
            task = _first_line(reply.text)
            if not (3 <= len(task.split()) <= 60) or holdout.match(task):
                continue
            if any(scorer.score(other, task)["rougeL"].fmeasure > config.rouge_threshold for other in pool + [t for _, t in new]):
                continue  # ROUGE-L dedup as in self-instruct
            new.append((chunk, task))
        stale_rounds = 0 if new else stale_rounds + 1
        new = new[: n - len(kept)]
        system = prompts["self_instruct_answer_system"]
        answers = model.generate(
            [[{"role": "system", "content": system + "\n\n" + prompts["reference_data"].format(source=c.source, passage=_passage(c))},
              {"role": "user", "content": t}] for c, t in new],
            GenerationSettings(max_new_tokens=config.max_new_tokens, temperature=0.0),
        ) if new else []
        for (chunk, task), answer in zip(new, answers):
            if not answer.text.strip():
                continue
            turns = [Turn(speaker="user", role="user", content=task), Turn(speaker=target, role="assistant", content=answer.text.strip())]
            emit(_record("self_instruct", task, _heading(chunk), target, [chunk.id], turns, model.name, config.seed))
            kept.append(task)
            pool.append(task)
    if len(kept) < n:
        log.warning("self-instruct stopped at %d of %d instructions: the model keeps repeating itself", len(kept), n)


def _first_line(text: str) -> str:
    import re

    for line in text.strip().splitlines():
        line = re.sub(r"^\s*(\d+[.)]|[-*]|task\s*\d*\s*:)\s*", "", line, flags=re.I).strip().strip('"')
        if line:
            return line
    return ""


def knowledge_questions(chunks: list[Chunk], holdout: Holdout, template: str) -> list[tuple[Chunk, str]]:
    """Seed questions from the knowledge, spread over the chunks: a dataset row's own question, else
    a question about each fact sentence (the rule-built form), else one about the section."""
    from mimir.facts.text import fact_sentences
    from mimir.generate.questions import best_question

    per_chunk: list[list[tuple[Chunk, str]]] = []
    for chunk in chunks:
        if chunk.kind == "qa":
            asked = [chunk.question] if chunk.question else []
        else:
            asked = [q for q in (best_question(s) for s in fact_sentences(clean_text(chunk.text))) if q]
            asked = asked or [template.format(heading=_heading(chunk))]
        asked = [q for q in dict.fromkeys(asked) if not holdout.match(q)]
        if asked:
            per_chunk.append([(chunk, q) for q in asked])
    seeds = []
    for k in range(max((len(p) for p in per_chunk), default=0)):  # one question per chunk per round
        seeds += [p[k] for p in per_chunk if k < len(p)]
    return seeds


def _baize(chunks, model, n, config, target, holdout, existing, emit) -> None:
    """Baize self-chat seeded with knowledge questions; the AI side answers with the seed's passage."""
    prompts, have = _prompts(), {d.id for d in existing}
    seeds = knowledge_questions(chunks, holdout, prompts["baize_seed"])
    if not seeds:
        raise ConfigError("baize: no seed questions (every chunk question is held out)")
    jobs = []
    for i in range(max(0, n - len(existing))):
        chunk, question = seeds[i % len(seeds)]
        record = _record("baize", (chunk.id, question, i), _heading(chunk), target, [chunk.id], [], model.name, config.seed)
        if record.id in have:
            continue
        jobs.append(Job(id=record.id, scenario=record.scenario, run=_self_chat(record, question, config, prompts, holdout, chunk)))
    settings = GenerationSettings(max_new_tokens=config.max_new_tokens, temperature=0.0, seed=config.seed)
    drive(jobs, model, settings, max_active=16, on_finished=emit)


def _self_chat(record: Dialogue, question: str, config: BaselineConfig, prompts: dict[str, Any], holdout: Holdout,
               chunk: Chunk | None = None):
    """One model, both sides: the AI answers (with the seed's passage as reference data), the same
    model then writes the human's follow-up."""
    target = record.scenario.target_role
    ai_system = prompts["baize_ai_system"] + (
        prompts["baize_ai_data"].format(source=chunk.source, passage=_passage(chunk)) if chunk is not None else "")
    turns = [Turn(speaker="user", role="user", content=question)]
    while len(turns) < config.baize_turns:
        if turns[-1].role == "user":
            messages = [{"role": "system", "content": ai_system}]
            messages += [{"role": "user" if t.role == "user" else "assistant", "content": t.content} for t in turns]
            reply: Reply = yield messages
            turns.append(Turn(speaker=target, role="assistant", content=reply.text.strip()))
        else:
            system = prompts["baize_human_system"].format(topic=record.scenario.topic)
            messages = [{"role": "system", "content": system}]
            messages += [{"role": "assistant" if t.role == "user" else "user", "content": t.content} for t in turns]
            reply = yield messages
            follow_up = _first_line(reply.text)
            if not follow_up or holdout.match(follow_up):
                break
            turns.append(Turn(speaker="user", role="user", content=follow_up))
    while turns and turns[-1].role != "assistant":
        turns.pop()
    if not turns or not all(t.content for t in turns):
        raise ValueError("self-chat produced an empty turn")
    record.turns = turns
    return record
