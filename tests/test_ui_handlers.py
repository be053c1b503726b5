"""Tab handlers called directly (as gradio calls them) over real stage code on a temp workspace."""

from __future__ import annotations

import json

import pytest

gr = pytest.importorskip("gradio")

from mimir.models.scripted import ScriptedModel  # noqa: E402
from mimir.ui import knowledge_tab  # noqa: E402
from mimir.ui.context import AppContext, ModelCache  # noqa: E402
from mimir.ui.session import Session  # noqa: E402



@pytest.fixture
def session(tmp_path):
    return Session.new(tmp_path / "runs")


@pytest.fixture
def ctx(tmp_path, scripted):
    return AppContext(runs_root=tmp_path / "runs", models=ModelCache(lambda spec: scripted), default_model="scripted")


def test_example_knowledge_loads_and_search_finds_the_fact(session):
    report, rows, summary = knowledge_tab.load_example(session)
    assert "riverbend-clinic-handbook.md" in report
    assert len(rows) >= 5 and all(r[0] and r[3] for r in rows)
    assert "chunks from" in summary
    hits = knowledge_tab.search_chunks(session, "Saturday opening hours", 3, "bm25")
    assert "08:00" in hits and "13:00" in hits


def test_upload_reports_each_bad_file_and_keeps_the_good_ones(session, tmp_path):
    good = tmp_path / "notes.md"
    good.write_text("# Parking\n\nThe staff car park closes at 22:30 every night.\n", encoding="utf-8")
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7 this is not really a pdf")
    odd = tmp_path / "program.exe"
    odd.write_bytes(b"MZ\x90\x00")
    report, rows, _ = knowledge_tab.add_files(session, [str(good), str(bad), str(odd)])
    assert "notes.md" in report and "✅ added" in report
    assert report.count("❌") == 2 and "broken.pdf" in report and "program.exe" in report
    assert any("22:30" in r[3] for r in rows)
    # adding the same file again is idempotent and says so
    again, rows2, _ = knowledge_tab.add_files(session, [str(good)])
    assert "unchanged" in again and len(rows2) == len(rows)


def test_upload_without_files_is_a_clear_error(session):
    with pytest.raises(gr.Error, match="Choose one or more files"):
        knowledge_tab.add_files(session, [])


def test_search_before_any_knowledge_names_the_fix(session):
    with pytest.raises(FileNotFoundError, match="Knowledge tab"):
        knowledge_tab.search_chunks(session, "anything", 5, "bm25")


# -- evaluate ------------------------------------------------------------------------------------
@pytest.fixture
def eval_ctx(tmp_path):
    from mimir.ui.evaluate_tab import EXAMPLE_QUESTIONS

    answers = {}
    for line in EXAMPLE_QUESTIONS.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        answers[q["question"]] = q["answer"]

    def knows(conversation):
        return answers.get(conversation[-1]["content"], "I do not know.")

    models = {"knows": ScriptedModel(default=knows), "guesses": ScriptedModel(default="Please ask at reception.")}
    return AppContext(runs_root=tmp_path / "runs", models=ModelCache(lambda spec: models[spec]), default_model="guesses")


def test_pairwise_comparison_with_reference_judge(eval_ctx, session):
    from mimir.ui import evaluate_tab

    summary, chart, rows = evaluate_tab.run_pairwise(
        eval_ctx, session, "knows", "guesses", "MIMIR", "base", str(evaluate_tab.EXAMPLE_QUESTIONS), None,
        ["reference"], "guesses", 64, 6)
    assert "reference judge" in summary and "MIMIR" in summary
    assert chart and chart.endswith("chart.png")
    assert len(rows) == 6 and all(r[3] == "MIMIR wins" for r in rows)
    saved = json.loads((session.workspace / "evaluate" / "summary.json").read_text())
    assert saved["summaries"]["reference"]["wins"] == 6


def test_human_judging_hides_sides_and_writes_stage_records(eval_ctx, session):
    from mimir.jsonl import read_records
    from mimir.ui import evaluate_tab

    with pytest.raises(gr.Error, match="Run a comparison first"):
        evaluate_tab.start_human(session, 0)
    evaluate_tab.run_pairwise(eval_ctx, session, "knows", "guesses", "MIMIR", "base",
                              str(evaluate_tab.EXAMPLE_QUESTIONS), None, ["reference"], "guesses", 64, 4)
    question, left, right, line = evaluate_tab.start_human(session, 3)
    assert question.startswith("**Question:**") and "4 comparison(s) left" in line
    sides = []
    for _ in range(4):
        # a person who always prefers the answer that knows the fact
        pick = "left" if left != "Please ask at reception." else "right"
        sides.append(pick)
        question, left, right, line = evaluate_tab.choose(session, pick)
    assert len(set(sides)) == 2, "A must not always be on the same side"
    records = list(read_records(session.workspace / "evaluate" / "judgements_human.jsonl"))
    assert [r["judge"] for r in records] == ["human"] * 4 and {r["winner"] for r in records} == {"a"}
    assert "human judge" in line and "W/T/L 4/0/0" in line
    with pytest.raises(gr.Error, match="No comparison is waiting"):
        evaluate_tab.choose(session, "tie")
