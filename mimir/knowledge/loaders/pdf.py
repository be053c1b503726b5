"""PDF through pypdf: text per page, paragraphs rebuilt from line layout, short title-like
lines taken as headings. Encrypted files are opened only when they need no password."""

from __future__ import annotations

import io
import logging
import re

from mimir.errors import InputFileError
from mimir.knowledge.config import KnowledgeConfig
from mimir.knowledge.documents import Document, TextBuilder

_HEADING = re.compile(r"^(\d+(\.\d+)*\.?\s+)?[A-Z][^.!?;:]{0,70}$")


def load_pdf(data: bytes, name: str, config: KnowledgeConfig) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    head = data[:1024]
    if b"%PDF-" not in head:
        raise InputFileError(f"{name}: not a PDF file (no %PDF header; wrong extension?)")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # it warns loudly on every repaired xref
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("")
            except Exception:  # unsupported crypt filter, missing crypto backend
                unlocked = 0
            if not unlocked:
                raise InputFileError(f"{name}: the PDF is password-protected; remove the password and add it again")
        pages = len(reader.pages)
    except FileNotDecryptedError:
        raise InputFileError(f"{name}: the PDF is password-protected; remove the password and add it again") from None
    except PdfReadError as exc:
        raise InputFileError(f"{name}: corrupt or truncated PDF ({exc})") from None
    if pages == 0:
        raise InputFileError(f"{name}: the PDF has no pages")
    if pages > config.max_pdf_pages:
        raise InputFileError(
            f"{name}: {pages} pages is over the {config.max_pdf_pages}-page limit (knowledge.max_pdf_pages)"
        )
    builder = TextBuilder()
    warnings: list[str] = []
    heading = ""
    for number, page in enumerate(reader.pages, 1):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # one damaged page should not lose the rest
            warnings.append(f"page {number}: text could not be extracted ({type(exc).__name__})")
            continue
        for kind, paragraph in _paragraphs(text):
            if kind == "heading":
                heading = paragraph  # kept in the text too: a misread heading must not lose words
            builder.add(paragraph, kind="paragraph", heading=heading, page=number)
    return Document(name=name, format="pdf", text=builder.text, blocks=builder.blocks, warnings=warnings,
                    meta={"pages": pages})


def _is_heading(line: str) -> bool:
    """Numbered ('3. Rooms') or title-cased short lines without sentence punctuation."""
    if not _HEADING.match(line) or len(line.split()) > 10:
        return False
    words = [w for w in re.findall(r"[A-Za-z][\w'-]*", line) if len(w) > 3]
    numbered = bool(re.match(r"^\d+(\.\d+)*\.?\s", line))
    titled = bool(words) and all(w[0].isupper() for w in words)
    return numbered or titled


def _paragraphs(text: str) -> list[tuple[str, str]]:
    """('heading' | 'paragraph', text) from a page's extracted lines."""
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.replace("\r", "\n").split("\n")]
    out: list[tuple[str, str]] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            out.append(("paragraph", " ".join(current)))
            current.clear()

    for index, line in enumerate(lines):
        if not line:
            flush()
            continue
        following = next((l for l in lines[index + 1 :] if l), "")
        if _is_heading(line) and following:
            if not current or current[-1].endswith((".", ":", "!", "?")):
                flush()
                out.append(("heading", line))
                continue
        if line.startswith(("•", "- ", "* ", "– ")):
            flush()
        current.append(line)
        if line.endswith((".", "!", "?")) and len(line) < 60:
            flush()  # a short line ending a sentence closes its paragraph
    flush()
    return out
