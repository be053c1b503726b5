"""Findings of the app review, replayed in headless Chromium against the real app on 127.0.0.1.

- the workspace id in the banner is the folder the files land in, and reopening by it works;
- two browser sessions are isolated (their own workspace, neither sees the other's knowledge);
- generation status counts dialogues as they are saved; Stop says "stopping…" and acts in seconds;
- the loss plot has a numeric y axis and draws a falling loss falling.
Waits are on conditions (playwright expect), never fixed sleeps.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.test_ui_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, _free_port, _set_number, playwright

from mimir.models.scripted import ScriptedModel  # noqa: E402

ID = re.compile(r"s-[0-9a-f]{16}")


def _slow_expert(conversation):
    time.sleep(0.25)  # a slow model: a generation takes long enough to press Stop in the middle
    return "Answer: On Saturday the clinic is open from 08:00 to 13:00."


@pytest.fixture
def app(tmp_path, monkeypatch):
    from mimir.ui.app import build_app, launch_kwargs
    from mimir.ui.launch import QUIET_ENV

    for key, value in QUIET_ENV.items():
        monkeypatch.setenv(key, value)
    model = ScriptedModel(default=_slow_expert)
    runs = tmp_path / "runs"
    demo = build_app(runs, model_loader=lambda spec: model, default_model="scripted")
    demo.queue(default_concurrency_limit=4)
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kwargs(demo))
    try:
        yield f"http://127.0.0.1:{port}/", runs
    finally:
        demo.close()


@pytest.fixture
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open(browser, url):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    playwright.expect.set_options(timeout=TIMEOUT_MS)  # a loaded CI box renders slowly
    page.goto(url)
    playwright.expect(page.locator("#mimir-workspace")).to_contain_text("s-")
    page.get_by_role("tab", name="1 · Knowledge").click()  # the guided run is the first tab
    return page, ID.search(page.locator("#mimir-workspace").inner_text()).group(0)


def test_banner_id_is_the_folder_reopen_works_and_sessions_are_isolated(app, browser):
    expect = playwright.expect
    url, runs = app
    one, id_one = _open(browser, url)
    two, id_two = _open(browser, url)
    assert id_one != id_two
    assert str(runs) not in one.locator("#mimir-workspace").inner_text()  # no server path in the banner

    one.get_by_role("button", name="Load example (clinic handbook)").click()
    expect(one.locator("#kb-chunks")).to_contain_text("riverbend-clinic-handbook.md")
    assert (runs / id_one / "knowledge" / "manifest.json").is_file(), "files must land in the folder the banner names"
    assert not (runs / id_two / "knowledge").exists()

    # the second session searches: it has no knowledge of its own and never sees the first one's
    two.locator("#kb-query textarea, #kb-query input").first.fill("Saturday opening hours")
    two.locator("#kb-search").click()
    expect(two.locator(".toast-body, .toast-wrap").first).to_contain_text("no knowledge")
    assert "08:00" not in two.locator("#kb-hits").inner_text()

    # a fresh page reopens the first workspace by the id its banner showed
    three, _ = _open(browser, url)
    three.get_by_role("button", name=re.compile("^Reopen an earlier workspace")).click()
    three.get_by_placeholder("workspace id").fill(id_one)
    three.get_by_role("button", name="Reopen", exact=True).click()
    expect(three.locator("#mimir-workspace")).to_contain_text(id_one)
    three.locator("#kb-query textarea, #kb-query input").first.fill("Saturday opening hours")
    three.locator("#kb-search").click()
    expect(three.locator("#kb-hits")).to_contain_text("08:00")


def test_generation_counts_saved_dialogues_and_stop_acts_in_seconds(app, browser):
    expect = playwright.expect
    url, runs = app
    page, sid = _open(browser, url)
    page.get_by_role("button", name="Load example (clinic handbook)").click()
    expect(page.locator("#kb-chunks")).to_contain_text("riverbend-clinic-handbook.md")
    page.get_by_role("tab", name="3 · Generate").click()
    expect(page.locator("#gen-run")).to_be_visible()
    _set_number(page, "gen-n", 40)
    _set_number(page, "gen-turns", 2)
    page.locator("#gen-run").click()
    status = page.locator("#gen-status")
    expect(status).to_contain_text(re.compile(r"running… \d+/40 dialogue\(s\) saved"))
    page.locator("#gen-stop").click()
    asked = time.monotonic()
    expect(status).to_contain_text("stopping…")
    expect(status).to_contain_text("stopped after", timeout=30_000)
    assert time.monotonic() - asked < 20, "Stop must act within a few seconds"
    saved = [json.loads(line) for line in (runs / sid / "generate" / "mimir_dialogues.jsonl").read_text().splitlines() if line]
    assert len(saved) < 40, "the run went on to the end despite Stop"
    assert all(len([t for t in r["turns"] if t["role"] in ("user", "assistant")]) <= 2 for r in saved if r["status"] == "ok")


def _fake_finished_run(runs: Path, sid: str, losses: list[float]) -> None:
    out = runs / sid / "train" / "mimir-lora"
    out.mkdir(parents=True)
    with (out / "metrics.jsonl").open("w") as f:
        for step, loss in enumerate(losses, start=1):
            f.write(json.dumps({"step": step, "max_steps": len(losses), "loss": loss}) + "\n")
    (out / "status.json").write_text(json.dumps({"state": "finished", "pid": 0}))


def test_loss_axis_is_numeric_and_a_falling_loss_is_drawn_falling(app, browser):
    expect = playwright.expect
    url, runs = app
    page, sid = _open(browser, url)
    page.get_by_role("tab", name="2 · Roles & tools").click()  # touch the workspace so it exists
    losses = [1.2735415697, 1.2, 1.15, 1.1, 1.06, 1.0012345678]
    workspace_id = "s-00000000000000aa"
    _fake_finished_run(runs, workspace_id, losses)
    page.get_by_role("button", name=re.compile("^Reopen an earlier workspace")).click()
    page.get_by_placeholder("workspace id").fill(workspace_id)
    page.get_by_role("button", name="Reopen", exact=True).click()
    expect(page.locator("#mimir-workspace")).to_contain_text(workspace_id)
    page.get_by_role("tab", name="5 · Train").click()
    expect(page.locator("#train-status")).to_contain_text("finished")
    plot = page.locator("#train-loss")
    line = plot.locator("g.mark-line path").first
    expect(line).to_be_attached()
    labels = [t.strip() for t in plot.locator("g.role-axis-label text").evaluate_all("els => els.map(e => e.textContent || '')")
              if t.strip()]
    assert labels and all(re.fullmatch(r"-?\d+(\.\d+)?", t.replace(",", "")) for t in labels), labels
    assert not any("1.2735415697" in t for t in labels), "loss drawn as categories"
    d = line.get_attribute("d")
    ys = [float(y) for _, y in re.findall(r"([-\d.]+),([-\d.]+)", d)]
    assert len(ys) >= len(losses) - 1
    assert ys[-1] > ys[0], f"a falling loss must be drawn falling (svg y grows downward): {ys}"
    assert all(b >= a - 0.5 for a, b in zip(ys, ys[1:])), ys
