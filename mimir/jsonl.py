"""Append-only JSONL with fsync: the storage that makes every stage resumable.

A run appends one record per finished item and fsyncs, so a kill loses at most the item in
flight. A restarted run reads the ids already written and skips them. A torn last line (the
process died mid-write) is ignored on read and cut off before the next append.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

from mimir.errors import InputFileError


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Records in file order; a torn final line is skipped, a corrupt middle line is an error.

    Every error is an :class:`~mimir.errors.InputFileError` naming the file and the line, so
    the command line prints it as a message, never a traceback.
    """
    path = Path(path)
    if not path.exists():
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        last = number == len(lines)  # no newline after it: the process died mid-write
        try:
            line = raw.decode("utf-8")
            record = json.loads(line)
        except UnicodeDecodeError as exc:
            if last:
                return
            raise InputFileError(
                f"{path}: line {number} is not valid UTF-8 (bad byte at column {exc.start + 1}); fix or delete that line"
            ) from None
        except json.JSONDecodeError as exc:
            if last:  # torn tail from a crash: the item will be redone
                return
            raise InputFileError(
                f"{path}: line {number} is not valid JSON ({exc.msg} at column {exc.colno}); fix or delete that line"
            ) from None
        except RecursionError:
            raise InputFileError(f"{path}: line {number} is nested too deeply to read; fix or delete that line") from None
        if not isinstance(record, dict):
            raise InputFileError(
                f"{path}: line {number} is a JSON {type(record).__name__}, not an object (a record); fix or delete that line"
            )
        yield record


def done_ids(path: str | Path, key: str = "id") -> set[str]:
    return {str(r[key]) for r in read_records(path) if key in r}


class JsonlWriter:
    """Appends records durably. Use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _drop_torn_tail(self.path)
        self._file = self.path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def write_all(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self.write(record)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> "JsonlWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _drop_torn_tail(path: Path) -> None:
    """Cut an unterminated last line so the next append starts on a fresh line."""
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    keep = data.rfind(b"\n") + 1
    with path.open("r+b") as f:
        f.truncate(keep)
