"""The verification report: totals by decision and by reason, as JSON and as readable text."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from mimir.types import Verdict

DECISIONS = ("keep", "fix", "reject", "judge_failed")


def reason_code(reason: str) -> str:
    """'ungrounded_number: ...' -> 'ungrounded_number'."""
    return reason.split(":", 1)[0].strip()


@dataclass
class VerifyReport:
    """What a verification run decided, and where it wrote it."""

    total: int = 0
    by_decision: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)  # dialogues with at least one reason of the code
    by_decision_reason: dict[str, dict[str, int]] = field(default_factory=dict)
    mode: str = "filter"
    judge: str = ""
    resumed: int = 0  # verdicts found from an earlier run
    judged: int = 0
    judge_replies: int = 0
    judge_malformed: int = 0
    grounding_claims: int = 0
    grounding_unsupported: int = 0
    elapsed_s: float = 0.0
    paths: dict[str, str] = field(default_factory=dict)

    @property
    def kept(self) -> int:
        return self.by_decision.get("keep", 0) + self.by_decision.get("fix", 0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        lines = [f"Verified {self.total} dialogues (mode {self.mode}" + (f", judge {self.judge}" if self.judge else "") + ")."]
        for d in DECISIONS:
            n = self.by_decision.get(d, 0)
            lines.append(f"  {d:<13}{n:>6}  {_pct(n, self.total)}")
        if self.by_decision_reason:
            lines.append("Reasons (dialogues per reason, by decision):")
            for d in DECISIONS:
                for code, n in sorted(self.by_decision_reason.get(d, {}).items(), key=lambda kv: (-kv[1], kv[0])):
                    lines.append(f"  {d:<13}{code:<32}{n:>6}")
        if self.grounding_claims:
            lines.append(
                f"Grounding: {self.grounding_unsupported} of {self.grounding_claims} expert claims found in no source "
                f"({_pct(self.grounding_unsupported, self.grounding_claims)})."
            )
        if self.judged:
            lines.append(f"Judge: {self.judged} dialogues, {self.judge_replies} replies, {self.judge_malformed} malformed.")
        if self.resumed:
            lines.append(f"Resumed: {self.resumed} verdicts came from an earlier run.")
        for name, path in self.paths.items():
            lines.append(f"{name}: {path}")
        return "\n".join(lines)


def summarize(verdicts: Iterable[Verdict], **fields: Any) -> VerifyReport:
    """Count decisions and reason codes (a reason code counts once per dialogue)."""
    report = VerifyReport(**fields)
    by_decision: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    by_pair: dict[str, Counter[str]] = {}
    for v in verdicts:
        report.total += 1
        by_decision[v.decision] += 1
        codes = {reason_code(r) for r in v.reasons}
        by_reason.update(codes)
        by_pair.setdefault(v.decision, Counter()).update(codes)
    report.by_decision = {d: by_decision.get(d, 0) for d in DECISIONS}
    report.by_reason = dict(sorted(by_reason.items()))
    report.by_decision_reason = {d: dict(sorted(c.items())) for d, c in by_pair.items()}
    return report


def write_report(report: VerifyReport, out_dir: Path, stem: str = "verify_report") -> tuple[Path, Path]:
    """``<stem>.json`` and ``<stem>.txt`` in ``out_dir`` (rewritten each run: they describe all verdicts)."""
    json_path, text_path = out_dir / f"{stem}.json", out_dir / f"{stem}.txt"
    report.paths.update({"report_json": str(json_path), "report_text": str(text_path)})
    _atomic_write(json_path, json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    _atomic_write(text_path, report.text() + "\n")
    return json_path, text_path


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:5.1f}%" if total else "  n/a"
