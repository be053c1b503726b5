"""The example knowledge: questions are well-formed and their key facts are verbatim in the sources."""

from __future__ import annotations

import re

import pytest

from mimir.knowledge import EXAMPLES_DIR, KnowledgeBase, KnowledgeConfig, example_files, example_questions

HANDBOOK = EXAMPLES_DIR / "riverbend-clinic-handbook.md"


def test_questions_file_is_complete_and_key_facts_are_verbatim():
    text = HANDBOOK.read_text(encoding="utf-8")
    headings = set(re.findall(r"^#{1,6} (.+)$", text, flags=re.M))
    questions = example_questions()
    assert len(questions) >= 36
    assert len({q["id"] for q in questions}) == len(questions)
    for q in questions:
        assert q["question"].strip().endswith("?"), q["id"]
        assert q["answer"].strip(), q["id"]
        assert q["key_facts"], q["id"]
        assert q["section"] in headings, (q["id"], q["section"])
        for fact in q["key_facts"]:
            assert fact in text, f"{q['id']}: key fact {fact!r} is not verbatim in the handbook"
        # held-out: the question must not copy the handbook sentence that holds the fact
        assert q["question"].rstrip("?") not in text, q["id"]


def test_handbook_is_sizeable_and_structured():
    text = HANDBOOK.read_text(encoding="utf-8")
    assert 5_000 <= len(text.encode("utf-8")) <= 9_000
    assert 8 <= len(re.findall(r"^## ", text, flags=re.M)) <= 12
    assert {p.name for p in example_files()} >= {"riverbend-clinic-handbook.md", "on-call-rota.csv"}


def _recall_at_5(kb: KnowledgeBase, mode: str) -> float:
    questions = example_questions()
    hits = 0
    for q in questions:
        top = kb.search(q["question"], k=5, mode=mode)
        # a hit: one retrieved chunk holds every key fact of the question
        hits += any(all(fact in chunk.text for fact in q["key_facts"]) for chunk, _ in top)
    return hits / len(questions)


@pytest.mark.parametrize("chunk_tokens", [60, 120])
def test_bm25_recall_at_5_on_example_questions(tmp_path, chunk_tokens):
    kb = KnowledgeBase.create(tmp_path / "kb", KnowledgeConfig(chunk_tokens=chunk_tokens, overlap_tokens=12))
    kb.add_files(example_files())
    assert len(kb) > 15  # the handbook really is split, so top-5 is a real choice
    assert _recall_at_5(kb, "bm25") >= 0.9
