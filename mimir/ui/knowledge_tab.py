"""Knowledge tab: upload files, load the example, add public datasets, preview and search chunks."""

from __future__ import annotations

from typing import Any

import gradio as gr

from mimir.ui.common import guard, md_table, remove_uploads, shorten, status, upload_paths
from mimir.ui.text import eta_text
from mimir.ui.context import AppContext
from mimir.ui.session import Session

FILE_TYPES = [".pdf", ".docx", ".txt", ".md", ".csv", ".json", ".jsonl", ".html", ".htm"]
CHUNK_HEADERS = ["chunk id", "source", "where", "text"]


# -- handlers (plain functions over the session; tested directly) --------------------------------
def open_kb(session: Session, create: bool = True):
    """The session's knowledge base (created on first use)."""
    from mimir.knowledge import KnowledgeBase

    folder = session.knowledge_dir
    if (folder / "manifest.json").exists():
        return KnowledgeBase.open(folder)
    if not create:
        raise FileNotFoundError("this workspace has no knowledge yet: upload files or load the example in the Knowledge tab")
    return KnowledgeBase.create(folder)


def chunk_rows(session: Session, limit: int = 200) -> list[list[str]]:
    if not (session.knowledge_dir / "manifest.json").exists():
        return []
    rows = []
    for chunk in open_kb(session, create=False).chunks():
        if len(rows) >= limit:
            break
        rows.append([chunk.id, _source(chunk), _where(chunk), shorten(chunk.text, 220)])
    return rows


def kb_summary(session: Session) -> str:
    if not (session.knowledge_dir / "manifest.json").exists():
        return status("No knowledge yet. Upload files, load the example, or add a public dataset.")
    kb = open_kb(session, create=False)
    chunks = list(kb.chunks())
    sources = sorted({_source(c) for c in chunks})
    return status(f"{len(chunks)} chunks from {len(sources)} source(s): {', '.join(sources[:8])}" + (" …" if len(sources) > 8 else ""), "ok")


def add_files(session: Session, files: list[Any] | None, progress: Any = None) -> tuple[str, list[list[str]], str]:
    """Ingest uploaded files one by one (progress with counts and ETA); each file's error is reported and
    the others still load. The uploaded temp copies are deleted once read (the knowledge keeps its own)."""
    import time

    from mimir.knowledge.store import AddReport

    paths = upload_paths(files)
    if not paths:
        raise gr.Error("Choose one or more files first.")
    try:
        kb, total, started = open_kb(session), AddReport(), time.monotonic()
        for i, path in enumerate(paths):
            if progress is not None:
                progress((i, len(paths)), desc=f"adding {path.name}: " + eta_text(i, len(paths), time.monotonic() - started))
            one = kb.add_files([path], names=[path.name])  # indexing is incremental: only this file's chunks
            for name in ("added", "skipped", "errors", "warnings"):
                getattr(total, name).extend(getattr(one, name))
            total.chunks_added += one.chunks_added
    finally:
        remove_uploads(paths)
    return _report_md(total), chunk_rows(session), kb_summary(session)


def load_example(session: Session) -> tuple[str, list[list[str]], str]:
    from mimir.knowledge import load_example_kb

    from mimir.knowledge import example_files

    load_example_kb(session.knowledge_dir)
    names = ", ".join(p.name for p in example_files())
    return status(f"Example knowledge loaded: {names}", "ok"), chunk_rows(session), kb_summary(session)


def catalog_choices() -> list[tuple[str, str]]:
    """(label, name) pairs of the public dataset catalog (``assets/datasets.yaml``), by domain."""
    from mimir.knowledge.datasets import catalog

    entries = sorted(catalog().items(), key=lambda kv: (kv[1].domain, kv[0]))
    return [(f"{spec.domain} · {name} — {spec.hub_id}", name) for name, spec in entries]


def add_catalog_dataset(session: Session, name: str, limit: float) -> tuple[str, list[list[str]], str]:
    if not name:
        raise gr.Error("Pick a dataset from the catalog first.")
    report = open_kb(session).add_dataset(name, limit=int(limit))
    return _report_md(report), chunk_rows(session), kb_summary(session)


def search_hub(query: str) -> tuple[gr.Dropdown, str]:
    from mimir.knowledge.hub_search import search_hub_datasets

    found = search_hub_datasets(query or "", limit=20)
    rows = [[d.id, d.downloads, d.likes, shorten(d.description, 80)] for d in found]
    ids = [d.id for d in found]
    table = md_table(["dataset", "downloads", "likes", "description"], rows) if rows else status("No dataset found.", "warn")
    return gr.Dropdown(choices=ids, value=ids[0] if ids else None), table


def add_hub_dataset(
    session: Session, hub_id: str, config: str, split: str, question: str, answer: str, context: str, limit: float
) -> tuple[str, list[list[str]], str]:
    hub_id = (hub_id or "").strip()
    if "/" not in hub_id:
        raise gr.Error("Give a Hub dataset id like owner/name (search above, or type it).")
    fields = {k: v.strip() for k, v in {"question": question, "answer": answer, "context": context}.items() if v and v.strip()}
    report = open_kb(session).add_dataset(hub_id, limit=int(limit), fields=fields, config=(config or "").strip() or None,
                                          split=(split or "train").strip())
    return _report_md(report), chunk_rows(session), kb_summary(session)


HIT_HEADERS = ["score", "source", "where", "text"]


def search_chunks(session: Session, query: str, k: float, mode: str) -> list[list[str]]:
    query = (query or "").strip()
    if not query:
        raise gr.Error("Type a question to search the knowledge.")
    hits = open_kb(session, create=False).search(query, k=int(k), mode=mode)
    return [[f"{score:.2f}", _source(chunk), _where(chunk), shorten(chunk.text, 400)] for chunk, score in hits]


# -- helpers -------------------------------------------------------------------------------------
def _source(chunk: Any) -> str:
    return str(chunk.source)


def _where(chunk: Any) -> str:
    if chunk.page is not None:
        return f"page {chunk.page}"
    if chunk.row is not None:
        return f"row {chunk.row}"
    return shorten(chunk.heading.split(">")[-1].strip(), 60)


def _report_md(report: Any) -> str:
    """Per-file outcome: added, unchanged, or the error naming the cause; then warnings."""
    rows = [[name, "✅ added"] for name in report.added]
    rows += [[name, "unchanged (already here)"] for name in report.skipped]
    rows += [[name, f"❌ {cause}"] for name, cause in report.errors]
    text = status(report.summary(), "ok" if report.ok else "warn") + "\n\n" + md_table(["file", "result"], rows)
    if report.warnings:
        text += "\n\n" + "\n".join(f"- ⚠️ {w}" for w in report.warnings[:20])
    return text


# -- layout --------------------------------------------------------------------------------------
def build(ctx: AppContext, state: gr.State) -> None:
    summary = gr.Markdown(status("No knowledge yet. Upload files, load the example, or add a public dataset."))
    with gr.Row():
        with gr.Column(scale=3):
            files = gr.File(label="Private documents (pdf, docx, txt, md, csv, json, jsonl, html)", file_count="multiple",
                            file_types=FILE_TYPES, elem_id="kb-files", height=180)
            with gr.Row():
                add_btn = gr.Button("Add files", variant="primary", elem_id="kb-add")
                example_btn = gr.Button("Load example (clinic handbook)", elem_id="kb-example")
            report = gr.Markdown(elem_id="kb-report")
        with gr.Column(scale=2):
            with gr.Accordion("Public datasets", open=False):
                catalog = gr.Dropdown(label="Catalog (assets/datasets.yaml)", choices=_safe_catalog(), elem_id="kb-catalog")
                limit = gr.Number(label="Rows to take", value=200, precision=0, minimum=1)
                add_catalog_btn = gr.Button("Add catalog dataset")
                gr.Markdown("**Any Hub dataset** — search, then map its fields.")
                with gr.Row():
                    hub_query = gr.Textbox(label="Search the Hub", placeholder="e.g. medical qa")
                    hub_search_btn = gr.Button("Search", scale=0)
                hub_id = gr.Dropdown(label="Dataset id", choices=[], allow_custom_value=True)
                with gr.Row():
                    hub_config = gr.Textbox(label="Config", placeholder="(default)")
                    hub_split = gr.Textbox(label="Split", value="train")
                with gr.Row():
                    f_question = gr.Textbox(label="question field")
                    f_answer = gr.Textbox(label="answer field")
                    f_context = gr.Textbox(label="context field")
                add_hub_btn = gr.Button("Add Hub dataset")
                hub_status = gr.Markdown()
    with gr.Accordion("Search the knowledge", open=True):
        with gr.Row(equal_height=True):
            query = gr.Textbox(label="Query", placeholder="e.g. Saturday opening hours", scale=5, elem_id="kb-query")
            k = gr.Slider(1, 20, value=5, step=1, label="Top k", scale=2)
            mode = gr.Radio(["bm25", "dense", "hybrid"], value="bm25", label="Mode", scale=2)
            search_btn = gr.Button("Search", scale=1, elem_id="kb-search")
        hits = gr.Dataframe(headers=HIT_HEADERS, interactive=False, wrap=True, elem_id="kb-hits", show_label=False,
                            column_widths=["8%", "18%", "18%", "56%"])
    chunks = gr.Dataframe(headers=CHUNK_HEADERS, label="Chunks (first 200)", interactive=False, wrap=True,
                          elem_id="kb-chunks", max_height=420, column_widths=["16%", "16%", "16%", "52%"])

    outputs = [report, chunks, summary]
    def add(session, files_, progress=gr.Progress()):
        return add_files(session, files_, progress=progress)

    add_btn.click(guard(add), inputs=[state, files], outputs=outputs).then(lambda: None, outputs=files)
    example_btn.click(guard(load_example), inputs=state, outputs=outputs)
    add_catalog_btn.click(guard(add_catalog_dataset), inputs=[state, catalog, limit], outputs=outputs)
    hub_search_btn.click(guard(search_hub), inputs=hub_query, outputs=[hub_id, hub_status])
    add_hub_btn.click(guard(add_hub_dataset),
                      inputs=[state, hub_id, hub_config, hub_split, f_question, f_answer, f_context, limit], outputs=outputs)
    search_btn.click(guard(search_chunks), inputs=[state, query, k, mode], outputs=hits)
    query.submit(guard(search_chunks), inputs=[state, query, k, mode], outputs=hits)


def _safe_catalog() -> list[tuple[str, str]]:
    """A broken catalog file must not stop the app from starting; its error shows as the only choice."""
    from mimir.errors import ConfigError

    try:
        return catalog_choices()
    except ConfigError as exc:
        return [(f"catalog unreadable: {exc}", "")]
