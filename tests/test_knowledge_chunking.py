"""Chunking: token budget, overlap inside a section, no merging across headings, exact spans, stable ids."""

from __future__ import annotations

from mimir.knowledge.chunking import chunk_document
from mimir.knowledge.documents import count_tokens
from mimir.knowledge.loaders import parse_bytes
from mimir.knowledge.retrieval import tokenize
from mimir.knowledge.retrieval import stem


def _doc(text: str, name: str = "doc.md"):
    return parse_bytes(text.encode(), name)


LONG = "# Manual\n\n## Alpha\n\n" + "\n\n".join(
    f"Paragraph {i} says the alpha valve number {i} opens at {i * 10} kPa." for i in range(30)
) + "\n\n## Beta\n\nBeta is short.\n"


def test_budget_overlap_and_section_boundaries():
    doc = _doc(LONG)
    chunks = chunk_document(doc, chunk_tokens=60, overlap_tokens=20)
    alpha = [c for c in chunks if c.heading == "Manual > Alpha"]
    beta = [c for c in chunks if c.heading == "Manual > Beta"]
    assert len(alpha) > 3 and len(beta) == 1
    assert beta[0].text == "Beta is short."  # never merged with the end of Alpha
    for chunk in chunks:
        assert count_tokens(chunk.text) <= 60
        assert doc.text[chunk.start : chunk.end] == chunk.text
    for first, second in zip(alpha, alpha[1:]):
        assert second.start < first.end  # overlap: the next chunk repeats the tail of the previous
        assert second.start > first.start  # and still moves forward
    covered = " ".join(c.text for c in alpha)
    assert all(f"Paragraph {i} " in covered for i in range(30))


def test_zero_overlap_means_disjoint_chunks():
    chunks = chunk_document(_doc(LONG), chunk_tokens=60, overlap_tokens=0)
    for first, second in zip(chunks, chunks[1:]):
        assert second.start >= first.end


def test_long_sentence_and_long_paragraph_are_split():
    sentences = " ".join(f"Sentence {i} mentions the rota." for i in range(40))
    words = " ".join(f"word{i}" for i in range(300))
    doc = _doc(f"# A\n\n{sentences}\n\n# B\n\n{words}\n")
    chunks = chunk_document(doc, chunk_tokens=50, overlap_tokens=0)
    a = [c for c in chunks if c.heading == "A"]
    b = [c for c in chunks if c.heading == "B"]
    assert len(a) >= 4 and all(c.text.endswith(".") for c in a)  # cut at sentence ends
    assert len(b) >= 6 and all(count_tokens(c.text) <= 50 for c in b)
    assert " ".join(c.text for c in b) == words


def test_ids_are_stable_and_depend_on_content():
    first = chunk_document(_doc(LONG), 60, 20)
    again = chunk_document(_doc(LONG), 60, 20)
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
    renamed = chunk_document(_doc(LONG, name="other.md"), 60, 20)
    assert not {c.id for c in first} & {c.id for c in renamed}
    edited = chunk_document(_doc(LONG.replace("Beta is short.", "Beta is longer now.")), 60, 20)
    assert [c.id for c in edited][:-1] == [c.id for c in first][:-1]
    assert edited[-1].id != first[-1].id


def test_rows_are_one_chunk_each_with_their_row_number():
    doc = parse_bytes(b"room,use\nB7,infusion\nC3,isolation\nW2,paediatrics\n", "rooms.csv")
    chunks = chunk_document(doc, 120, 24)
    assert [(c.row, c.text) for c in chunks] == [(1, "room: B7; use: infusion"), (2, "room: C3; use: isolation"),
                                                  (3, "room: W2; use: paediatrics")]


def test_tokenizer_and_stemmer():
    assert tokenize("Where do we assemble when evacuating?") == ["assembl", "evacu"]
    assert tokenize("call 555-0182 if K+ > 6.2 mmol/L") == ["call", "555-0182", "555", "0182", "k", "6.2", "6", "2",
                                                            "mmol/l", "mmol", "l"]
    # Porter's own examples (Program 14(3), 1980)
    for word, expected in [("caresses", "caress"), ("ponies", "poni"), ("relational", "relat"), ("hopping", "hop"),
                           ("generalizations", "gener"), ("oscillators", "oscil"), ("happy", "happi"), ("sky", "sky")]:
        assert stem(word) == expected, word
