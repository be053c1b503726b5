"""Text helpers with no gradio import: markdown tables, status lines, shortening."""

from __future__ import annotations

import html
from typing import Any, Iterable

from mimir.secrets import redact


def md_table(headers: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A small markdown table with cell text escaped (cells come from untrusted files)."""

    def cell(value: Any) -> str:
        return html.escape(str(value)).replace("|", "&#124;").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def status(text: str, kind: str = "info") -> str:
    """A one-line status for a gr.Markdown (kind: info | ok | warn | error); secrets redacted."""
    icon = {"ok": "✅", "warn": "⚠️", "error": "❌"}.get(kind, "ℹ️")
    return f"{icon} {redact(text)}"


def shorten(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
