"""Issue 16 — a crash during `knowledge add` leaves the knowledge base as before or fully after.

Before: killed after chunks.jsonl but before manifest.json, a base showed "0 sources, 53028
chunks", searchable and never removable. Here: a failure injected at every write of a commit,
and kill -9 at random moments of real `python -m mimir knowledge add` processes.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mimir.knowledge import KnowledgeBase
from mimir.knowledge import txn as txn_module

ROOT = Path(__file__).resolve().parents[1]


def _write_docs(folder: Path, tag: str, n: int, paragraphs: int = 40) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        body = "\n\n".join(
            f"Section {p} of note {tag}-{i}: the dosing rule {p} applies to ward {p % 7} and is checked twice daily."
            for p in range(paragraphs)
        )
        path = folder / f"{tag}-{i:02d}.md"
        path.write_text(f"# Note {tag}-{i}\n\nUnique code CODE-{tag}-{i:02d}.\n\n{body}\n")
        files.append(path)
    return files


def check_consistent(root: Path) -> dict[str, int]:
    """Every source has its stored document and exactly its chunks; no chunk without a source."""
    kb = KnowledgeBase.open(root)
    sources = kb.sources
    chunks = kb.chunks()
    per_source = Counter(str(c.meta.get("source_key", c.source)) for c in chunks)
    assert set(per_source) <= set(sources), f"chunks of unknown sources: {set(per_source) - set(sources)}"
    for name, entry in sources.items():
        assert per_source[name] == entry["chunks"], f"{name}: {per_source[name]} chunks, manifest says {entry['chunks']}"
        assert (root / entry["stored_as"]).is_file(), f"{name}: stored document missing"
    ids = [c.id for c in chunks]
    assert len(ids) == len(set(ids)), "duplicate chunk ids"
    documents = {p.name for p in (root / "documents").iterdir() if p.is_file()}
    assert documents == {Path(e["stored_as"]).name for e in sources.values()}, "stray or missing documents"
    if chunks:
        assert kb.search("dosing rule ward", k=3)
    return dict(per_source)


def test_a_failure_at_any_write_of_a_commit_leaves_the_old_or_the_new_state(tmp_path, monkeypatch):
    root = tmp_path / "kb"
    first = _write_docs(tmp_path / "first", "a", 2, paragraphs=3)
    second = _write_docs(tmp_path / "second", "b", 2, paragraphs=3)
    KnowledgeBase.create(root).add_files(first)
    before = check_consistent(root)
    real_replace = os.replace
    calls = {"n": 0}

    def counting(src, dst):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return real_replace(src, dst)

    monkeypatch.setattr(txn_module.os, "replace", counting)
    KnowledgeBase.open(root).add_files(second[:1])  # measure how many renames one commit makes
    writes = calls["n"]
    assert writes >= 3
    outcomes = Counter()
    for k in range(1, writes + 2):
        base = tmp_path / f"kb{k}"
        KnowledgeBase.create(base).add_files(first)
        calls["n"] = 0

        def crashing(src, dst, k=k):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == k:
                raise OSError(28, "No space left on device (injected)")
            return real_replace(src, dst)

        monkeypatch.setattr(txn_module.os, "replace", crashing)
        try:
            KnowledgeBase.open(base).add_files(second)
        except OSError:
            pass
        monkeypatch.setattr(txn_module.os, "replace", real_replace)
        state = check_consistent(base)
        assert state in (before, {**before, **{p.name: state.get(p.name, -1) for p in second}}), state
        outcomes["before" if state == before else "after"] += 1
    assert outcomes["before"] >= 1 and outcomes["after"] >= 1


def test_a_committed_but_unfinished_add_is_finished_on_open(tmp_path, monkeypatch):
    root = tmp_path / "kb"
    docs = _write_docs(tmp_path / "d", "c", 2, paragraphs=2)
    kb = KnowledgeBase.create(root)
    monkeypatch.setattr(txn_module, "finish", lambda root, manifest: None)  # die right after the commit point
    kb.add_files(docs)
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest.get("pending") and not (root / "documents" / docs[0].name).exists()
    monkeypatch.undo()
    state = check_consistent(root)  # open() rolls forward
    assert set(state) == {p.name for p in docs}
    assert "pending" not in json.loads((root / "manifest.json").read_text())


def _add(kb: Path, files: list[Path]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "mimir", "knowledge", "add", str(kb), *map(str, files)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_kill_9_at_random_points_of_knowledge_add_loses_and_duplicates_nothing(tmp_path, capsys):
    rng = random.Random(16)
    root = tmp_path / "kb"
    warm = _write_docs(tmp_path / "warm", "w", 1, paragraphs=2)
    assert _add(root, warm).wait(timeout=120) == 0
    batches = [_write_docs(tmp_path / f"batch{i}", f"k{i}", 6) for i in range(7)]
    started = time.monotonic()
    proc = _add(root, batches[0])
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()
    full = time.monotonic() - started
    kills = 0
    for files in batches[1:]:
        proc = _add(root, files)
        time.sleep(rng.uniform(0.5, 1.0) * full)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        check_consistent(root)  # as before or fully after, never in between
    everything = [f for batch in batches for f in batch] + warm
    assert _add(root, everything).wait(timeout=300) == 0  # the rerun completes what the kills cut
    state = check_consistent(root)
    kb = KnowledgeBase.open(root)
    texts = [c.text for c in kb.chunks()]
    lost = [f.name for f in everything if f.name not in state]
    duplicated = [f.name for f in everything if sum(f"CODE-{f.stem}" in t for t in texts) != 1]
    with capsys.disabled():
        print(f"\n[issue16] kill -9 during knowledge add: {kills} kills, {len(lost)} records lost, {len(duplicated)} duplicated")
    assert kills >= 3 and lost == [] and duplicated == []
