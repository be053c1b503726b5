"""Eval sets: a question file, a Hub/local dataset, or questions generated from the knowledge.

Every question may carry a reference answer and key facts (exact strings the reference judge
looks for). :func:`find_leaks` checks that no eval question text appears in training data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from mimir.errors import InputFileError
from mimir.types import Record, stable_id


@dataclass
class EvalQuestion(Record):
    """One eval question, with what a good answer must contain."""

    id: str
    question: str
    answer: str = ""  # reference answer (may be empty)
    key_facts: list[str] = field(default_factory=list)  # exact strings a correct answer states
    section: str = ""
    chunk_ids: list[str] = field(default_factory=list)  # provenance when generated from knowledge
    meta: dict[str, Any] = field(default_factory=dict)


def _question_from_row(row: dict[str, Any], where: str, fields: dict[str, str]) -> EvalQuestion:
    qf, af, ff = fields["question"], fields["answer"], fields["key_facts"]
    text = row.get(qf)
    if not isinstance(text, str) or not text.strip():
        raise InputFileError(f"{where}: field {qf!r} must be a non-empty string (got {text!r})")
    facts = row.get(ff) or []
    if isinstance(facts, str):
        facts = [facts]
    if not isinstance(facts, list) or not all(isinstance(f, str) for f in facts):
        raise InputFileError(f"{where}: field {ff!r} must be a list of strings")
    answer = row.get(af) or ""
    if not isinstance(answer, str):
        raise InputFileError(f"{where}: field {af!r} must be a string")
    qid = str(row.get("id") or stable_id(text.strip(), prefix="q_", length=12))
    return EvalQuestion(
        id=qid, question=text.strip(), answer=answer.strip(), key_facts=[f for f in facts if f.strip()],
        section=str(row.get("section") or ""),
    )


DEFAULT_FIELDS = {"question": "question", "answer": "answer", "key_facts": "key_facts"}


def load_questions(path: str | Path, fields: dict[str, str] | None = None) -> list[EvalQuestion]:
    """Questions from a ``.jsonl`` or ``.json`` file (list of objects with ``question`` ...)."""
    path = Path(path)
    fields = {**DEFAULT_FIELDS, **(fields or {})}
    if not path.is_file():
        raise InputFileError(f"question file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    rows: list[tuple[str, Any]]
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(data, list):
            raise InputFileError(f"{path}: expected a JSON list of question objects")
        rows = [(f"{path}[{i}]", r) for i, r in enumerate(data)]
    else:
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append((f"{path}:{n}", json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise InputFileError(f"{path}: line {n} is not valid JSON ({exc})") from None
    questions = []
    for where, row in rows:
        if not isinstance(row, dict):
            raise InputFileError(f"{where}: expected an object with a {fields['question']!r} field")
        questions.append(_question_from_row(row, where, fields))
    return _check_unique(questions, str(path))


def load_dataset_questions(
    name_or_path: str, split: str = "test", fields: dict[str, str] | None = None, limit: int | None = None
) -> list[EvalQuestion]:
    """Questions from a Hub dataset id or a local dataset folder/file, through ``datasets``."""
    import datasets

    fields = {**DEFAULT_FIELDS, **(fields or {})}
    local = Path(name_or_path)
    if local.is_file():
        kind = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}.get(local.suffix)
        if kind is None:
            raise InputFileError(f"{local}: unsupported dataset file type {local.suffix!r} (use jsonl, json, csv or parquet)")
        ds = datasets.load_dataset(kind, data_files=str(local), split="train")
    elif local.is_dir() and any((local / n).exists() for n in ("dataset_info.json", "dataset_dict.json")):
        ds = datasets.load_from_disk(str(local))
        ds = ds[split] if isinstance(ds, datasets.DatasetDict) else ds
    else:
        ds = datasets.load_dataset(name_or_path, split=split)
    if fields["question"] not in ds.column_names:
        raise InputFileError(
            f"dataset {name_or_path}: no column {fields['question']!r}; columns are {', '.join(ds.column_names)}"
        )
    rows = ds if limit is None else ds.select(range(min(limit, len(ds))))
    questions = [_question_from_row(dict(r), f"{name_or_path}[{i}]", fields) for i, r in enumerate(rows)]
    return _check_unique(questions, name_or_path)


def _check_unique(questions: list[EvalQuestion], where: str) -> list[EvalQuestion]:
    if not questions:
        raise InputFileError(f"{where}: contains no questions")
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise InputFileError(f"{where}: question id {q.id!r} appears twice; ids must be unique")
        seen.add(q.id)
    return questions


def save_questions(questions: Iterable[EvalQuestion], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(q.to_dict(), ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    return path


# --- leakage: eval question text must never appear in training data -------------------------

def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def find_leaks(questions: Iterable[EvalQuestion], training_texts: Iterable[str]) -> dict[str, int]:
    """Question id -> number of training texts that contain the question (normalised) verbatim."""
    needles = {q.id: _norm(q.question) for q in questions}
    leaks: dict[str, int] = {}
    for text in training_texts:
        hay = f" {_norm(text)} "
        for qid, needle in needles.items():
            if needle and f" {needle} " in hay:
                leaks[qid] = leaks.get(qid, 0) + 1
    return leaks


def record_text(record: dict[str, Any]) -> str:
    """All the text of a training record (``messages`` chat format or any JSON)."""
    messages = record.get("messages")
    if isinstance(messages, list):  # tool-call arguments too: a retriever query is often the question itself
        return "\n".join([str(m.get("content") or "") for m in messages if isinstance(m, dict)]
                         + [str((c.get("function") or c).get("arguments") or "") for m in messages if isinstance(m, dict)
                            for c in m.get("tool_calls") or [] if isinstance(c, dict)])
    return json.dumps(record, ensure_ascii=False)


def drop_leaking_records(
    questions: list[EvalQuestion], source: str | Path, target: str | Path
) -> tuple[int, int]:
    """Copy a training JSONL, leaving out records that contain an eval question; (kept, dropped)."""
    from mimir.jsonl import read_records

    kept = dropped = 0
    lines = []
    for record in read_records(source):
        if find_leaks(questions, [record_text(record)]):
            dropped += 1
            continue
        kept += 1
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    Path(target).write_text("".join(lines), encoding="utf-8")
    return kept, dropped
