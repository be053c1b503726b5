"""Stage markers of a resumable run folder: a stage that finished writes ``stages/NAME.json``."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)


class RunDir:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "stages").mkdir(exist_ok=True)

    def path(self, *parts: str) -> Path:
        p = self.root.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def done(self, stage: str) -> dict[str, Any] | None:
        marker = self.root / "stages" / f"{stage}.json"
        return json.loads(marker.read_text(encoding="utf-8")) if marker.exists() else None

    def stage(self, stage: str, work: Callable[[], dict[str, Any]], echo: Callable[[str], None] = print) -> dict[str, Any]:
        """Run ``work`` unless ``stage`` already finished; returns its (saved) info, with its duration."""
        info = self.done(stage)
        if info is not None:
            echo(f"[skip] {stage} (finished in an earlier run, {info.get('seconds', 0):.0f} s)")
            return info
        echo(f"[run ] {stage} ...")
        start = time.monotonic()
        info = dict(work())
        info["seconds"] = round(time.monotonic() - start, 1)
        tmp = self.root / "stages" / f"{stage}.json.tmp"
        tmp.write_text(json.dumps(info, indent=2, default=str), encoding="utf-8")
        tmp.replace(self.root / "stages" / f"{stage}.json")
        echo(f"[done] {stage} in {info['seconds']:.0f} s")
        return info
