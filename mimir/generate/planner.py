"""Scenario planning: spread dialogues over every chunk and every fact sentence in it.

Each fact sentence of each chunk is asked about in ``questions_per_fact`` dialogues, each time
paired with different neighbouring facts, a different asker, a different blank (the fact the
asker wants to find out) and another question form, so the tuned model sees every fact restated in several contexts.
Scenarios are ordered pass by pass and chunk by chunk, so a cap on the number of dialogues still
covers all chunks before it repeats any.
"""

from __future__ import annotations

import logging
from itertools import cycle

from mimir.errors import ConfigError
from mimir.generate.config import GenerateConfig
from mimir.facts.text import fact_sentences, question_for
from mimir.generate.holdout import Holdout
from mimir.generate.roles import Role, RoleBook
from mimir.types import Chunk, Scenario, stable_id

log = logging.getLogger(__name__)
KNOWN_TOOLS = ("knowledge_retriever", "tavily_search", "google_search")


def pick_roles(book: RoleBook, config: GenerateConfig) -> tuple[Role, list[Role], list[Role]]:
    """(target, seekers, others) for the configured domain."""
    target = book.get(config.target_role) if config.target_role else book.default_target(config.domain)
    pool = [book.get(n) for n in config.participants] if config.participants else book.in_domain(config.domain)
    pool = [r for r in pool if r.name != target.name]
    seekers = [r for r in pool if r.kind == "seeker"]
    others = [r for r in pool if r.kind != "seeker"]
    if not seekers:
        raise ConfigError(f"no seeker role (kind: seeker) among participants of domain {config.domain!r}; add one to ask questions")
    if max(config.group_sizes) > 2 and len(pool) < max(config.group_sizes) - 1:
        raise ConfigError(f"group_sizes asks for {max(config.group_sizes)} roles but only {len(pool) + 1} are available")
    return target, seekers, others


def check_tools(target: Role, config: GenerateConfig) -> None:
    for name in config.tools:
        if name not in KNOWN_TOOLS:
            raise ConfigError(f"tools: unknown tool {name!r}; choose from {', '.join(KNOWN_TOOLS)}")
        if name not in target.tools:
            raise ConfigError(f"tools: role {target.name!r} may not call {name!r} (its tools: {target.tools}); edit the roles file or the config")


def plan_scenarios(chunks: list[Chunk], book: RoleBook, config: GenerateConfig, holdout: Holdout | None = None) -> list[Scenario]:
    """Scenarios covering every chunk's fact sentences, ``questions_per_fact`` times each."""
    if not chunks:
        raise ConfigError("the knowledge base has no chunks; add documents before generating")
    if config.facts_per_dialogue < 1 or config.questions_per_fact < 1 or config.max_turns < 2:
        raise ConfigError("facts_per_dialogue and questions_per_fact must be >= 1 and max_turns >= 2")
    if any(g < 2 for g in config.group_sizes) or not config.group_sizes:
        raise ConfigError("group_sizes: every entry must be >= 2 (an asker and the target)")
    if not config.frameworks:
        raise ConfigError("frameworks: list at least one of none, cot, react, reflexion")
    holdout = holdout or Holdout()
    target, seekers, others = pick_roles(book, config)
    check_tools(target, config)

    per_chunk: list[tuple[Chunk, list[str], str]] = []
    for chunk in chunks:
        seed = ""
        if chunk.kind == "qa" and chunk.question:
            if holdout.match(chunk.question):
                log.info("skipping chunk %s: its question is a held-out evaluation question", chunk.id)
                continue
            seed = chunk.question
        facts = fact_sentences(chunk.answer if chunk.kind == "qa" and chunk.answer else chunk.text)
        if facts:
            per_chunk.append((chunk, facts, seed))

    plan: list[tuple[int, int, Chunk, list[str], list[str], str]] = []  # (pass, group, chunk, focus, hints, seed)
    for p in range(config.questions_per_fact):
        for chunk, facts, seed in per_chunk:
            k = config.facts_per_dialogue
            rotated = facts[p % len(facts) :] + facts[: p % len(facts)]
            for j, start in enumerate(range(0, len(rotated), min(k, len(rotated)))):
                focus = rotated[start : start + k]
                hints = [question_for(f, which=p, form=p) for f in focus]
                for extra in range(1, 4 * k):  # a short chunk: also ask about other facts of its sentences
                    if len(focus) >= k:
                        break
                    sentence = focus[extra % len(focus)]
                    question = question_for(sentence, which=p + extra, form=p)
                    if question not in hints:
                        focus.append(sentence)
                        hints.append(question)
                plan.append((p, j, chunk, focus, hints, seed if j == 0 else ""))
    plan.sort(key=lambda item: (item[0], item[1]))  # stable: chunk order kept inside a (pass, group)

    seeker_cycle = cycle(seekers)
    extras = [r.name for r in others + seekers]  # peers and experts first, then other askers
    sizes, frameworks = cycle(config.group_sizes), cycle(config.frameworks)
    scenarios = []
    for i, (p, j, chunk, focus, hints, seed) in enumerate(plan):
        size, framework = next(sizes), next(frameworks)
        roles = [next(seeker_cycle).name, target.name]
        rotated = extras[i % len(extras) :] + extras[: i % len(extras)] if extras else []
        for name in rotated:
            if len(roles) >= size:
                break
            if name not in roles:
                roles.append(name)
        selection = config.speaker_selection
        if selection == "auto":
            selection = "moderator" if len(roles) > 2 else "round_robin"
        turns = max(config.max_turns, 2 * len(focus)) if len(roles) == 2 else max(config.max_turns, len(roles) * len(focus))
        scenario_id = stable_id(chunk.id, p, j, focus, roles, framework, config.seed, prefix="scn-")
        scenarios.append(
            Scenario(
                id=scenario_id,
                topic=chunk.heading or chunk.source,
                roles=roles,
                target_role=target.name,
                chunk_ids=[chunk.id],
                seed_question=seed,
                max_turns=turns,
                framework=framework,
                tools=list(config.tools),  # any framework: the expert calls a tool when its context lacks the answer (#19)
                speaker_selection=selection,
                focus=focus,
                focus_hints=hints,
            )
        )
    if config.max_dialogues > 0:
        scenarios = scenarios[: config.max_dialogues]
    return scenarios


def coverage(scenarios: list[Scenario], chunks: list[Chunk]) -> dict[str, float]:
    """Share of chunks and of fact sentences that at least one scenario is about."""
    covered_chunks = {cid for s in scenarios for cid in s.chunk_ids}
    focus = {f for s in scenarios for f in s.focus}
    all_facts = {f for c in chunks for f in fact_sentences(c.text)}
    return {
        "chunks": len(covered_chunks & {c.id for c in chunks}) / max(1, len(chunks)),
        "fact_sentences": len(focus & all_facts) / max(1, len(all_facts)),
    }
