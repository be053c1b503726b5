"""Text helpers with no gradio import: markdown tables, status lines, shortening."""

from __future__ import annotations

import html
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable

from mimir.secrets import redact


def md_table(headers: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A small markdown table with cell text escaped (cells come from untrusted files)."""

    def cell(value: Any) -> str:
        return html.escape(str(value)).replace("|", "&#124;").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


_PRIVATE_ROOTS: list[str] = []  # runs roots of the apps built in this process (absolute, resolved)


def register_private_root(root: str | Path) -> None:
    """Paths under ``root`` are shown workspace-relative in every message (never the server's folders)."""
    for form in {str(Path(root)), str(Path(root).resolve())}:
        if form not in _PRIVATE_ROOTS and form not in (".", ""):
            _PRIVATE_ROOTS.append(form)
    _PRIVATE_ROOTS.sort(key=len, reverse=True)


def hide_paths(text: str) -> str:
    """Server paths out of a message: ``<runs>/<id>/train/x`` → ``train/x``; the upload temp folder and
    the working directory are dropped; any other absolute path keeps only its last two parts."""
    text = str(text)
    for root in _PRIVATE_ROOTS:
        text = re.sub(re.escape(root.rstrip("/")) + r"/[^/\s'\"`]+/?", "", text)
        text = text.replace(root, "runs")
    temp = os.environ.get("GRADIO_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "gradio")
    text = re.sub(re.escape(temp.rstrip("/")) + r"/[^/\s'\"`]+/", "", text)
    text = text.replace(str(Path.cwd()) + "/", "")
    # whatever absolute path is left (site-packages, a home folder): its last two parts only
    return re.sub(r"(?<![\w.:/])/(?:[^/\s'\"`()]+/)+([^/\s'\"`()]+/[^/\s'\"`()]+)", r"…/\1", text)


def status(text: str, kind: str = "info") -> str:
    """A one-line status for a gr.Markdown (kind: info | ok | warn | error); secrets redacted, no server paths."""
    icon = {"ok": "✅", "warn": "⚠️", "error": "❌"}.get(kind, "ℹ️")
    return f"{icon} {hide_paths(redact(text))}"


def shorten(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def eta_text(done: int, total: int, elapsed: float) -> str:
    """'3/8 · 12 s · about 20 s left' (no ETA before the first item is done)."""
    bits = [f"{done}/{total}" if total else f"{done}", f"{elapsed:.0f} s"]
    if 0 < done < total:
        bits.append(f"about {elapsed / done * (total - done):.0f} s left")
    return " · ".join(bits)
