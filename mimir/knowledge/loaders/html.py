"""HTML through trafilatura: boilerplate (navigation, scripts, footers) dropped, headings, lists
and tables kept as Markdown, then split into blocks by the Markdown parser. Spans index the
extracted Markdown, which is the text chunks are cut from."""

from __future__ import annotations

import functools
import re

from mimir.errors import InputFileError
from mimir.knowledge.config import KnowledgeConfig
from mimir.knowledge.documents import Document
from mimir.knowledge.loaders._common import decode_html
from mimir.knowledge.loaders.text import parse_markdown


@functools.lru_cache(maxsize=1)
def _config():  # type: ignore[no-untyped-def]
    from trafilatura.settings import use_config

    config = use_config()
    # the defaults drop pages under 250 characters: a short policy page is still knowledge
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    config.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    return config


def load_html(data: bytes, name: str, config: KnowledgeConfig) -> Document:
    import trafilatura

    html = decode_html(data, name)
    if not re.search(r"<\s*[a-zA-Z!]", html[:65536]):
        raise InputFileError(f"{name}: no HTML markup found (wrong extension?)")
    text = trafilatura.extract(
        html,
        output_format="markdown",
        include_tables=True,
        include_comments=False,
        include_images=False,
        include_links=False,
        favor_recall=True,
        config=_config(),
    )
    if not text or not text.strip():
        raise InputFileError(f"{name}: no readable text in the page (only scripts, navigation or images?)")
    metadata = trafilatura.extract_metadata(html)
    title = (metadata.title if metadata is not None else None) or ""
    text = text.replace("\r\n", "\n").strip()
    if title and not text.startswith("#"):
        text = f"# {title.strip()}\n\n{text}"  # trafilatura lifts the page title out of the body
    return Document(name=name, format="html", text=text, blocks=parse_markdown(text), meta={"title": title})
