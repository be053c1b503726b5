"""The real engine on the real embedded model (small and greedy, so it stays quick on CPU)."""

from __future__ import annotations

import pytest

from mimir.generate import GenerateConfig, export_for_training, fact_share, generate_dialogues
from mimir.types import Chunk

CHUNKS = [
    Chunk(id="c1", source="handbook.md", heading="Laboratory", text="The laboratory lead is Tomasz Wierzbicki. Specimens are collected at 10:15."),
    Chunk(id="c2", source="handbook.md", heading="Registration", text="Walk-in registration closes at 17:45 on weekdays and at 12:00 on Saturdays."),
]


@pytest.mark.slow
def test_embedded_model_generates_grounded_dialogues(tmp_path, embedded_model):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on a shared CPU one thread is many times faster than two fighting
    try:
        config = GenerateConfig(output=str(tmp_path / "d.jsonl"), max_new_tokens=32, max_turns=4, facts_per_dialogue=2,
                                questions_per_fact=1, question_style="template", retrieval_k=0, tools=[])
        dialogues = generate_dialogues(CHUNKS, config, embedded_model)
    finally:
        torch.set_num_threads(threads)
    assert len(dialogues) == 2 and all(d.status == "ok" for d in dialogues), [d.error for d in dialogues]
    assert all(sum(t.role != "tool" for t in d.turns) == 4 for d in dialogues)
    assert len({t.content for t in dialogues[1].turns if t.role == "user"}) == 2  # two different questions
    assert all(t.content for d in dialogues for t in d.turns)
    assert fact_share(dialogues, CHUNKS)["expert_turns"] >= 2
    rows = export_for_training(dialogues)
    assert len(rows) == 2 and rows[0]["messages"][2]["role"] == "assistant"


@pytest.mark.slow
def test_continuous_batching_writes_the_same_dialogues_as_rounds(tmp_path, embedded_model):
    """Turns join and leave the local backend's batch as they come; with greedy decoding the
    dialogues are the same as when every round waits for its slowest reply."""
    config = dict(max_new_tokens=24, max_turns=4, facts_per_dialogue=2, questions_per_fact=2, question_style="model",
                  retrieval_k=0, frameworks=["none"], tools=[])
    continuous = generate_dialogues(CHUNKS, GenerateConfig(output=str(tmp_path / "a.jsonl"), **config), embedded_model)
    cache = embedded_model.prefix_cache
    embedded_model.prefix_cache = None  # rounds of transformers' generate
    try:
        rounds = generate_dialogues(CHUNKS, GenerateConfig(output=str(tmp_path / "b.jsonl"), **config), embedded_model)
    finally:
        embedded_model.prefix_cache = cache
    assert len(continuous) == 4 and all(d.status == "ok" for d in continuous)
    assert [[t.content for t in d.turns] for d in continuous] == [[t.content for t in d.turns] for d in rounds]
