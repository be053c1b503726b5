"""Eval sets generated from knowledge chunks: key facts from the text, questions that do not leak them."""

from __future__ import annotations

from mimir.evaluate.judges.reference import fact_recall
from mimir.evaluate.knowledge_questions import questions_from_knowledge
from mimir.models.scripted import ScriptedModel
from mimir.types import Chunk

TEXT = (
    "The laboratory lead is Tomasz Wierzbicki. Specimens are collected at 10:15 and 15:40 each weekday.\n\n"
    "A needle-stick injury must be reported within 2 hours. Staff gather in Parking Lot C during an evacuation."
)
CHUNKS = [Chunk(id="c1", text=TEXT, source="handbook.md", heading="Laboratory")]


def test_cloze_questions_blank_their_key_fact_and_keep_provenance():
    questions, counts = questions_from_knowledge(CHUNKS, n=10, style="cloze")
    assert counts["fact_sentences"] == len(questions) >= 3
    for q in questions:
        assert q.chunk_ids == ["c1"] and q.question.endswith("?") and "___" in q.question
        assert fact_recall(q.question, q.key_facts) == 0.0  # the question does not give it away
        assert fact_recall(q.answer, q.key_facts) == 1.0  # the reference states it
    assert any(q.key_facts == ["Tomasz Wierzbicki"] for q in questions)
    again, _ = questions_from_knowledge(CHUNKS, n=10, style="cloze")
    assert [q.id for q in again] == [q.id for q in questions]  # deterministic ids


def test_model_questions_that_leak_the_answer_are_dropped():
    def write(conversation):
        fact = conversation[-1]["content"].split("Fact: ")[1]
        return "Who leads the laboratory, Tomasz Wierzbicki?" if "Tomasz" in fact else "When does this happen?"

    questions, counts = questions_from_knowledge(CHUNKS, n=10, style="model", model=ScriptedModel(default=write))
    assert counts["dropped_leaky"] == 1
    assert all("Tomasz" not in q.question for q in questions) and questions


def test_natural_questions_are_built_like_the_training_questions():
    """The default style: what a person would ask, checked like training data, one key fact each."""
    from mimir.generate.questions import question_problem

    questions, counts = questions_from_knowledge(CHUNKS, n=10)
    texts = {q.question: q for q in questions}
    assert "Who is the laboratory lead?" in texts and texts["Who is the laboratory lead?"].key_facts == ["Tomasz Wierzbicki"]
    assert all(question_problem(q.question, q.answer, q.key_facts[0]) is None for q in questions)
    assert not any("___" in q or "fills the blank" in q for q in texts)
    assert counts["questions"] == len(questions) > 0 and questions == questions_from_knowledge(CHUNKS, n=10)[0]
