"""File loaders: one per format, chosen by extension, every failure an InputFileError.

``load_document(path, config)`` checks what all formats share (exists, size, empty) and
hands the bytes to the format's loader. Parser libraries raise all kinds of exceptions on
hostile input; they are turned into an :class:`InputFileError` naming the file and the cause
here, so one bad file never stops the others in the same upload.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Callable

from mimir.errors import InputFileError
from mimir.knowledge.config import KnowledgeConfig
from mimir.knowledge.documents import Document

log = logging.getLogger(__name__)

# extension -> "module:function"; modules load lazily so pypdf/docx/trafilatura stay unimported until used.
LOADERS: dict[str, str] = {
    ".txt": "mimir.knowledge.loaders.text:load_text",
    ".md": "mimir.knowledge.loaders.text:load_markdown",
    ".markdown": "mimir.knowledge.loaders.text:load_markdown",
    ".html": "mimir.knowledge.loaders.html:load_html",
    ".htm": "mimir.knowledge.loaders.html:load_html",
    ".pdf": "mimir.knowledge.loaders.pdf:load_pdf",
    ".docx": "mimir.knowledge.loaders.docx:load_docx",
    ".csv": "mimir.knowledge.loaders.tabular:load_csv",
    ".json": "mimir.knowledge.loaders.structured:load_json",
    ".jsonl": "mimir.knowledge.loaders.structured:load_jsonl",
}

SUPPORTED = tuple(sorted(LOADERS))

Loader = Callable[[bytes, str, KnowledgeConfig], Document]


def _loader(ext: str) -> Loader:
    module, func = LOADERS[ext].split(":")
    return getattr(importlib.import_module(module), func)


def load_document(path: str | Path, config: KnowledgeConfig | None = None, *, name: str | None = None) -> Document:
    """Read and parse one file. ``name`` is the display name (defaults to the file's name)."""
    config = config or KnowledgeConfig()
    path = Path(path)
    name = name or path.name
    ext = Path(name).suffix.lower()
    if ext not in LOADERS:
        raise InputFileError(
            f"{name}: unsupported file type {ext or '(no extension)'!r}; supported: {', '.join(SUPPORTED)}"
        )
    if not path.is_file():
        raise InputFileError(f"{name}: not found or not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(f"{name}: the file is empty")
    limit = int(config.max_file_mb * 1024 * 1024)
    if size > limit:
        raise InputFileError(
            f"{name}: {size / 1048576:.1f} MiB is over the {config.max_file_mb:g} MiB limit (knowledge.max_file_mb)"
        )
    data = path.read_bytes()
    return parse_bytes(data, name, config)


def parse_bytes(data: bytes, name: str, config: KnowledgeConfig | None = None) -> Document:
    """Parse in-memory file content named ``name`` (its extension picks the loader)."""
    config = config or KnowledgeConfig()
    ext = Path(name).suffix.lower()
    if ext not in LOADERS:
        raise InputFileError(f"{name}: unsupported file type {ext!r}; supported: {', '.join(SUPPORTED)}")
    if not data:
        raise InputFileError(f"{name}: the file is empty")
    _check_signature(data, name, ext)
    try:
        document = _loader(ext)(data, name, config)
    except InputFileError:
        raise
    except RecursionError:
        raise InputFileError(f"{name}: structure nested too deeply to parse") from None
    except MemoryError:
        raise InputFileError(f"{name}: too large to parse in memory") from None
    except Exception as exc:  # parser libraries raise anything on corrupt input
        log.debug("loader for %s failed", name, exc_info=True)
        raise InputFileError(f"{name}: cannot be parsed as {ext[1:]} ({type(exc).__name__}: {exc})") from None
    if not document.text.strip() or not document.blocks:
        raise InputFileError(f"{name}: no text could be extracted (scanned image, or empty content)")
    return document


_SIGNATURES = {b"%PDF-": "a PDF", b"PK\x03\x04": "a zip archive (docx, xlsx, ...)", b"\xd0\xcf\x11\xe0": "an Office (OLE) file"}
_TEXT_FORMATS = {".txt", ".md", ".markdown", ".html", ".htm", ".csv", ".json", ".jsonl"}


def _check_signature(data: bytes, name: str, ext: str) -> None:
    """A binary file renamed to a text extension gets a clear message, not a decoding error."""
    if ext in _TEXT_FORMATS:
        for magic, what in _SIGNATURES.items():
            if data.startswith(magic):
                raise InputFileError(f"{name}: the content is {what}, not {ext[1:]} (wrong extension?)")
