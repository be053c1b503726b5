"""Baselines on the same knowledge: original data, self-instruct (ROUGE-L dedup), Baize self-chat."""

from __future__ import annotations

import itertools
import json

from mimir.generate import build_baseline, export_for_training
from mimir.generate.config import BaselineConfig
from mimir.models.scripted import ScriptedModel
from mimir.types import Chunk
from tests.test_generate_engine import CHUNKS

QA = Chunk(id="qa1", source="faq", kind="qa", text="Q/A", question="Where is the isolation room?", answer="Room C3.")
HELD = Chunk(id="qa2", source="faq", kind="qa", text="Q/A", question="What are the Saturday opening hours?", answer="08:00 to 13:00.")


def holdout_file(tmp_path):
    path = tmp_path / "questions.jsonl"
    path.write_text(json.dumps({"id": "q1", "question": "What are the Saturday opening hours?"}) + "\n")
    return str(path)


def test_original_pairs_and_holdout(tmp_path):
    config = BaselineConfig(kind="original", holdout_questions=holdout_file(tmp_path))
    out = tmp_path / "o.jsonl"
    ds = build_baseline("original", CHUNKS + [QA, HELD], None, out, 10, config=config)
    assert len(ds) == 4 and {d.source for d in ds} == {"original"}
    qa = next(d for d in ds if d.scenario.chunk_ids == ["qa1"])
    assert [t.content for t in qa.turns] == ["Where is the isolation room?", "Room C3."]
    passage = ds[0]
    assert passage.turns[0].content == "What does the handbook.md say about Opening hours?"
    assert passage.turns[1].content == CHUNKS[0].text and passage.turns[1].role == "assistant"
    assert not any("Saturday opening hours?" in t.content for d in ds for t in d.turns)
    # resumable: a rerun adds nothing
    build_baseline("original", CHUNKS + [QA, HELD], None, out, 10, config=config)
    assert sum(1 for _ in out.open()) == 4
    rows = export_for_training(ds)
    assert rows[0]["messages"][-1]["role"] == "assistant" and rows[0]["metadata"]["source"] == "original"


def test_self_instruct_dedups_with_rouge_l(tmp_path):
    tasks = itertools.cycle([
        "Write a poem about the clinic garden.",
        "Write a poem about the clinic garden!",  # near-duplicate: ROUGE-L 1.0
        "List three ways to reduce waiting times at a front desk.",
        "Explain how to store vaccines safely in a fridge.",
        "Describe the duties of a fire warden during a drill.",
    ])

    def model(conversation):
        if conversation[0]["role"] == "system":
            return "Answer to: " + conversation[-1]["content"]
        return "4. " + next(tasks)

    scripted = ScriptedModel(default=model)
    ds = build_baseline("self-instruct", CHUNKS, scripted, tmp_path / "si.jsonl", 4,
                        config=BaselineConfig(kind="self-instruct", n=4))
    instructions = [d.turns[0].content for d in ds]
    assert len(ds) == 4 and len(set(instructions)) == 4
    assert "Write a poem about the clinic garden!" not in instructions
    assert all(d.turns[1].content == "Answer to: " + d.turns[0].content for d in ds)
    prompts = [c for c, _ in scripted.calls if c[0]["role"] == "user"]
    assert "Here are some example tasks" in prompts[0][0]["content"]
    # seeded with the knowledge: each task is written about a passage, answered with that passage as data
    assert all(d.scenario.chunk_ids and d.scenario.chunk_ids[0] in {c.id for c in CHUNKS} for d in ds)
    assert any(c.text[:40] in prompts[0][0]["content"] for c in CHUNKS)
    answers = [c for c, _ in scripted.calls if c[0]["role"] == "system"]
    assert all("<<<DATA" in c[0]["content"] for c in answers)


def test_self_instruct_gives_up_when_model_repeats(tmp_path):
    scripted = ScriptedModel(default=lambda c: "Answer." if c[0]["role"] == "system" else "Write a poem about the clinic garden.")
    ds = build_baseline("self-instruct", CHUNKS, scripted, tmp_path / "si.jsonl", 5, config=BaselineConfig(kind="self-instruct"))
    assert len(ds) == 1  # one kept, the rest are duplicates; it stops instead of looping forever


def test_baize_self_chat_one_model_both_sides(tmp_path):
    def both_sides(conversation):
        system = conversation[0]["content"]
        if system.startswith("You are the human"):
            return "And what about Sundays?"
        return "We are open on weekdays; see the handbook."

    scripted = ScriptedModel(default=both_sides)
    ds = build_baseline("baize", CHUNKS, scripted, tmp_path / "b.jsonl", 3, config=BaselineConfig(kind="baize", baize_turns=4))
    assert len(ds) == 3 and all(d.status == "ok" for d in ds)
    d = ds[0]
    assert [t.role for t in d.turns] == ["user", "assistant", "user", "assistant"]
    # seeded with a question about the knowledge (one per chunk before any chunk repeats)
    assert d.turns[0].content == "During what hours is the clinic open Monday to Friday?"
    assert d.turns[2].content == "And what about Sundays?"
    assert len({x.scenario.chunk_ids[0] for x in ds}) == 3 and len({x.turns[0].content for x in ds}) == 3
    # the AI side answers with the seed's passage as reference data; the human side never sees it
    ai_requests = [c for c, _ in scripted.calls if not c[0]["content"].startswith("You are the human")]
    assert "07:30 to 19:00" in ai_requests[0][0]["content"] and "<<<DATA" in ai_requests[0][0]["content"]
    assert not any("<<<DATA" in c[0]["content"] for c, _ in scripted.calls if c[0]["content"].startswith("You are the human"))
    # the human side sees the AI's words as the other party's (roles swapped)
    human_requests = [c for c, _ in scripted.calls if c[0]["content"].startswith("You are the human")]
    assert human_requests[0][-1]["role"] == "user" and "weekdays" in human_requests[0][-1]["content"]
