"""``verify_dialogues``: filters, grounding and the judge over a dialogues file, resumably.

Writes, without ever touching the raw file:
- ``<out_dir>/verdicts.jsonl``: one :class:`Verdict` per dialogue, appended as decided;
- ``<raw stem>.verified.jsonl`` beside the raw file: kept and fixed dialogues (fixed turns
  replaced, the originals in ``meta["verification"]``), rebuilt from all verdicts each run;
- ``<out_dir>/verify_report.json`` and ``.txt``: totals by decision and reason.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from mimir.errors import InputFileError
from mimir.jsonl import JsonlWriter, read_records
from mimir.models.base import ChatModel
from mimir.types import Chunk, Dialogue, Verdict
from mimir.verify import filters
from mimir.verify.config import VerifyConfig
from mimir.verify.decide import decide
from mimir.verify.dedup import NearDuplicateIndex
from mimir.verify.grounding import GroundingResult, check_grounding, locate_elsewhere
from mimir.verify.judge import judge_dialogues
from mimir.verify.report import VerifyReport, summarize, write_report

log = logging.getLogger(__name__)

ChunkLookup = Callable[[str], "Chunk | None"]
Progress = Callable[[int, int], None]
VERDICTS_FILE = "verdicts.jsonl"


@dataclass
class _Pending:
    """A dialogue that passed the hard filters and waits for the judge."""

    dialogue: Dialogue
    chunks: list[Chunk]
    grounding: GroundingResult
    scores: dict[str, float] = field(default_factory=dict)


def verified_path(dialogues_path: str | Path) -> Path:
    """Where the verified dataset of ``dialogues_path`` goes: beside it, ``<stem>.verified.jsonl``."""
    p = Path(dialogues_path)
    return p.with_name(f"{p.stem}.verified.jsonl")


def chunk_lookup(kb_or_lookup: Any) -> ChunkLookup:
    """A function id -> Chunk (or None) from a KnowledgeBase, a path to one, a dict or a callable."""
    if isinstance(kb_or_lookup, (str, Path)):
        from mimir.knowledge import KnowledgeBase

        kb_or_lookup = KnowledgeBase.open(kb_or_lookup)
    if isinstance(kb_or_lookup, Mapping):
        return kb_or_lookup.get
    getter = getattr(kb_or_lookup, "get", None)
    fn = getter if callable(getter) else kb_or_lookup if callable(kb_or_lookup) else None
    if fn is None:
        raise TypeError("kb_or_lookup must be a KnowledgeBase, a path to one, a dict of chunk id -> Chunk, or a function")

    def lookup(chunk_id: str) -> Chunk | None:
        try:
            return fn(chunk_id)
        except KeyError:
            return None

    return lookup


def load_dialogues(path: Path) -> list[Dialogue]:
    if not path.is_file():
        raise InputFileError(f"{path}: no such dialogues file; run `python -m mimir generate` first or check the path")
    out = []
    try:
        records = list(read_records(path))
    except ValueError as exc:
        raise InputFileError(str(exc)) from None
    for n, record in enumerate(records, 1):
        try:
            d = Dialogue.from_dict(record)
        except (TypeError, AttributeError, KeyError) as exc:
            raise InputFileError(f"{path.name}: record {n} is not a dialogue ({exc})") from None
        if not isinstance(d.id, str) or not d.id or not isinstance(d.turns, list):
            raise InputFileError(f"{path.name}: record {n} lacks an id or turns")
        out.append(d)
    return out


def verify_dialogues(
    dialogues_path: str | Path,
    kb_or_lookup: Any,
    config: VerifyConfig | None = None,
    judge_model: ChatModel | None = None,
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> VerifyReport:
    """Verify every dialogue of ``dialogues_path``; skips dialogues already in ``verdicts.jsonl``."""
    started = time.perf_counter()
    config = config or VerifyConfig()
    raw = Path(dialogues_path)
    out = Path(out_dir) if out_dir is not None else raw.parent
    out.mkdir(parents=True, exist_ok=True)
    verdicts_file, verified_file = out / VERDICTS_FILE, verified_path(raw)
    if raw.resolve() in (verdicts_file.resolve(), verified_file.resolve()):
        raise InputFileError(f"{raw}: the raw dialogues file cannot also be an output; rename it or choose another out_dir")
    dialogues = load_dialogues(raw)
    if not dialogues:
        raise InputFileError(f"{raw}: holds no dialogues; generate some first (python -m mimir generate)")
    ids = [d.id for d in dialogues]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InputFileError(f"{raw.name}: dialogue id {dup!r} appears more than once; ids must be unique")
    if isinstance(kb_or_lookup, (str, Path)):  # opened once, for the lookup and for locating claims
        from mimir.knowledge import KnowledgeBase

        kb_or_lookup = KnowledgeBase.open(kb_or_lookup)
    lookup = chunk_lookup(kb_or_lookup)
    knowledge_texts: list[tuple[str, str]] | None = None

    def every_text() -> list[tuple[str, str]]:
        """(source, lower-cased text) of every chunk: read once, at the first unsupported claim."""
        nonlocal knowledge_texts
        if knowledge_texts is None:
            knowledge_texts = [(c.source, c.text.lower()) for c in _all_chunks(kb_or_lookup)]
        return knowledge_texts
    previous = {r["dialogue_id"]: Verdict.from_dict(r) for r in _read_verdicts(verdicts_file)}
    redo = {"judge_failed"} if config.rejudge_failed and config.mode != "filter" else set()
    done = {i for i, v in previous.items() if v.decision not in redo}
    sources = {d.id: _sources(d, lookup) for d in dialogues}
    _check_kb_matches(dialogues, sources, raw)
    language = _expected_language(config, dialogues, sources)
    dedup = NearDuplicateIndex(config.near_duplicate_threshold) if config.near_duplicate_threshold > 0 else None
    report_fields: dict[str, Any] = {"mode": config.mode, "resumed": len(done & set(ids))}
    pending: list[_Pending] = []
    finished = len(done & set(ids))
    with JsonlWriter(verdicts_file) as writer:
        for d in dialogues:
            chunks, missing = sources[d.id]
            hard = filters.check_structure(d, config)
            if d.status == "ok":
                hard += filters.check_turns(d, config) + filters.check_language(d, language, config)
            if missing:
                hard.append(f"missing_source: chunk(s) {', '.join(missing)} not in the knowledge base")
            elif config.require_sources and not chunks and not _has_observation(d):
                hard.append("no_sources: the scenario names no source chunk and no tool observed anything")
            if not hard and dedup is not None:  # only dialogues that could be kept shadow later ones
                twin = dedup.check_and_add(d)
                if twin is not None:
                    hard.append(f"near_duplicate: {twin[1]:.2f} similar to earlier dialogue {twin[0]}")
            if d.id in done:
                continue
            scores: dict[str, float] = {}
            grounding = GroundingResult()
            if config.grounding != "off" and d.status == "ok":
                grounding = check_grounding(d, chunks, check_reasoning=config.check_reasoning)
                if grounding.unsupported:
                    locate_elsewhere(grounding.unsupported, every_text())
                scores.update(grounding_score=round(grounding.score, 4), grounding_claims=grounding.claims,
                              grounding_unsupported=len(grounding.unsupported))
            flags = [u.reason() for u in grounding.unsupported]
            meta = {"mode": config.mode, "language": language}
            if hard:
                writer.write(Verdict(d.id, "reject", hard + flags, scores, meta=meta).to_dict())
            elif config.mode == "filter":
                decision = "reject" if flags and config.grounding == "reject" else "keep"
                writer.write(Verdict(d.id, decision, flags, scores, meta=meta).to_dict())
            elif config.mode == "judge" and flags and config.grounding == "reject" and not config.trust_judge_over_grounding:
                # the judge could only confirm the rejection (it may not overrule the check): save the call
                writer.write(Verdict(d.id, "reject", flags, scores, meta=meta).to_dict())
            else:
                pending.append(_Pending(d, chunks, grounding, scores))
                continue
            finished += 1
            if progress:
                progress(finished, len(dialogues))
        if pending:
            model = judge_model if judge_model is not None else _load_judge(config)
            report_fields["judge"] = getattr(model, "name", config.judge)
            stats = _judge_all(pending, model, config, writer, language, progress, finished, len(dialogues))
            report_fields.update(stats)
        elif judge_model is not None or config.mode != "filter":
            report_fields["judge"] = getattr(judge_model, "name", config.judge)
    final = {r["dialogue_id"]: Verdict.from_dict(r) for r in _read_verdicts(verdicts_file)}
    verdicts = [final[i] for i in ids if i in final]
    _write_verified(verified_file, dialogues, final)
    claims = sum(int(v.scores.get("grounding_claims", 0)) for v in verdicts)
    unsupported = sum(int(v.scores.get("grounding_unsupported", 0)) for v in verdicts)
    report = summarize(verdicts, grounding_claims=claims, grounding_unsupported=unsupported, **report_fields)
    report.elapsed_s = round(time.perf_counter() - started, 3)
    report.paths = {"dialogues": str(raw), "verdicts": str(verdicts_file), "verified": str(verified_file)}
    if config.export:
        report.paths["train"] = str(_write_training_export(verified_file))
    write_report(report, out)
    log.info("verify: %s", report.text().splitlines()[0])
    return report


def _write_training_export(verified_file: Path) -> Path:
    """The kept dialogues as closed-book training records (chat ``messages``), beside the verified file:
    what ``train`` and ``push dataset`` take, written by the one dialogue -> messages converter."""
    from mimir.generate.export import export_for_training, write_export

    kept = [d for d in load_dialogues(verified_file) if d.status == "ok"]
    target = verified_file.with_name(verified_file.name.replace(".verified.jsonl", "") + ".train.jsonl")
    return write_export(export_for_training(kept, include_reasoning=False, include_tools=True), target)


def _judge_all(
    pending: list[_Pending], model: ChatModel, config: VerifyConfig, writer: JsonlWriter, language: str,
    progress: Progress | None, finished: int, total: int,
) -> dict[str, int]:
    """Judge in batches of ``judge_batch_size``; each batch's verdicts are written as soon as it is done."""
    stats = {"judged": 0, "judge_replies": 0, "judge_malformed": 0}
    size = config.judge_batch_size
    for start in range(0, len(pending), size):
        batch = pending[start : start + size]
        judgements = judge_dialogues(
            model,
            [(p.dialogue, p.chunks, p.grounding.unsupported if config.grounding != "off" else []) for p in batch],
            mode=config.mode, retries=config.judge_retries, max_new_tokens=config.judge_max_new_tokens,
            max_source_chars=config.judge_max_source_chars,
        )
        for p, j in zip(batch, judgements):
            stats["judged"] += 1
            stats["judge_replies"] += j.attempts
            stats["judge_malformed"] += len(j.errors)
            verdict = decide(p.dialogue, p.chunks, p.grounding, j, config, p.scores)
            verdict.meta.update(mode=config.mode, language=language, judge=getattr(model, "name", config.judge))
            writer.write(verdict.to_dict())
            finished += 1
            if progress:
                progress(finished, total)
    return stats


def _load_judge(config: VerifyConfig) -> ChatModel:
    from mimir.models import load_model

    return load_model(config.judge)


def _all_chunks(kb_or_lookup: Any) -> list[Chunk]:
    if isinstance(kb_or_lookup, Mapping):
        return list(kb_or_lookup.values())
    chunks = getattr(kb_or_lookup, "chunks", None)
    return list(chunks()) if callable(chunks) else []


def _sources(d: Dialogue, lookup: ChunkLookup) -> tuple[list[Chunk], list[str]]:
    chunks, missing = [], []
    for cid in d.scenario.chunk_ids if d.scenario else []:
        c = lookup(cid)
        (chunks.append(c) if c is not None else missing.append(cid))
    return chunks, missing


def _check_kb_matches(dialogues: list[Dialogue], sources: dict[str, tuple[list[Chunk], list[str]]], raw: Path) -> None:
    """Every chunk missing means the wrong knowledge base was given: say so instead of rejecting all."""
    wanted = sum(len(d.scenario.chunk_ids) for d in dialogues if d.scenario)
    found = sum(len(c) for c, _ in sources.values())
    if wanted and not found:
        raise InputFileError(
            f"{raw.name}: none of the {wanted} source chunks its dialogues cite is in the given knowledge base; "
            "pass the knowledge base the dialogues were generated from (--knowledge)"
        )


def _has_observation(d: Dialogue) -> bool:
    return any(t.role == "tool" and t.content.strip() for t in d.turns)


def _expected_language(config: VerifyConfig, dialogues: list[Dialogue], sources: dict[str, tuple[list[Chunk], list[str]]]) -> str:
    if config.language != "auto":
        return config.language
    text = " ".join(c.text for chunks, _ in sources.values() for c in chunks)[:20000]
    if len(text) < 200:  # no sources to speak of: the dialogues' own majority language
        text = " ".join(t.content for d in dialogues for t in d.turns if t.role == "user")[:20000]
    if not text.strip():
        return "any"
    return filters.detect_language(text)[0]


def _read_verdicts(path: Path) -> list[dict]:
    try:
        return list(read_records(path))
    except ValueError as exc:
        raise InputFileError(str(exc)) from None


def _write_verified(path: Path, dialogues: list[Dialogue], verdicts: dict[str, Verdict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for d in dialogues:
            v = verdicts.get(d.id)
            if v is None or v.decision not in ("keep", "fix"):
                continue
            record = d.to_dict()
            originals = {}
            for key, text in v.fixed_turns.items():
                originals[key] = record["turns"][int(key)]["content"]
                record["turns"][int(key)]["content"] = text
            record["meta"] = {**record.get("meta", {}), "verification": {
                "decision": v.decision, "reasons": v.reasons, "scores": v.scores, "original_turns": originals}}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(path)
