"""Safe, distinct names for stored documents, and the files a folder may contribute.

A document is stored under a name derived from the uploaded or given file name:

* directories are dropped (no ``..`` or absolute paths can escape the documents folder);
* Unicode is kept, normalised to NFKC (``名前.md`` stays ``名前.md``; ``ｆｕｌｌ.md`` becomes
  ``full.md``); control, format (zero-width, bidi override) and shell-hostile characters become ``_``;
* the name fits a file system entry (at most 200 UTF-8 bytes);
* two different files never share a name in one add: the later one gets `` (2)``, `` (3)`` ...

:func:`expand_paths` turns the paths a user gave into files, refusing symlinks that lead out of
the folder they were found in (a link to ``/etc/passwd`` inside a shared folder is not knowledge).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

RESERVED = frozenset({"manifest.json", "chunks.jsonl"})
_MAX_BYTES = 200
# characters that are fine in a file name on every common file system (Unicode letters/digits kept)
_UNSAFE = re.compile(r"[^\w.\- ()\[\]+,@&'=~]+")
_WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.I)


def _visible(text: str) -> str:
    """Each control / format / separator-other character becomes ``_`` (zero-width, bidi, NUL...)."""
    return "".join("_" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") else ch for ch in text)


def _fit(stem: str, ext: str) -> str:
    """Cut ``stem`` (whole characters) so that stem + ext is at most _MAX_BYTES in UTF-8."""
    budget = _MAX_BYTES - len(ext.encode("utf-8"))
    encoded = stem.encode("utf-8")
    if len(encoded) > budget:
        stem = encoded[:budget].decode("utf-8", errors="ignore")
    return stem.strip(" .")


def sanitize_name(name: str) -> str:
    """A safe file name that keeps the letters of any script (see the module docstring)."""
    base = re.split(r"[\\/]", str(name))[-1]
    base = unicodedata.normalize("NFKC", base)
    base = re.split(r"[\\/]", base)[-1]  # NFKC can turn fullwidth solidus into a slash
    base = _visible(base)
    base = re.sub(r"_+", "_", _UNSAFE.sub("_", base)).strip(" ")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = ext.strip(" ")[:12]
    stem = stem.strip(" .") or "file"  # '..md' -> 'file.md': no hidden files, the extension kept
    stem = _fit(stem, f".{ext}" if ext else "") or "file"
    safe = f"{stem}.{ext}" if ext else stem
    if safe.lower() in RESERVED or _WINDOWS_DEVICES.match(safe):
        safe = f"file_{safe}"
    return safe


def distinct_name(name: str, taken: set[str]) -> str:
    """``name``, or ``stem (2).ext``, ``stem (3).ext`` ... whichever is not in ``taken`` (case-insensitively)."""
    lowered = {t.casefold() for t in taken}
    if name.casefold() not in lowered:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    for n in range(2, 10_000):
        suffix = f" ({n})"
        candidate = _fit(stem, suffix + (f".{ext}" if ext else "")) + suffix + (f".{ext}" if ext else "")
        if candidate.casefold() not in lowered:
            return candidate
    raise ValueError(f"{name}: too many files with this name")


@dataclass
class Expanded:
    """Files to add, with display names, and (path, reason) for what was refused."""

    files: list[Path] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def expand_paths(paths: list[str | Path], recursive: bool, suffixes: tuple[str, ...]) -> Expanded:
    """Files of the given paths (folders: their files with a supported suffix, sub-folders if ``recursive``).

    A file found in a folder is named by its path relative to that folder (``a/index.md`` and
    ``b/index.md`` stay distinct after sanitising: ``a_index.md``, ``b_index.md``). A symlink whose
    target lies outside the folder it was found in is refused, as is a link to a non-file.
    """
    out = Expanded()
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            out.files.append(path)  # missing files are reported by add_files, by name
            out.names.append(path.name)
            continue
        root = path.resolve()
        for folder, dirs, files in os.walk(path, followlinks=False):
            dirs.sort()
            here = Path(folder)
            for d in list(dirs):
                if (here / d).is_symlink():
                    target = (here / d).resolve()
                    if not _inside(target, root):
                        out.refused.append((str(here / d), "a symbolic link to a folder outside the chosen folder; refused"))
                    dirs.remove(d)  # never descend through links (loops, escapes)
            if not recursive:
                dirs.clear()
            for f in sorted(files):
                candidate = here / f
                if candidate.suffix.lower() not in suffixes:
                    continue
                if candidate.is_symlink():
                    target = candidate.resolve()
                    if not _inside(target, root):
                        out.refused.append((str(candidate), "a symbolic link to a file outside the chosen folder; refused"))
                        continue
                    if not target.is_file():
                        out.refused.append((str(candidate), "a symbolic link to something that is not a regular file; refused"))
                        continue
                relative = candidate.relative_to(path)
                out.files.append(candidate)
                out.names.append(relative.name if len(relative.parts) == 1 else "_".join(relative.parts))
    return out
