"""PDF through pypdf: text per page, paragraphs rebuilt from line layout, short title-like
lines taken as headings; contents leaders, running headers and tiny fragments cleaned up
(:mod:`.pdf_text`). Encrypted files are opened only when they need no password."""

from __future__ import annotations

import io
import logging
import re

from mimir.errors import InputFileError
from mimir.knowledge.config import KnowledgeConfig
from mimir.knowledge.documents import Document, TextBuilder
from mimir.knowledge.loaders.pdf_text import best_spacing, clean_lines, merge_fragments, run_together, running_lines

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
    texts: list[str | None] = []
    for number, page in enumerate(reader.pages, 1):
        try:
            texts.append(_page_text(page))
        except Exception as exc:  # one damaged page should not lose the rest
            warnings.append(f"page {number}: text could not be extracted ({type(exc).__name__})")
            texts.append(None)
    pages_lines = [_lines(t) if t is not None else [] for t in texts]
    running = running_lines(pages_lines)
    dropped = 0
    for number, lines in enumerate(pages_lines, 1):
        kept, gone = clean_lines(lines, running)
        dropped += gone
        for kind, paragraph in merge_fragments(_paragraphs(kept)):
            if kind in ("heading", "heading_only"):
                heading = paragraph  # kept in the text too: a misread heading must not lose words
            if kind == "heading_only":
                continue  # a heading ending its page: it heads the chunks of the next page
            builder.add(paragraph, kind="paragraph", heading=heading, page=number)
    if dropped:
        warnings.append(f"{dropped} table-of-contents, page-number or running-header lines left out")
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


def _page_text(page) -> str:  # type: ignore[no-untyped-def]
    """The page's text in pypdf's plain mode, or its layout mode where that spaces words better."""
    plain = page.extract_text() or ""
    if run_together(plain) < 3:
        return plain
    try:
        layout = page.extract_text(extraction_mode="layout") or ""
    except Exception:  # layout mode fails on some fonts; plain text is still good
        return plain
    return best_spacing(plain, layout)


def _lines(text: str) -> list[str]:
    return [re.sub(r"[ \t]+", " ", line).strip() for line in text.replace("\r", "\n").split("\n")]


def _paragraphs(lines: list[str]) -> list[tuple[str, str]]:
    """('heading' | 'paragraph', text) from a page's extracted lines."""
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
