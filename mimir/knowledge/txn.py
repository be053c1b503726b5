"""All-or-nothing changes to a knowledge base folder.

One add or remove is one transaction. Everything new is written under fresh names first:

1. new document copies into ``documents/.incoming-<gen>/``;
2. the full chunk list into ``chunks-<gen>.jsonl`` (fsynced);
3. the indexes (each carries the fingerprint of the chunks it covers, so a stale one is rebuilt);
4. the manifest, naming the new chunk file and the pending document moves, is renamed into place.
   **This rename is the commit point.**
5. The pending moves are applied (staged documents renamed into ``documents/``, removed ones
   deleted, the old chunk file deleted) and the manifest is written again without them.

A crash before step 4 leaves the old manifest, which still names the old chunk file: the knowledge
base is exactly as before (the leftovers are swept by the next writer). A crash after step 4 leaves
the new manifest with its pending moves, which the next open finishes: the base is fully after.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

MANIFEST, LEGACY_CHUNKS, DOCUMENTS = "manifest.json", "chunks.jsonl", "documents"
_INCOMING = ".incoming-"
log = logging.getLogger(__name__)


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file, fsync it, rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    atomic_write(root / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))


def chunks_file(manifest: dict[str, Any]) -> str:
    return str(manifest.get("chunks_file") or LEGACY_CHUNKS)


class Transaction:
    """Staged document copies and removals of one add/remove call."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.gen = uuid.uuid4().hex[:12]
        self.staged: dict[str, str] = {}  # stored name -> staged path relative to root
        self.removed: set[str] = set()  # stored_as paths to delete at commit
        self.committed = False

    @property
    def incoming(self) -> Path:
        return self.root / DOCUMENTS / f"{_INCOMING}{self.gen}"

    def stage(self, source: Path, name: str) -> None:
        """Copy ``source`` to the staging folder as ``name`` (fsynced)."""
        self.incoming.mkdir(parents=True, exist_ok=True)
        target = self.incoming / name
        shutil.copyfile(source, target)
        with target.open("rb") as handle:
            os.fsync(handle.fileno())
        self.staged[name] = str(target.relative_to(self.root))
        self.removed.discard(f"{DOCUMENTS}/{name}")

    def remove(self, stored_as: str) -> None:
        name = Path(stored_as).name
        if name not in self.staged:
            self.removed.add(stored_as)

    def commit(self, manifest: dict[str, Any], chunk_lines: str) -> None:
        """Steps 2, 4 and 5 (the caller builds indexes between writing chunks and the manifest)."""
        old = chunks_file(manifest)
        new = f"chunks-{self.gen}.jsonl"
        atomic_write(self.root / new, chunk_lines)
        manifest["chunks_file"] = new
        manifest["pending"] = {
            "documents": dict(self.staged),
            "remove": sorted(self.removed),
            "old_chunks": old if old != new else None,
        }
        write_manifest(self.root, manifest)  # the commit point
        self.committed = True
        try:
            finish(self.root, manifest)
        except OSError as exc:  # durable already: the next open finishes the moves
            log.warning("%s: update committed, finishing it failed (%s); it completes on the next open", self.root.name, exc)

    def abandon(self) -> None:
        """Drop the staged copies of an uncommitted transaction (a committed one is kept for roll-forward)."""
        if not self.committed:
            shutil.rmtree(self.incoming, ignore_errors=True)


def finish(root: Path, manifest: dict[str, Any]) -> None:
    """Apply a committed transaction's pending moves (idempotent: safe to rerun after a crash)."""
    pending = manifest.get("pending")
    if not pending:
        return
    documents = root / DOCUMENTS
    for name, staged in pending.get("documents", {}).items():
        source = root / staged
        if source.is_file():
            os.replace(source, documents / name)
    for stored in pending.get("remove", []):
        target = root / stored
        if target.parent == documents and target.name not in pending.get("documents", {}):
            target.unlink(missing_ok=True)
    old = pending.get("old_chunks")
    if old and old != chunks_file(manifest) and "/" not in old:
        (root / old).unlink(missing_ok=True)
    for staged in {Path(s).parent for s in pending.get("documents", {}).values()}:
        shutil.rmtree(root / staged, ignore_errors=True)
    fsync_dir(documents)
    manifest.pop("pending", None)
    write_manifest(root, manifest)


def sweep(root: Path, manifest: dict[str, Any]) -> None:
    """Remove what uncommitted transactions left behind (only the writer calls this)."""
    current = chunks_file(manifest)
    for path in root.glob("chunks-*.jsonl"):
        if path.name != current:
            path.unlink(missing_ok=True)
    for path in root.glob(".*.tmp"):
        path.unlink(missing_ok=True)
    documents = root / DOCUMENTS
    if documents.is_dir():
        for path in documents.glob(f"{_INCOMING}*"):
            shutil.rmtree(path, ignore_errors=True)
