"""The example knowledge shipped in ``mimir/assets/examples/``: a fictional clinic handbook, an on-call
rota and held-out questions with key facts (used by tests, the app's one-click demo and the
evaluation experiment)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mimir.errors import InputFileError
from mimir.resources import package_path

EXAMPLES_DIR = package_path("assets", "examples")
QUESTIONS_FILE = "questions.jsonl"


def example_files() -> list[Path]:
    """The knowledge files of the example (everything but the questions file)."""
    if not EXAMPLES_DIR.is_dir():
        raise InputFileError(f"{EXAMPLES_DIR}: example folder missing; reinstall MIMIR (pip install .)")
    return sorted(p for p in EXAMPLES_DIR.iterdir() if p.is_file() and p.name != QUESTIONS_FILE and not p.name.startswith("."))


def example_questions(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Held-out questions: dicts with id, question, answer, key_facts (verbatim in the handbook), section."""
    path = Path(path) if path else EXAMPLES_DIR / QUESTIONS_FILE
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise InputFileError(f"{path.name}: line {number} is not valid JSON") from None
        missing = {"id", "question", "answer", "key_facts"} - set(record)
        if missing:
            raise InputFileError(f"{path.name}: line {number} lacks {', '.join(sorted(missing))}")
        questions.append(record)
    return questions


def load_example_kb(folder: str | Path):  # type: ignore[no-untyped-def]
    """A knowledge base over the example files in ``folder`` (built once, then just opened)."""
    from mimir.knowledge.store import KnowledgeBase

    kb = KnowledgeBase.create(folder, exist_ok=True)
    report = kb.add_files(example_files())
    if report.errors:
        raise InputFileError("; ".join(cause for _, cause in report.errors))
    return kb
