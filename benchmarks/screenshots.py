"""Screenshots of every tab of the app into ``docs/screenshots/*.png`` (headless Debian Chromium).

    python benchmarks/screenshots.py                 # runs the guided run on the embedded model (a few minutes on CPU)
    python benchmarks/screenshots.py --no-guided     # tabs only, no model loaded

The app is served on 127.0.0.1 from a temporary runs root. The bundled example is loaded into the
Knowledge tab; unless ``--no-guided``, the Guided run runs on the example with a small cap
(60 facts, 2 training steps) and its knowledge-check result is captured.
"""

from __future__ import annotations

import argparse
import re
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
QUICK = {"recipe": {"max_facts": 60, "questions_per_fact": 2}, "train": {"max_steps": 2}, "check": {"general_passages": 2}}
TABS = [("Guided run", "guided"), ("1 · Knowledge", "knowledge"), ("2 · Roles & tools", "roles"),
        ("3 · Generate", "generate"), ("4 · Verify", "verify"), ("5 · Train", "train"), ("6 · Evaluate", "evaluate"),
        ("7 · Hub", "hub")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def take(out: Path, guided: bool, guided_timeout_s: int) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    from mimir.runtime import settle_openmp_waiting

    settle_openmp_waiting()
    import os

    from mimir.ui.app import build_app, launch_kwargs
    from mimir.ui.launch import QUIET_ENV

    os.environ.update(QUIET_ENV)
    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="mimir-shots-") as tmp:
        demo = build_app(Path(tmp) / "runs", guided_overrides=QUICK)
        demo.queue()
        port = _free_port()
        demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kwargs(demo))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.set_default_timeout(60_000)
                page.goto(f"http://127.0.0.1:{port}/")
                expect(page.locator("#mimir-workspace")).to_contain_text("s-")
                if guided:
                    started = time.monotonic()
                    page.locator("#guided-run").click()
                    status = page.locator("#guided-status")
                    expect(status.filter(has_text="done in").or_(page.locator(".toast-body")).first).to_be_visible(
                        timeout=guided_timeout_s * 1000)
                    if page.locator(".toast-body").count():
                        raise SystemExit(f"guided run failed: {page.locator('.toast-body').first.inner_text()}")
                    expect(page.locator("#guided-result")).to_contain_text("Knowledge check")
                    print(f"guided run: {time.monotonic() - started:.0f} s", file=sys.stderr)
                page.get_by_role("tab", name="1 · Knowledge").click()
                page.get_by_role("button", name="Load example (clinic handbook)").click()
                expect(page.locator("#kb-chunks")).to_contain_text("riverbend-clinic-handbook.md")
                for label, name in TABS:
                    page.get_by_role("tab", name=label, exact=True).click()
                    expect(page.get_by_role("tab", name=label, exact=True)).to_have_attribute("aria-selected", "true")
                    path = out / f"{name}.png"
                    page.screenshot(path=str(path), full_page=True)
                    shots.append(path)
                    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path, file=sys.stderr)
                browser.close()
        finally:
            demo.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"), help="Folder for the PNG files.")
    parser.add_argument("--no-guided", dest="guided", action="store_false",
                        help="Skip the guided run (no model is loaded; its tab is shown before a run).")
    parser.add_argument("--guided-timeout", type=int, default=900, help="Seconds to wait for the guided run.")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print("Debian chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 2
    shots = take(Path(args.out), args.guided, args.guided_timeout)
    return 0 if shots and all(re.search(r"\.png$", str(s)) and s.stat().st_size > 10_000 for s in shots) else 1


if __name__ == "__main__":
    sys.exit(main())
