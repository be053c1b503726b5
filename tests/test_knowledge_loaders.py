"""Each format, from a real file made in the test, loads into blocks with provenance and is searchable."""

from __future__ import annotations

import json

import pytest

from mimir.knowledge import KnowledgeBase, KnowledgeConfig
from mimir.knowledge.chunking import chunk_document
from mimir.knowledge.loaders import load_document


def make_pdf(path, pages):
    """pages: list of lists of (style, text); style 'h' heading or 'p' paragraph."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    story = []
    for index, page in enumerate(pages):
        if index:
            story.append(PageBreak())
        for style, text in page:
            story.append(Paragraph(text, styles["Heading2" if style == "h" else "BodyText"]))
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path


def make_docx(path):
    import docx

    document = docx.Document()
    document.add_heading("Riverbend Pharmacy Guide", level=1)
    document.add_heading("Opening", level=2)
    document.add_paragraph("The pharmacy window opens at 08:15 and the pharmacist on duty is Lena Vasquez.")
    document.add_paragraph("Bring the blue prescription card", style="List Bullet")
    document.add_heading("Stock", level=2)
    table = document.add_table(rows=3, cols=2)
    for r, (a, b) in enumerate([("Drug", "Reorder level"), ("Halvorin", "40 boxes"), ("Corvalex", "25 boxes")]):
        table.cell(r, 0).text, table.cell(r, 1).text = a, b
    document.save(str(path))
    return path


def test_markdown_headings_lists_and_table_rows(tmp_path):
    path = tmp_path / "guide.md"
    path.write_text("# Guide\n\nIntro line.\n\n## Doses\n\n- Halvorin: 250 mg\n  every 8 hours\n- Drovanex: 5 mg\n\n"
                    "| Test | Limit |\n| --- | --- |\n| INR | above 4.5 |\n\n```\ncode block\n```\n\nSetext Title\n============\n\nBody.\n")
    doc = load_document(path)
    kinds = [(b.kind, b.heading, doc.block_text(b)) for b in doc.blocks]
    assert ("paragraph", "Guide", "Intro line.") in kinds
    assert ("list", "Guide > Doses", "- Halvorin: 250 mg\n  every 8 hours") in kinds
    assert ("table_row", "Guide > Doses", "| INR | above 4.5 |") in kinds
    assert not any("---" in text for _, _, text in kinds)  # table rule dropped
    assert ("code", "Guide > Doses", "```\ncode block\n```") in kinds
    assert ("paragraph", "Setext Title", "Body.") in kinds
    for block in doc.blocks:  # spans are exact slices of the file text
        assert path.read_text()[block.start : block.end] == doc.block_text(block)


def test_text_utf16_and_crlf(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes("First paragraph.\r\n\r\nSecond – with a dash.\r\n".encode("utf-16"))
    doc = load_document(path)
    assert [doc.block_text(b) for b in doc.blocks] == ["First paragraph.", "Second – with a dash."]


def test_pdf_pages_headings_and_search(tmp_path):
    path = make_pdf(tmp_path / "handbook.pdf", [
        [("h", "1. Laboratory"), ("p", "Potassium above 6.2 mmol/L is a critical value and must be phoned within 30 minutes.")],
        [("h", "2. Emergencies"), ("p", "The evacuation assembly point is Parking Lot C next to the blue flagpole.")],
    ])
    doc = load_document(path)
    assert doc.meta["pages"] == 2
    pages = {b.page for b in doc.blocks}
    assert pages == {1, 2}
    lot = next(b for b in doc.blocks if "Parking Lot C" in doc.block_text(b))
    assert lot.page == 2 and lot.heading == "2. Emergencies"
    kb = KnowledgeBase.create(tmp_path / "kb")
    assert kb.add_files([path]).added == ["handbook.pdf"]
    chunk, _ = kb.search("where do we assemble when evacuating", k=1)[0]
    assert chunk.page == 2 and "Parking Lot C" in chunk.text and chunk.source == "handbook.pdf"


def test_docx_headings_lists_and_tables(tmp_path):
    doc = load_document(make_docx(tmp_path / "pharmacy.docx"))
    blocks = [(b.kind, b.heading, doc.block_text(b), b.row) for b in doc.blocks]
    assert ("paragraph", "Riverbend Pharmacy Guide > Opening",
            "The pharmacy window opens at 08:15 and the pharmacist on duty is Lena Vasquez.", None) in blocks
    assert ("list", "Riverbend Pharmacy Guide > Opening", "- Bring the blue prescription card", None) in blocks
    assert ("table_row", "Riverbend Pharmacy Guide > Stock", "Drug: Halvorin; Reorder level: 40 boxes", 2) in blocks


def test_html_drops_boilerplate_and_keeps_structure(tmp_path):
    path = tmp_path / "visiting.html"
    path.write_text(
        "<html><head><title>Visitors</title><script>var token='x';</script><style>p{}</style></head><body>"
        "<nav><a href='/'>Home</a> | <a href='/about'>About</a></nav><article><h1>Visiting hours</h1>"
        "<p>Visiting hours on the Cedar Wing are 14:00 to 20:00 every day.</p><h2>Parking</h2>"
        "<p>Visitors park free for 90 minutes in Lot B.</p></article></body></html>"
    )
    doc = load_document(path)
    assert "var token" not in doc.text and "p{}" not in doc.text
    parking = next(b for b in doc.blocks if "Lot B" in doc.block_text(b))
    assert parking.heading.endswith("Parking")


def test_csv_rows_become_labelled_records_and_formulas_are_defused(tmp_path):
    path = tmp_path / "rota.csv"
    path.write_text("week,physician,pager\n2026-02-02,Dr. Amara Okafor,41\n2026-02-09,=HYPERLINK(\"http://x\"),-42\n")
    doc = load_document(path)
    texts = [doc.block_text(b) for b in doc.blocks]
    assert texts[0] == "week: 2026-02-02; physician: Dr. Amara Okafor; pager: 41"
    assert texts[1].startswith("week: 2026-02-09; physician: '=HYPERLINK") and "pager: -42" in texts[1]
    assert [b.row for b in doc.blocks] == [1, 2]
    assert any("neutralised" in w for w in doc.warnings)
    chunks = chunk_document(doc)
    assert [c.row for c in chunks] == [1, 2]  # one chunk per row


def test_csv_semicolon_delimiter_is_sniffed(tmp_path):
    path = tmp_path / "stock.csv"
    path.write_text("drug;boxes\nHalvorin;40\nCorvalex;25\n")
    assert load_document(path).text.startswith("drug: Halvorin; boxes: 40")


def test_json_records_and_nested_fields(tmp_path):
    path = tmp_path / "formulary.json"
    path.write_text(json.dumps({"owner": "Lena Vasquez", "drugs": [
        {"name": "Halvorin", "dose": {"adult": "250 mg every 8 hours"}, "tags": ["headache", "adult"]},
        {"name": "Drovanex", "dose": {"adult": "5 mg at bedtime"}}]}))
    doc = load_document(path)
    texts = {doc.block_text(b): b for b in doc.blocks}
    assert "owner: Lena Vasquez" in texts
    record = texts["name: Halvorin\ndose.adult: 250 mg every 8 hours\ntags: headache, adult"]
    assert record.kind == "record" and record.row == 1 and record.heading == "drugs"


def test_jsonl_one_record_per_line_with_line_numbers(tmp_path):
    path = tmp_path / "faq.jsonl"
    path.write_text('{"q": "Parking?", "a": "Lot B"}\n\n{"q": "Wifi?", "a": "RB-Guest"}\n')
    doc = load_document(path)
    assert [(b.row, doc.block_text(b)) for b in doc.blocks] == [(1, "q: Parking?\na: Lot B"), (3, "q: Wifi?\na: RB-Guest")]


def test_mixed_upload_every_format_in_one_kb(tmp_path):
    files = [
        make_pdf(tmp_path / "a.pdf", [[("p", "The pneumatic tube station code is TUBE-31.")]]),
        make_docx(tmp_path / "b.docx"),
    ]
    (tmp_path / "c.html").write_text("<html><body><p>The chapel is on level 2 near the east lifts.</p></body></html>")
    (tmp_path / "d.csv").write_text("room,use\nB7,infusion suite\n")
    (tmp_path / "e.json").write_text('{"wifi": "RB-Guest"}')
    (tmp_path / "f.jsonl").write_text('{"porter": "ext 2410"}\n')
    (tmp_path / "g.txt").write_text("Lost property is kept for 30 days.")
    (tmp_path / "h.md").write_text("# Car park\n\nBarrier code 7781.")
    files += [tmp_path / n for n in ("c.html", "d.csv", "e.json", "f.jsonl", "g.txt", "h.md")]
    kb = KnowledgeBase.create(tmp_path / "kb", KnowledgeConfig(chunk_tokens=60, overlap_tokens=10))
    report = kb.add_files(files)
    assert report.errors == [] and len(report.added) == 8
    for query, fact in [("pneumatic tube code", "TUBE-31"), ("reorder level Corvalex", "25 boxes"), ("chapel", "level 2"),
                        ("infusion suite room", "B7"), ("wifi network", "RB-Guest"), ("porter extension", "2410"),
                        ("lost property", "30 days"), ("barrier code", "7781")]:
        assert any(fact in c.text for c, _ in kb.search(query, k=2)), query
