"""A knowledge base on disk: one folder with the documents, their chunks, indexes and a manifest.

Layout::

    <kb>/manifest.json          config, one entry per source (sha256, size, format, chunk count),
                                the name of the current chunk file
    <kb>/documents/<name>       a copy of each added file under its sanitised, distinct name
    <kb>/chunks-<gen>.jsonl     every Chunk, in source order (``chunks.jsonl`` in older bases)
    <kb>/index/<mode>/          the saved retrieval index + the fingerprint of the chunks it covers

Adding a file whose name and content are already there is a no-op; a new version under the
same name replaces the old chunks. Every add and remove is one transaction (see
:mod:`mimir.knowledge.txn`): a crash leaves the base as it was before, or fully after.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import hashlib
import json
import logging
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from mimir.config import config_from_dict
from mimir.errors import InputFileError, KnowledgeBaseError
from mimir.jsonl import read_records
from mimir.knowledge.chunking import chunk_document
from mimir.knowledge.config import KnowledgeConfig
from mimir.knowledge.loaders import load_document
from mimir.knowledge.names import distinct_name, sanitize_name
from mimir.knowledge.txn import Transaction, atomic_write, chunks_file, finish, sweep, write_manifest
from mimir.knowledge.retrieval import TOKENIZER_VERSION, BM25Index, DenseIndex, Index, fuse
from mimir.types import Chunk, stable_id

log = logging.getLogger(__name__)

FORMAT = "mimir-knowledge"
VERSION = 1
MANIFEST, CHUNKS, DOCUMENTS, INDEX = "manifest.json", "chunks.jsonl", "documents", "index"


_CHUNK_FIELDS = frozenset(f.name for f in dataclasses.fields(Chunk))


@dataclass
class AddReport:
    """What one add call did. ``errors`` holds (name, cause) for each file that could not be used."""

    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    chunks_added: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        parts = [f"{len(self.added)} added ({self.chunks_added} chunks)", f"{len(self.skipped)} unchanged"]
        if self.errors:
            parts.append(f"{len(self.errors)} failed")
        return ", ".join(parts)


def _locked(method):  # type: ignore[no-untyped-def]
    """Run a KnowledgeBase method under the instance's re-entrant lock."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def index_text(chunk: Chunk) -> str:
    """What retrieval sees: the heading path gives short passages their section's words."""
    return f"{chunk.heading}\n{chunk.text}" if chunk.heading else chunk.text


class KnowledgeBase:
    """Documents and dataset rows as chunks with provenance, plus their search indexes."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self._manifest = manifest
        self.config = config_from_dict(KnowledgeConfig, manifest.get("config", {}), where=f"{root / MANIFEST}: config")
        self._chunks: list[Chunk] | None = None
        self._by_id: dict[str, int] = {}
        self._indexes: dict[str, Index] = {}
        self.index_builds = 0  # how many times an index was built (not loaded) in this process
        # one UI process may serve several sessions: adds and lazy index loads must not interleave
        self._lock = threading.RLock()

    # ----------------------------------------------------------------- create / open
    @classmethod
    def create(cls, path: str | Path, config: KnowledgeConfig | None = None, *, exist_ok: bool = False) -> "KnowledgeBase":
        """Make a new knowledge base folder (it may exist but must be empty)."""
        root = Path(path)
        if (root / MANIFEST).exists():
            if exist_ok:
                return cls.open(root)
            raise KnowledgeBaseError(f"{root}: a knowledge base already exists here; open it instead")
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise KnowledgeBaseError(f"{root}: exists and is not an empty folder; choose a new folder")
        config = config or KnowledgeConfig()
        config.validate()
        (root / DOCUMENTS).mkdir(parents=True, exist_ok=True)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created": _now(),
            "config": _config_dict(config),
            "sources": {},
            "index": {},
        }
        write_manifest(root, manifest)
        atomic_write(root / CHUNKS, "")
        return cls(root, manifest)

    @classmethod
    def open(cls, path: str | Path) -> "KnowledgeBase":
        """Open an existing knowledge base folder."""
        root = Path(path)
        if not root.is_dir():
            raise KnowledgeBaseError(f"{root}: no such knowledge base folder; create it first (python -m mimir knowledge add)")
        manifest_path = root / MANIFEST
        if not manifest_path.is_file():
            raise KnowledgeBaseError(f"{root}: not a knowledge base ({MANIFEST} missing)")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise KnowledgeBaseError(f"{manifest_path}: unreadable ({exc})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise KnowledgeBaseError(f"{manifest_path}: not a MIMIR knowledge base manifest")
        if manifest.get("version") != VERSION:
            raise KnowledgeBaseError(f"{manifest_path}: version {manifest.get('version')!r} is not supported (expected {VERSION})")
        if manifest.get("pending"):  # a committed add/remove was cut short: finish it
            try:
                finish(root, manifest)
            except OSError as exc:
                raise KnowledgeBaseError(f"{root}: cannot finish an interrupted update ({exc.strerror or exc})") from None
        return cls(root, manifest)

    @property
    def name(self) -> str:
        return self.root.name

    # ----------------------------------------------------------------- reading
    @property
    def sources(self) -> dict[str, dict[str, Any]]:
        """Manifest entries by source name (files and datasets), in the order they were added."""
        return json.loads(json.dumps(self._manifest["sources"]))

    def chunks(self) -> list[Chunk]:
        return list(self._load_chunks())

    def get(self, chunk_id: str) -> Chunk:
        chunks = self._load_chunks()
        try:
            return chunks[self._by_id[chunk_id]]
        except KeyError:
            raise KeyError(f"chunk {chunk_id!r} is not in knowledge base {self.root}") from None

    def __len__(self) -> int:
        return len(self._load_chunks())

    @_locked
    def _load_chunks(self) -> list[Chunk]:
        if self._chunks is None:
            path = self.root / chunks_file(self._manifest)
            if not path.is_file():
                # another process committed a newer chunk file and removed ours: read its manifest
                fresh = KnowledgeBase.open(self.root)._manifest
                path = self.root / chunks_file(fresh)
                if not path.is_file():
                    raise KnowledgeBaseError(f"{self.root}: the chunk file {path.name} is missing; add the documents again")
                self._manifest = fresh
            try:
                records = list(read_records(path))
            except ValueError as exc:
                raise KnowledgeBaseError(str(exc)) from None
            # Chunk is flat (no nested records), so the generic from_dict's type-hint walk is not needed
            names = _CHUNK_FIELDS
            self._set_chunks([Chunk(**{k: v for k, v in r.items() if k in names}) for r in records])
        return self._chunks  # type: ignore[return-value]

    def _set_chunks(self, chunks: list[Chunk]) -> None:
        self._chunks = chunks
        self._by_id = {c.id: i for i, c in enumerate(chunks)}

    # ----------------------------------------------------------------- adding
    @_locked
    def add_files(self, paths: Iterable[str | Path], *, names: Iterable[str] | None = None) -> AddReport:
        """Load, chunk and index files. Each file that fails is reported; the others still load.

        ``names`` gives display names (e.g. the original upload names) in the same order.
        """
        paths = [Path(p) for p in paths]
        display = list(names) if names is not None else [p.name for p in paths]
        if len(display) != len(paths):
            raise ValueError("names must have one entry per path")
        report = AddReport()
        txn = self._begin()
        used: set[str] = set()  # stored names given out in this call: two files never share one
        for path, raw_name in zip(paths, display):
            name = sanitize_name(raw_name)
            if name.casefold() in {u.casefold() for u in used}:
                distinct = distinct_name(name, used | set(self._manifest["sources"]))
                report.warnings.append(f"{raw_name}: another file in this add is also named {name}; stored as {distinct}")
                name = distinct
            used.add(name)
            try:
                self._add_one_file(path, name, report, txn)
            except InputFileError as exc:
                report.errors.append((name, str(exc)))
            except OSError as exc:  # unreadable file: permissions, vanished mid-upload
                report.errors.append((name, f"{name}: cannot be read ({exc.strerror or exc})"))
            except BaseException:  # interrupted: nothing of this call is kept
                txn.abandon()
                self._reload()
                raise
        if report.added:
            self._commit(txn)
        else:
            txn.abandon()
        return report

    def _add_one_file(self, path: Path, name: str, report: AddReport, txn: Transaction) -> None:
        if not path.is_file():
            raise InputFileError(f"{name}: not found or not a regular file")
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.stat().st_size <= self._max_bytes() else ""
        sources = self._manifest["sources"]
        if name in sources and sources[name].get("sha256") == digest:
            report.skipped.append(name)
            return
        twin = next((n for n, e in sources.items() if digest and e.get("sha256") == digest), None)
        if twin is not None:
            report.skipped.append(name)
            report.warnings.append(f"{name}: same content as {twin}, not added twice")
            return
        document = load_document(path, self.config, name=name)
        chunks = chunk_document(document, self.config.chunk_tokens, self.config.overlap_tokens)
        txn.stage(path, name)
        if name in sources:
            report.warnings.append(f"{name}: replaced the earlier version")
        entry = {
            "type": "file",
            "format": document.format,
            "sha256": digest,
            "size": path.stat().st_size,
            "stored_as": f"{DOCUMENTS}/{name}",
            "chunks": len(chunks),
            "added": _now(),
            "warnings": document.warnings,
        }
        report.warnings.extend(f"{name}: {w}" for w in document.warnings)
        self._replace_source(name, entry, chunks)
        report.added.append(name)
        report.chunks_added += len(chunks)

    @_locked
    def add_dataset(self, spec: Any, limit: int | None = None, **options: Any) -> AddReport:
        """Add a public dataset's rows as question/answer chunks (see ``mimir.knowledge.datasets``).

        ``spec`` is a catalog name (``assets/datasets.yaml``), a ``DatasetSpec`` or a mapping
        with the same fields. Re-adding the same dataset, split and limit is a no-op.
        """
        from mimir.knowledge.datasets import load_dataset_chunks, resolve_spec

        resolved = resolve_spec(spec, **options)
        key = resolved.source_key()
        report = AddReport()
        previous = self._manifest["sources"].get(key)
        if previous and previous.get("limit") == limit and previous.get("spec") == resolved.to_dict():
            report.skipped.append(key)
            return report
        chunks = load_dataset_chunks(resolved, limit=limit)
        entry = {"type": "dataset", "spec": resolved.to_dict(), "limit": limit, "chunks": len(chunks), "added": _now()}
        if previous:
            report.warnings.append(f"{key}: replaced the earlier rows (different limit or mapping)")
        self._replace_source(key, entry, chunks)
        report.added.append(key)
        report.chunks_added = len(chunks)
        self._commit(self._begin())
        return report

    @_locked
    def add_chunks(self, key: str, chunks: list[Chunk], entry: dict[str, Any] | None = None) -> None:
        """Add ready-made chunks under a source key (replacing that key's chunks)."""
        txn = self._begin()
        self._replace_source(key, {"type": "chunks", "chunks": len(chunks), "added": _now(), **(entry or {})}, chunks)
        self._commit(txn)

    @_locked
    def remove(self, name: str) -> bool:
        """Forget a source and its chunks; True if it was there."""
        if name not in self._manifest["sources"]:
            return False
        txn = self._begin()
        chunks = self._load_chunks()
        entry = self._manifest["sources"].pop(name)
        if entry.get("stored_as"):
            txn.remove(entry["stored_as"])
        self._set_chunks([c for c in chunks if self._source_key(c) != name])
        self._commit(txn)
        return True

    @staticmethod
    def _source_key(chunk: Chunk) -> str:
        return str(chunk.meta.get("source_key", chunk.source))

    def _replace_source(self, key: str, entry: dict[str, Any], chunks: list[Chunk]) -> None:
        for chunk in chunks:
            if chunk.source != key:
                chunk.meta["source_key"] = key
        kept = [c for c in self._load_chunks() if self._source_key(c) != key]
        seen = {c.id for c in kept}
        fresh = [c for c in chunks if not (c.id in seen or seen.add(c.id))]  # type: ignore[func-returns-value]
        self._manifest["sources"].pop(key, None)
        self._manifest["sources"][key] = entry
        self._set_chunks(kept + fresh)

    def _max_bytes(self) -> int:
        return int(self.config.max_file_mb * 1024 * 1024)

    def _begin(self) -> Transaction:
        """Start a transaction: sweep what an interrupted one left, load the chunks to change."""
        sweep(self.root, self._manifest)
        self._load_chunks()
        return Transaction(self.root)

    def _commit(self, txn: Transaction) -> None:
        """Chunks, indexes and manifest as one transaction (see :mod:`mimir.knowledge.txn`).

        On any failure the in-memory state is reloaded from disk, which still holds the old base.
        """
        try:
            chunks = self._load_chunks()
            lines = "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in chunks)
            self._indexes.clear()
            for mode in ("bm25", *[m for m in self._manifest.get("index", {}) if m != "bm25"]):
                self._index(mode, persist_manifest=False)
            txn.commit(self._manifest, lines)
        except BaseException:
            txn.abandon()
            self._reload()
            raise

    def _reload(self) -> None:
        try:
            self._manifest = json.loads((self.root / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        self._chunks, self._by_id = None, {}
        self._indexes.clear()

    # ----------------------------------------------------------------- search
    def fingerprint(self) -> str:
        return stable_id(TOKENIZER_VERSION, *[c.id for c in self._load_chunks()], prefix="fp_")

    @_locked
    def _index(self, mode: str, *, persist_manifest: bool = True) -> Index:
        if mode in self._indexes:
            return self._indexes[mode]
        index: Index = BM25Index() if mode == "bm25" else DenseIndex(self.config.dense_model)
        folder = self.root / INDEX / mode
        marker = folder / "fingerprint.json"
        fingerprint = self.fingerprint()
        loaded = False
        if marker.is_file():
            try:
                if json.loads(marker.read_text()).get("fingerprint") == fingerprint:
                    index.load(folder)
                    loaded = True
            except (OSError, ValueError, KeyError) as exc:
                log.warning("index %s unreadable (%s); rebuilding", folder, exc)
        if not loaded:
            if isinstance(index, DenseIndex) and folder.is_dir():
                index.reuse(folder)  # incremental: only chunks not embedded before are encoded
            index.build([index_text(c) for c in self._load_chunks()])
            self.index_builds += 1
            if folder.exists():
                shutil.rmtree(folder)
            index.save(folder)
            atomic_write(marker, json.dumps({"fingerprint": fingerprint, "chunks": len(self._load_chunks())}))
            self._manifest.setdefault("index", {})[mode] = {"fingerprint": fingerprint, "built": _now()}
            if persist_manifest and not self._manifest.get("pending"):
                write_manifest(self.root, self._manifest)
        self._indexes[mode] = index
        return index

    def search_many(self, queries: list[str], k: int = 5, mode: str | None = None) -> list[list[tuple[Chunk, float]]]:
        """``search`` for many queries; dense embeddings of the queries are computed in one batch."""
        mode = mode or self.config.retriever
        if mode in ("dense", "hybrid"):
            dense = self._index("dense")
            if isinstance(dense, DenseIndex):
                dense.prepare(list(queries))
        return [self.search(q, k=k, mode=mode) for q in queries]

    def search(self, query: str, k: int = 5, mode: str | None = None) -> list[tuple[Chunk, float]]:
        """The ``k`` best chunks for ``query`` with their scores, best first."""
        mode = mode or self.config.retriever
        if mode not in ("bm25", "dense", "hybrid"):
            raise ValueError(f"unknown retrieval mode {mode!r}; use bm25, dense or hybrid")
        if k <= 0:
            return []
        chunks = self._load_chunks()
        if mode == "hybrid":
            depth = max(k * 4, 20)
            hits = fuse([self._index("bm25").search(query, depth), self._index("dense").search(query, depth)], k)
        else:
            hits = self._index(mode).search(query, k)
        return [(chunks[i], score) for i, score in hits if i < len(chunks)]


def _config_dict(config: KnowledgeConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)
