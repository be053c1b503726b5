"""Knowledge tab: adding a file embeds only its own chunks once dense search is in use; progress counts."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("gradio")

from mimir.knowledge.retrieval import DenseIndex  # noqa: E402
from mimir.ui.knowledge_tab import add_files, open_kb, search_chunks  # noqa: E402
from mimir.ui.session import Session  # noqa: E402


def _doc(folder, name, sentences):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"# {name}\n\n" + "\n\n".join(sentences) + "\n", encoding="utf-8")
    return path


def test_add_files_embeds_only_the_new_chunks_after_dense_search(tmp_path, monkeypatch):
    encoded: list[str] = []

    def fake_encode(self, texts):  # counts what is embedded; vectors from a hash, normalised
        encoded.extend(texts)
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=8) for t in texts]
        return np.asarray([r / np.linalg.norm(r) for r in rows], dtype="float32")

    monkeypatch.setattr(DenseIndex, "_encode", fake_encode)
    monkeypatch.setattr(DenseIndex, "__init__", lambda self, model="": (
        setattr(self, "model_name", "fake-model"), setattr(self, "_vectors", None), setattr(self, "_queries", {}),
        setattr(self, "_keys", []), setattr(self, "_known", {}))[0])
    session = Session.new(tmp_path / "runs")
    uploads = tmp_path / "up"
    first = _doc(uploads, "rota.md", [f"Week {i}: Dr. Felix Moreau covers the night shift on ward {i}." for i in range(12)])
    add_files(session, [str(first)])
    search_chunks(session, "who covers the night shift", 3, "dense")  # dense index now exists
    before = len(encoded)
    n_chunks_before = len(list(open_kb(session, create=False).chunks()))
    assert before >= n_chunks_before

    steps = []
    second = _doc(uploads, "hours.md", ["The clinic opens at 08:00 on Saturdays."])
    report, rows, summary = add_files(session, [str(second)], progress=lambda value, desc="": steps.append((value, desc)))
    n_chunks_after = len(list(open_kb(session, create=False).chunks()))
    new_chunks = n_chunks_after - n_chunks_before
    assert new_chunks >= 1
    assert len(encoded) - before == new_chunks, "adding a file re-embedded old chunks"
    assert steps and steps[0][0] == (0, 1) and "hours.md" in steps[0][1]
    hits = search_chunks(session, "Saturday opening", 1, "dense")
    assert len(hits) == 1
