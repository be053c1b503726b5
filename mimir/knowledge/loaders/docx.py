"""Word .docx through python-docx: heading styles open sections, list styles mark list items,
each table row becomes a row block (``header: value`` pairs). The zip container is checked
first: legacy/encrypted Office files, archives that are not Word documents and zip bombs are
refused before any XML is parsed."""

from __future__ import annotations

import io
import re
import zipfile

from mimir.errors import InputFileError
from mimir.knowledge.config import KnowledgeConfig
from mimir.knowledge.documents import Document, TextBuilder

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: .doc, or any password-protected Office file
MAX_ENTRIES = 5000


def check_zip(data: bytes, name: str, config: KnowledgeConfig) -> None:
    """Refuse non-docx archives and decompression bombs by their declared sizes."""
    if data.startswith(_OLE):
        raise InputFileError(
            f"{name}: a password-protected or legacy (.doc) Word file; save it as .docx without a password"
        )
    if not data.startswith(b"PK\x03\x04"):
        raise InputFileError(f"{name}: not a .docx file (not a zip archive; wrong extension?)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise InputFileError(f"{name}: corrupt or truncated .docx ({exc})") from None
    if len(entries) > MAX_ENTRIES:
        raise InputFileError(f"{name}: {len(entries)} archive entries is too many for a Word document")
    names = {e.filename for e in entries}
    if "word/document.xml" not in names:
        raise InputFileError(f"{name}: a zip archive but not a Word document (word/document.xml missing)")
    total = sum(e.file_size for e in entries)
    limit = config.max_unzipped_mb * 1024 * 1024
    if total > limit:
        raise InputFileError(
            f"{name}: unpacks to {total / 1048576:.0f} MiB, over the {config.max_unzipped_mb:g} MiB limit "
            "(knowledge.max_unzipped_mb); possible zip bomb"
        )
    ratio = total / max(len(data), 1)
    if ratio > config.max_zip_ratio:
        raise InputFileError(
            f"{name}: compression ratio {ratio:.0f}:1 is over {config.max_zip_ratio:g}:1 (knowledge.max_zip_ratio); "
            "refused as a possible zip bomb"
        )


def load_docx(data: bytes, name: str, config: KnowledgeConfig) -> Document:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_zip(data, name, config)
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError) as exc:
        raise InputFileError(f"{name}: corrupt .docx ({exc})") from None
    builder = TextBuilder()
    headings: list[tuple[int, str]] = []
    table_count = 0
    for item in document.iter_inner_content():
        path = " > ".join(t for _, t in headings)
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            level = _heading_level(item.style.name if item.style is not None else "")
            if level:
                while headings and headings[-1][0] >= level:
                    headings.pop()
                headings.append((level, text))
                continue
            style = (item.style.name if item.style is not None else "").lower()
            kind = "list" if "list" in style else "paragraph"
            builder.add(f"- {text}" if kind == "list" else text, kind=kind, heading=path)
        elif isinstance(item, Table):
            table_count += 1
            for number, row_text in enumerate(_table_rows(item), 1):
                builder.add(row_text, kind="table_row", heading=path, row=number)
    return Document(name=name, format="docx", text=builder.text, blocks=builder.blocks, meta={"tables": table_count})


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style)
    return int(match.group(1)) if match else 0


def _table_rows(table) -> list[str]:  # type: ignore[no-untyped-def]
    """Rows as 'header: value' pairs when the first row looks like a header, else cells joined by |."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = re.sub(r"\s+", " ", cell.text).strip()
            if not cells or text != cells[-1]:  # merged cells repeat their text
                cells.append(text)
        rows.append(cells)
    if len(rows) < 2:
        return [" | ".join(c for c in cells if c) for cells in rows]
    header = rows[0]
    out = [" | ".join(c for c in header if c)]
    for cells in rows[1:]:
        if len(cells) == len(header):
            out.append("; ".join(f"{h}: {c}" if h else c for h, c in zip(header, cells) if c))
        else:
            out.append(" | ".join(c for c in cells if c))
    return out
