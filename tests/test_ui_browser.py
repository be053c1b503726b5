"""The real app on 127.0.0.1, driven by headless Debian Chromium through playwright.

Loads the example knowledge, sees its chunks and a search hit, runs a tiny generation on the
scripted model and watches the dialogues appear, then verifies them and sees the verdicts. Set ``MIMIR_SCREENSHOT=path.png`` to also
save a screenshot of the Generate tab (that is how ``assets/screenshot.png`` is made).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian chromium is not installed (apt-get install -y chromium chromium-driver)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency (pip install -e \".[dev]\")")
gr = pytest.importorskip("gradio")

from mimir.models.scripted import ScriptedModel  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
TIMEOUT_MS = 60_000


def _expert(conversation):
    return "Reasoning: the handbook covers this.\nAnswer: On Saturday the clinic is open from 08:00 to 13:00."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(tmp_path, monkeypatch):
    from mimir.ui.app import build_app, launch_kwargs
    from mimir.ui.launch import QUIET_ENV

    for key, value in QUIET_ENV.items():
        monkeypatch.setenv(key, value)
    model = ScriptedModel(default=_expert)
    demo = build_app(tmp_path / "runs", model_loader=lambda spec: model, default_model="scripted")
    demo.queue()
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kwargs(demo))
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture
def page(tmp_path):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        playwright.expect.set_options(timeout=TIMEOUT_MS)  # a loaded CI box renders slowly
        yield page
        browser.close()


def _set_number(page, elem_id: str, value: int) -> None:
    """Type a number and wait until the box holds it (a tab that is still rendering resets it)."""
    box = page.locator(f"#{elem_id} input[type=number]")
    playwright.expect(box).to_be_editable()
    box.fill(str(value))
    box.press("Enter")
    playwright.expect(box).to_have_value(str(value))


def test_load_example_search_generate_and_verify_in_the_browser(app_url, page, tmp_path):
    expect = playwright.expect
    page.goto(app_url)
    expect(page.get_by_text("MIMIR — personalized agent tuning")).to_be_visible()
    expect(page.locator("#mimir-workspace")).to_contain_text("s-")

    page.get_by_role("tab", name="1 · Knowledge").click()  # the guided run is the first tab
    page.get_by_role("button", name="Load example (clinic handbook)").click()
    chunks = page.locator("#kb-chunks")
    expect(chunks).to_contain_text("riverbend-clinic-handbook.md", timeout=TIMEOUT_MS)
    expect(page.locator("#kb-report")).to_contain_text("Example knowledge loaded")

    page.locator("#kb-query textarea, #kb-query input").first.fill("Saturday opening hours")
    page.locator("#kb-search").click()
    expect(page.locator("#kb-hits")).to_contain_text("08:00")

    page.get_by_role("tab", name="3 · Generate").click()
    expect(page.locator("#gen-run")).to_be_visible()
    _set_number(page, "gen-n", 2)
    _set_number(page, "gen-turns", 2)
    page.locator("#gen-run").click()
    expect(page.locator("#gen-status")).to_contain_text("done", timeout=TIMEOUT_MS)
    expect(page.locator("#gen-status")).to_contain_text("2 dialogue(s)")
    expect(page.locator("#gen-chat")).to_contain_text("08:00 to 13:00")
    expect(page.locator("#gen-table")).to_contain_text("doctor")

    page.get_by_role("tab", name="4 · Verify").click()
    page.locator("#verify-run").click()
    expect(page.locator("#verify-totals")).to_contain_text("2 dialogue(s)", timeout=TIMEOUT_MS)
    expect(page.locator("#verify-table")).to_contain_text("dlg-")

    page.get_by_role("tab", name="3 · Generate").click()
    shot = os.environ.get("MIMIR_SCREENSHOT")
    page.screenshot(path=shot or str(tmp_path / "generate.png"), full_page=True)
    assert Path(shot or tmp_path / "generate.png").stat().st_size > 10_000
