"""``python -m mimir knowledge add|list|search|datasets`` — the knowledge stage from the shell.

    python -m mimir knowledge add kb/clinic handbook.pdf rota.csv
    python -m mimir knowledge add kb/clinic --example
    python -m mimir knowledge add kb/clinic --dataset medmcqa --limit 200
    python -m mimir knowledge add kb/clinic --dataset someone/their-qa --field question=q --field answer=a
    python -m mimir knowledge list kb/clinic
    python -m mimir knowledge search kb/clinic "critical potassium" -k 5 --mode bm25
    python -m mimir knowledge datasets list --domain medical
    python -m mimir knowledge datasets search "medical question answering"
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mimir.cliargs import add_config_arguments, config_from_args, print_config_requested, render_config
from mimir.config import config_fields
from mimir.errors import ConfigError
from mimir.knowledge.config import KnowledgeConfig

CONFIGS = {"knowledge": KnowledgeConfig}


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="<action>", required=True)

    add = sub.add_parser("add", help="Add files, folders, the example or a public dataset (creates the KB if needed).")
    add.add_argument("kb", help="Knowledge base folder.")
    add.add_argument("paths", nargs="*", help="Files or folders (pdf, docx, txt, md, html, csv, json, jsonl).")
    add.add_argument("--recursive", "-r", action="store_true", help="Descend into sub-folders of given folders.")
    add.add_argument("--example", action="store_true", help="Add the bundled example clinic handbook and rota.")
    add.add_argument("--dataset", help="Catalog name (see `datasets list`) or a Hub dataset id.")
    add.add_argument("--limit", type=int, default=None, help="Rows to take from the dataset (default: all).")
    add.add_argument("--config-name", dest="config_name", help="Dataset config (subset) name.")
    add.add_argument("--split", help="Dataset split (default: the catalog's, else train).")
    add.add_argument("--data-files", nargs="+", help="Read the dataset from local json/jsonl/csv/parquet files.")
    add.add_argument("--field", action="append", default=[], metavar="ROLE=PATH",
                     help="Field mapping, e.g. question=Question (roles: question, answer, context, explanation).")
    add_config_arguments(add, KnowledgeConfig, section="knowledge")  # settings of a new KB (an existing one keeps its own)

    remove = sub.add_parser("remove", help="Remove sources (files or datasets) and their chunks from a knowledge base.")
    remove.add_argument("kb")
    remove.add_argument("names", nargs="+", help="Source names as `knowledge list` shows them.")

    listing = sub.add_parser("list", help="Show the sources of a knowledge base (or its chunks).")
    listing.add_argument("kb")
    listing.add_argument("--chunks", action="store_true", help="List chunks instead of sources.")
    listing.add_argument("--json", action="store_true", help="Machine-readable output.")

    search = sub.add_parser("search", help="Search a knowledge base.")
    search.add_argument("kb")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5, help="How many chunks to return.")
    search.add_argument("--mode", choices=["bm25", "dense", "hybrid"], help="Retrieval mode (default: the KB's).")
    search.add_argument("--json", action="store_true", help="Machine-readable output.")

    ds = sub.add_parser("datasets", help="The public dataset catalog and Hub search.")
    ds_sub = ds.add_subparsers(dest="ds_action", metavar="<list|show|search>", required=True)
    ds_list = ds_sub.add_parser("list", help="Catalog entries.")
    ds_list.add_argument("--domain", help="Only this domain (medical, legal, finance, science, education, code).")
    ds_show = ds_sub.add_parser("show", help="One catalog entry with its field mapping.")
    ds_show.add_argument("name")
    ds_search = ds_sub.add_parser("search", help="Search the Hugging Face Hub for datasets.")
    ds_search.add_argument("words", nargs="+")
    ds_search.add_argument("--limit", type=int, default=20)
    ds_search.add_argument("--task", help="Task category filter, e.g. question-answering.")


def run(args: argparse.Namespace) -> int:
    return {"add": _add, "remove": _remove, "list": _list, "search": _search, "datasets": _datasets}[args.action](args)


def _remove(args: argparse.Namespace) -> int:
    from mimir.knowledge import KnowledgeBase

    kb = KnowledgeBase.open(args.kb)
    status = 0
    for name in args.names:
        if kb.remove(name):
            print(f"removed  {name}")
        else:
            known = ", ".join(sorted(kb.sources)) or "none"
            print(f"FAILED   {name}: no such source in {kb.name} (sources: {known})", file=sys.stderr)
            status = 1
    print(f"{kb.name}: {len(kb)} chunks from {len(kb.sources)} sources")
    return status


def _fields(items: list[str]) -> dict[str, str]:
    fields = {}
    for item in items:
        role, sep, path = item.partition("=")
        if not sep or not role.strip() or not path.strip():
            raise ConfigError(f"--field {item!r}: use ROLE=PATH, e.g. question=Question")
        fields[role.strip()] = path.strip()
    return fields


def _add(args: argparse.Namespace) -> int:
    from mimir.knowledge import KnowledgeBase, example_files

    config = config_from_args(KnowledgeConfig, args, section="knowledge")
    if print_config_requested(args):
        print(render_config(config), end="")
        return 0
    if not (args.paths or args.example or args.dataset):
        raise ConfigError("nothing to add: give files or folders, --example or --dataset")
    config.validate()
    given = any(getattr(args, name, None) is not None for name in config_fields(KnowledgeConfig))
    if (Path(args.kb) / "manifest.json").exists() and (given or args.config):
        print("note: the knowledge base exists; its stored settings are kept (chunking options apply to new KBs)")
    kb = KnowledgeBase.create(args.kb, config, exist_ok=True)
    from mimir.knowledge.loaders import SUPPORTED
    from mimir.knowledge.names import expand_paths

    expanded = expand_paths(args.paths, args.recursive, tuple(SUPPORTED))
    status = 0
    for path, cause in expanded.refused:
        print(f"FAILED   {path}: {cause}", file=sys.stderr)
        status = 1
    examples = example_files() if args.example else []
    files, names = expanded.files + examples, expanded.names + [p.name for p in examples]
    if files:
        report = kb.add_files(files, names=names)
        for name in report.added:
            print(f"added    {name}")
        for name in report.skipped:
            print(f"unchanged {name}")
        for warning in report.warnings:
            print(f"warning  {warning}")
        for name, cause in report.errors:
            print(f"FAILED   {cause}", file=sys.stderr)
            status = 1
        print(report.summary())
    if args.dataset:
        options = {"config": args.config_name, "split": args.split, "data_files": args.data_files}
        fields = _fields(args.field)
        if fields:
            options["fields"] = fields
        report = kb.add_dataset(args.dataset, limit=args.limit, **options)
        verb = "added" if report.added else "unchanged"
        print(f"{verb} {', '.join(report.added or report.skipped)} ({report.chunks_added} question/answer chunks)")
    print(f"{kb.name}: {len(kb)} chunks from {len(kb.sources)} sources")
    return status


def _list(args: argparse.Namespace) -> int:
    from mimir.knowledge import KnowledgeBase

    kb = KnowledgeBase.open(args.kb)
    if args.chunks:
        chunks = kb.chunks()
        if args.json:
            print(json.dumps([c.to_dict() for c in chunks], ensure_ascii=False, indent=1))
        else:
            for c in chunks:
                where = f"p{c.page}" if c.page is not None else (f"row {c.row}" if c.row is not None else "")
                print(f"{c.id}  {c.source}  {where:8} {c.heading.split(' > ')[-1][:30]:30}  {c.text[:60]!r}")
        return 0
    sources = kb.sources
    if args.json:
        print(json.dumps(sources, ensure_ascii=False, indent=1))
        return 0
    for name, entry in sources.items():
        print(f"{name:50} {entry.get('type', ''):8} {entry.get('format', entry.get('limit', '')) or '':10} {entry['chunks']:6} chunks")
    print(f"{len(sources)} sources, {len(kb)} chunks, default search: {kb.config.retriever}")
    return 0


def _search(args: argparse.Namespace) -> int:
    from mimir.knowledge import KnowledgeBase

    kb = KnowledgeBase.open(args.kb)
    hits = kb.search(args.query, k=args.k, mode=args.mode)
    if args.json:
        print(json.dumps([{"score": s, **c.to_dict()} for c, s in hits], ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print("no matching chunks")
    for rank, (chunk, score) in enumerate(hits, 1):
        print(f"{rank}. [{score:.3f}] {chunk.id}  {chunk.source}  {chunk.heading.split(' > ')[-1]}")
        print("   " + chunk.text[:400].replace("\n", "\n   "))
    return 0


def _datasets(args: argparse.Namespace) -> int:
    from mimir.knowledge.datasets import catalog

    if args.ds_action == "list":
        for name, spec in catalog().items():
            if args.domain and spec.domain != args.domain:
                continue
            config = f" ({spec.config})" if spec.config else ""
            print(f"{name:34} {spec.domain:10} {spec.hub_id}{config} [{spec.split}]  {spec.description[:70]}")
        return 0
    if args.ds_action == "show":
        specs = catalog()
        if args.name not in specs:
            raise ConfigError(f"{args.name!r} is not in the catalog; see `python -m mimir knowledge datasets list`")
        print(json.dumps(specs[args.name].to_dict(), indent=1))
        return 0
    from mimir.knowledge.hub_search import search_hub_datasets

    for found in search_hub_datasets(" ".join(args.words), limit=args.limit, task=args.task):
        print(f"{found.id:60} downloads {found.downloads:>10}  likes {found.likes:>6}")
    return 0
