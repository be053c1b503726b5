"""Hostile and broken files: every one is an InputFileError that names the file, nothing crashes,
and the good files of the same upload still load."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from mimir.errors import InputFileError
from mimir.knowledge import KnowledgeBase, KnowledgeConfig
from mimir.knowledge.loaders import load_document

TINY = KnowledgeConfig(max_file_mb=0.001)  # ~1 KiB: for the "too large" cases


# ---------------------------------------------------------------- builders of valid files to break
def pdf_bytes(pages=1, text="Potassium above 6.2 mmol/L is critical.", draw_text=True, password=None) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer)
    for _ in range(pages):
        if draw_text:
            c.drawString(72, 720, text)
        else:
            c.rect(72, 600, 200, 100, fill=1)  # a "scan": marks, no text
        c.showPage()
    c.save()
    data = buffer.getvalue()
    if password:
        writer = PdfWriter()
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
        writer.encrypt(user_password=password, owner_password="owner", algorithm="AES-128")
        out = io.BytesIO()
        writer.write(out)
        data = out.getvalue()
    return data


def docx_bytes(text="Room B7 is the infusion suite.") -> bytes:
    import docx

    document = docx.Document()
    if text:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def rezip(data: bytes, replace: dict[str, bytes] | None = None, drop: set[str] = frozenset(), add: dict[str, bytes] | None = None) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            target.writestr(info.filename, (replace or {}).get(info.filename, source.read(info.filename)))
        for name, payload in (add or {}).items():
            target.writestr(name, payload)
    return out.getvalue()


def zip_bomb() -> bytes:
    return rezip(docx_bytes(), add={"word/media/bomb.bin": b"\0" * (30 * 1024 * 1024)})


def xxe_docx() -> bytes:
    base = docx_bytes()
    xml = zipfile.ZipFile(io.BytesIO(base)).read("word/document.xml").decode()
    evil = xml.replace("<?xml version='1.0' encoding='UTF-8' standalone='yes'?>",
                       "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>", 1)
    evil = evil.replace("Room B7 is the infusion suite.", "&x;", 1)
    return rezip(base, replace={"word/document.xml": evil.encode()})


def many_entries() -> bytes:
    return rezip(docx_bytes(), add={f"junk/{i}.txt": b"x" for i in range(5001)})


PDF = pdf_bytes()
DOCX = docx_bytes()
CASES: dict[str, list[tuple[str, bytes | callable, str, KnowledgeConfig | None]]] = {
    "pdf": [
        ("truncated", PDF[: len(PDF) // 2], r"corrupt|cannot be parsed|no text", None),
        ("header only", b"%PDF-1.7\n", r"corrupt|cannot be parsed|no pages", None),
        ("garbage after header", b"%PDF-1.4\n" + bytes(range(256)) * 20, r"corrupt|cannot be parsed|no pages", None),
        ("plain text renamed", b"just some notes, not a pdf", r"not a PDF", None),
        ("docx renamed", DOCX, r"not a PDF", None),
        ("html renamed", b"<html><body>hi</body></html>", r"not a PDF", None),
        ("encrypted", lambda: pdf_bytes(password="s3cret"), r"password-protected", None),
        ("scanned, no text", lambda: pdf_bytes(draw_text=False), r"no text could be extracted", None),
        ("too many pages", lambda: pdf_bytes(pages=3), r"3 pages is over the 2-page limit", KnowledgeConfig(max_pdf_pages=2)),
        ("too large", PDF, r"over the .* MiB limit", TINY),
        ("empty", b"", r"empty", None),
        ("zeroed body", PDF[:20] + b"\0" * (len(PDF) - 20), r"corrupt|cannot be parsed|no pages|no text", None),
    ],
    "docx": [
        ("zip bomb", zip_bomb, r"zip bomb", None),
        ("unzips too large", DOCX, r"possible zip bomb|over the", KnowledgeConfig(max_unzipped_mb=0.01)),
        ("not a zip", b"Room B7 is the infusion suite.", r"not a \.docx file", None),
        ("encrypted or legacy .doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, r"password-protected or legacy", None),
        ("zip without document.xml", lambda: rezip(DOCX, drop={"word/document.xml"}), r"not a Word document", None),
        ("truncated", DOCX[: len(DOCX) // 2], r"corrupt|truncated", None),
        ("broken xml", lambda: rezip(DOCX, replace={"word/document.xml": b"<w:document><unclosed>"}), r"cannot be parsed|corrupt", None),
        ("no text", lambda: docx_bytes(text=""), r"no text could be extracted", None),
        ("too many entries", many_entries, r"too many", None),
        ("pdf renamed", PDF, r"not a \.docx file", None),
        ("empty", b"", r"empty", None),
        ("external entity", xxe_docx, r"cannot be parsed|no text|corrupt", None),
    ],
    "csv": [
        ("formula rejected", b'name,link\nx,"=HYPERLINK(""http://evil"",""click"")"\n', r"spreadsheet formula", KnowledgeConfig(csv_formulas="reject")),
        ("at-formula rejected", b"a,b\n1,@SUM(A1:A9)\n", r"spreadsheet formula", KnowledgeConfig(csv_formulas="reject")),
        ("header only", b"week,physician\n", r"at least one data row", None),
        ("empty", b"", r"empty", None),
        ("blank lines only", b"\n\n \n", r"at least one data row", None),
        ("binary", b"\x00\x01\x02\x03" * 50, r"binary", None),
        ("latin-1", "name,city\nJosé,Zürich\n".encode("latin-1"), r"not valid UTF-8", None),
        ("too many rows", b"a,b\n" + b"1,2\n" * 11, r"more than 10 rows", KnowledgeConfig(max_csv_rows=10)),
        ("huge field", b"a,b\n1," + b"x" * 200_000 + b"\n", r"malformed CSV|field larger", None),
        ("unterminated quote", b'a,b\n1,"never closed\n2,3\n', r"malformed CSV|unexpected end", None),
        ("zip renamed", DOCX, r"zip archive.*wrong extension", None),
        ("pdf renamed", PDF, r"PDF.*wrong extension", None),
    ],
    "json": [
        ("deeply nested", b"[" * 5000 + b"]" * 5000, r"nested 5000 levels deep", None),
        ("nested past limit", json.dumps({"a": {"b": {"c": {"d": 1}}}}).encode(), r"over the limit of 3", KnowledgeConfig(max_json_depth=3)),
        ("trailing comma", b'{"a": 1,}', r"invalid JSON", None),
        ("truncated", b'{"drugs": [{"name": "Halv', r"invalid JSON", None),
        ("empty", b"", r"empty", None),
        ("empty object", b"{}", r"no text could be extracted", None),
        ("null", b"null", r"no text could be extracted", None),
        ("binary", b"\x00\xff" * 40, r"binary|not valid UTF-8", None),
        ("latin-1", '{"city": "Zürich"}'.encode("latin-1"), r"not valid UTF-8", None),
        ("pdf renamed", PDF, r"PDF.*wrong extension", None),
        ("too large", b'{"a": "' + b"x" * 5000 + b'"}', r"MiB limit", TINY),
        ("two documents", b'{"a": 1}\n{"b": 2}', r"invalid JSON", None),
    ],
    "jsonl": [
        ("bad middle line", b'{"a": 1}\nnot json\n{"b": 2}\n', r"line 2: invalid JSON", None),
        ("torn last line", b'{"a": 1}\n{"b": ', r"line 2: invalid JSON", None),
        ("deep line", b'{"a": 1}\n' + b"[" * 100 + b"]" * 100 + b"\n", r"line 2: JSON nested 100 levels", None),
        ("too many lines", b'{"a": 1}\n' * 6, r"more than 5 records", KnowledgeConfig(max_csv_rows=5)),
        ("empty", b"", r"empty", None),
        ("blank lines only", b"\n\n\n", r"no text could be extracted", None),
        ("only empty objects", b"{}\n{}\n", r"no text could be extracted", None),
        ("binary", b"\x00" * 100, r"binary", None),
        ("zip renamed", DOCX, r"zip archive", None),
        ("latin-1", '{"city": "Zürich"}\n'.encode("latin-1"), r"not valid UTF-8", None),
        ("too large", b'{"a": 1}\n' * 500, r"MiB limit", TINY),
    ],
    "html": [
        ("empty", b"", r"empty", None),
        ("scripts only", b"<html><head><script>alert(1)</script></head><body><script>x()</script></body></html>", r"no readable text", None),
        ("no markup", b"just words in a file called .html", r"no HTML markup", None),
        ("binary", b"\x00<html>" * 30, r"binary", None),
        ("latin-1", "<p>Zürich café</p>".encode("latin-1"), r"not valid UTF-8", None),
        ("pdf renamed", PDF, r"PDF.*wrong extension", None),
        ("zip renamed", DOCX, r"zip archive", None),
        ("empty document", b"<html><body></body></html>", r"no readable text", None),
        ("images only", b"<html><body><img src='a.png'><img src='b.png'></body></html>", r"no readable text", None),
        ("deep nesting", b"<html><body>" + b"<div>" * 20000 + b"deep" + b"</div>" * 20000 + b"</body></html>", r"nested too deeply|cannot be parsed|no readable text", "maybe"),
        ("too large", b"<p>" + b"x" * 5000 + b"</p>", r"MiB limit", TINY),
    ],
    "md": [
        ("empty", b"", r"empty", None),
        ("whitespace only", b"  \n\n\t\n", r"no text could be extracted", None),
        ("headings only", b"# Title\n\n## Sub\n", r"no text could be extracted", None),
        ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00", r"binary", None),
        ("latin-1", "Café crème".encode("latin-1"), r"not valid UTF-8", None),
        ("pdf renamed", PDF, r"PDF.*wrong extension", None),
        ("docx renamed", DOCX, r"zip archive", None),
        ("ole renamed", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, r"Office", None),
        ("bad utf-16", b"\xff\xfe\x00\xd8", r"UTF-16", None),
        ("too large", b"x" * 5000, r"MiB limit", TINY),
    ],
}


def _params():
    for kind, cases in CASES.items():
        for label, payload, pattern, config in cases:
            yield pytest.param(kind, payload, pattern, config, id=f"{kind}-{label}")


@pytest.mark.parametrize("kind, payload, pattern, config", list(_params()))
def test_malformed_file_is_a_clear_error(tmp_path, kind, payload, pattern, config):
    data = payload() if callable(payload) else payload
    path = tmp_path / f"upload.{kind}"
    path.write_bytes(data)
    if config == "maybe":  # parsers may legitimately recover some text: then it must just not crash
        try:
            load_document(path)
        except InputFileError as exc:
            assert "upload." in str(exc)
        return
    with pytest.raises(InputFileError, match=pattern) as info:
        load_document(path, config)
    assert str(info.value).startswith(f"upload.{kind}:")


def test_at_least_ten_malformed_cases_per_kind():
    assert all(len(cases) >= 10 for cases in CASES.values())


def test_unsupported_extensions(tmp_path):
    for name in ("sheet.xlsx", "program.exe", "README"):
        path = tmp_path / name
        path.write_bytes(b"data")
        with pytest.raises(InputFileError, match="unsupported file type"):
            load_document(path)


def test_csv_formulas_are_neutralised_by_default(tmp_path):
    path = tmp_path / "links.csv"
    path.write_text('name,link,delta\nx,"=HYPERLINK(""http://evil"",""click"")",-5\ny,+cmd|\' /C calc\'!A0,3\n')
    doc = load_document(path)
    assert "'=HYPERLINK" in doc.text and "'+cmd" in doc.text and "delta: -5" in doc.text
    assert len(doc.warnings) == 2


def test_pdf_with_empty_owner_only_password_opens(tmp_path):
    path = tmp_path / "owner_locked.pdf"
    path.write_bytes(pdf_bytes(password=""))
    assert "6.2 mmol/L" in load_document(path).text


def test_bad_files_do_not_stop_the_good_ones(tmp_path):
    files = {
        "good.md": b"# Notes\n\nThe defibrillator is by the main entrance.",
        "bomb.docx": zip_bomb(),
        "locked.pdf": pdf_bytes(password="pw"),
        "deep.json": b"[" * 3000 + b"]" * 3000,
        "good.csv": b"room,use\nB7,infusion\n",
        "evil.csv": b"a,b\n1,=1+1\n",
        "nothing.txt": b"",
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    paths.append(tmp_path / "missing.html")
    kb = KnowledgeBase.create(tmp_path / "kb")
    report = kb.add_files(paths)
    assert sorted(report.added) == ["evil.csv", "good.csv", "good.md"]
    failed = dict(report.errors)
    assert set(failed) == {"bomb.docx", "locked.pdf", "deep.json", "nothing.txt", "missing.html"}
    assert all(cause.startswith(name) for name, cause in failed.items())
    assert any("neutralised" in w for w in report.warnings)
    assert kb.search("defibrillator", k=1)[0][0].source == "good.md"
