"""Retrieval figures on the example knowledge: recall@5 per mode, index reload vs rebuild, batched
dense queries vs one by one. Prints measured numbers and ratios (run: python benchmarks/retrieval.py).

    --skip-dense     BM25 only (no sentence-transformers load)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mimir.knowledge import KnowledgeBase, KnowledgeConfig, example_files, example_questions  # noqa: E402


def recall_at_5(kb: KnowledgeBase, mode: str) -> tuple[float, float]:
    questions = example_questions()
    results = kb.search_many([q["question"] for q in questions], k=5, mode=mode)
    hit = lambda chunk, q: all(f in chunk.text for f in q["key_facts"])  # noqa: E731
    at5 = sum(any(hit(c, q) for c, _ in top) for q, top in zip(questions, results)) / len(questions)
    at1 = sum(bool(top) and hit(top[0][0], q) for q, top in zip(questions, results)) / len(questions)
    return at5, at1


def big_corpus(folder: Path, copies: int) -> list[Path]:
    """The handbook repeated with renamed facts: a few thousand chunks to time index builds on."""
    text = (example_files()[1]).read_text(encoding="utf-8")
    paths = []
    for i in range(copies):
        path = folder / f"handbook-{i:03d}.md"
        path.write_text(text.replace("Riverbend", f"Clinic{i}").replace("2147", str(3000 + i)), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-dense", action="store_true")
    parser.add_argument("--copies", type=int, default=200)
    args = parser.parse_args()
    modes = ["bm25"] if args.skip_dense else ["bm25", "dense", "hybrid"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for tokens, overlap in ((60, 12), (120, 24)):
            kb = KnowledgeBase.create(tmp / f"kb{tokens}", KnowledgeConfig(chunk_tokens=tokens, overlap_tokens=overlap))
            kb.add_files(example_files())
            for mode in modes:
                at5, at1 = recall_at_5(kb, mode)
                print(f"chunk_tokens={tokens:3} chunks={len(kb):3} {mode:6}  recall@5={at5:.3f}  recall@1={at1:.3f}")

        docs = tmp / "docs"
        docs.mkdir()
        kb = KnowledgeBase.create(tmp / "big")
        start = time.perf_counter()
        kb.add_files(big_corpus(docs, args.copies))
        add_s = time.perf_counter() - start
        start = time.perf_counter()
        reopened = KnowledgeBase.open(tmp / "big")
        reopened.chunks()
        open_s = time.perf_counter() - start
        from mimir.knowledge.retrieval import BM25Index
        from mimir.knowledge.store import index_text

        start = time.perf_counter()
        reopened.search("critical potassium", k=5)  # loads the saved index
        reload_s = time.perf_counter() - start
        assert reopened.index_builds == 0
        texts = [index_text(c) for c in reopened.chunks()]
        start = time.perf_counter()
        BM25Index().build(texts)
        build_s = time.perf_counter() - start
        print(f"big KB: {len(reopened)} chunks from {args.copies} files; add (load+chunk+index) {add_s:.2f}s; "
              f"open + read chunks {open_s:.3f}s")
        print(f"BM25 index load + first search {reload_s:.3f}s vs rebuild {build_s:.3f}s "
              f"(rebuild/reload = {build_s / reload_s:.1f}x)")
        queries = [q["question"] for q in example_questions()]
        start = time.perf_counter()
        for q in queries:
            reopened.search(q, k=5, mode="bm25")
        per_query = (time.perf_counter() - start) / len(queries)
        print(f"BM25 query latency over {len(reopened)} chunks: {per_query * 1000:.1f} ms")

        if not args.skip_dense:
            small = KnowledgeBase.open(tmp / "kb60")
            small.search("warm up", k=1, mode="dense")
            fresh = [f"{q} (variant)" for q in queries]
            start = time.perf_counter()
            for q in fresh:
                small.search(q, k=5, mode="dense")
            one_by_one = time.perf_counter() - start
            fresh = [f"{q} (batch)" for q in queries]
            start = time.perf_counter()
            small.search_many(fresh, k=5, mode="dense")
            batched = time.perf_counter() - start
            print(f"dense, {len(queries)} queries: one by one {one_by_one:.2f}s, search_many {batched:.2f}s "
                  f"(speed-up {one_by_one / batched:.1f}x)")


if __name__ == "__main__":
    main()
