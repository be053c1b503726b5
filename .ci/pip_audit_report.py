"""One report line: known vulnerabilities in the installed versions of requirements.txt (never fatal).

pip-audit asks the PyPI JSON API for advisories. Where that service cannot be reached (a mirror
that serves only the package index, no network) every package comes back "not found", which is
not the same as "no vulnerabilities": that case is reported as a skip, not as a clean bill.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TIMEOUT_S = 300


def pinned(requirements: Path) -> list[str]:
    """name==installed-version for each package requirements.txt names (those installed)."""
    out = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name = re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0]
        try:
            out.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return out


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    if shutil.which("pip-audit") is None:
        print("pip-audit: skipped (pip-audit is not installed)")
        return 0
    pins = pinned(root / "requirements.txt")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(pins) + "\n")
    command = ["pip-audit", "-r", handle.name, "--no-deps", "--disable-pip", "--progress-spinner", "off",
               "--timeout", "20", "--format", "json"]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"pip-audit: skipped (no answer from the advisory service within {TIMEOUT_S} s)")
        return 0
    finally:
        Path(handle.name).unlink(missing_ok=True)
    try:
        report = json.loads(run.stdout)
    except ValueError:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1][:200]
        print(f"pip-audit: skipped (advisory service unreachable or failed: {last})")
        return 0
    deps = report.get("dependencies", [])
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = [d for d in deps if not d.get("skip_reason")]
    if deps and not audited:
        print(f"pip-audit: skipped (advisory service unreachable: none of {len(deps)} packages could be looked up)")
        return 0
    findings = [(d["name"], d["version"], v["id"], ",".join(v.get("fix_versions", [])) or "no fix yet")
                for d in audited for v in d.get("vulns", [])]
    detail = "; ".join(f"{n} {ver}: {vid} (fixed in {fix})" for n, ver, vid, fix in findings)
    print(f"pip-audit: {len(audited)} packages audited, {len(findings)} known vulnerabilities"
          + (f", {len(skipped)} not auditable" if skipped else "") + (f" — {detail}" if detail else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
