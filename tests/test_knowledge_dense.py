"""Dense and hybrid retrieval with the packaged all-MiniLM-L6-v2 (slow: loads sentence-transformers)."""

from __future__ import annotations

import pytest

from mimir.knowledge import KnowledgeBase, KnowledgeConfig, example_files, example_questions


@pytest.mark.slow
def test_dense_and_hybrid_recall_at_5_and_saved_embeddings(tmp_path):
    kb = KnowledgeBase.create(tmp_path / "kb", KnowledgeConfig(chunk_tokens=60, overlap_tokens=12))
    kb.add_files(example_files())
    questions = example_questions()
    recall = {}
    for mode in ("dense", "hybrid"):
        hits = 0
        results = kb.search_many([q["question"] for q in questions], k=5, mode=mode)
        assert results[0] == kb.search(questions[0]["question"], k=5, mode=mode)
        for q, top in zip(questions, results):
            hits += any(all(f in c.text for f in q["key_facts"]) for c, _ in top)
        recall[mode] = hits / len(questions)
    assert recall["dense"] >= 0.9 and recall["hybrid"] >= 0.9, recall
    # the lexical gap BM25 cannot cross ("nursing mothers" vs "breastfeeding") dense can
    top = kb.search("Is there a private space for nursing mothers?", k=3, mode="dense")
    assert any("Lark Room" in c.text for c, _ in top)

    assert (tmp_path / "kb" / "index" / "dense" / "embeddings.npy").is_file()
    reopened = KnowledgeBase.open(tmp_path / "kb")
    assert reopened.search("isolation room", k=1, mode="dense")
    assert reopened.index_builds == 0  # embeddings loaded, not recomputed

    # adding a file keeps the dense index in step (rebuilt at commit because it is in use)
    extra = tmp_path / "extra.md"
    extra.write_text("# Chapel\n\nThe multi-faith chapel is on level 2 beside the east lifts.")
    reopened.add_files([extra])
    assert reopened.search("where can I pray", k=3, mode="dense")[0][0].source == "extra.md"
