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
    assert len(hits) == 3 and "08:00 to 13:00" in hits[0][3] and float(hits[0][0]) >= float(hits[1][0])


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
    assert chart is not None and chart.size[0] > 100  # pixels, not a server path to serve
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


# -- train ---------------------------------------------------------------------------------------
def test_train_poll_reads_the_runs_files_and_stops_the_timer(session):
    from mimir.ui import train_tab

    line, frame, card, timer = train_tab.poll(session)
    assert "No training run" in line and frame.empty and timer.active is False
    run = session.workspace / "train" / "mimir-lora"
    (run / "adapter").mkdir(parents=True)
    metrics = [{"event": "start", "step": 0, "max_steps": 3}] + [
        {"step": s, "loss": 2.0 / s, "lr": 1e-4, "tokens_per_s": 900.0, "eta_s": 3.0 - s} for s in (1, 2, 3)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in metrics))
    (run / "status.json").write_text(json.dumps({"state": "finished", "pid": None}))
    (run / "adapter" / "README.md").write_text("---\nlibrary_name: peft\n---\n# card of the run\n")
    session.train_run = str(run)
    line, frame, card, timer = train_tab.poll(session)
    assert "finished" in line and "step 3" in line and "loss 0.6667" in line
    assert list(frame["step"]) == [1, 2, 3] and frame["loss"].iloc[0] == pytest.approx(2.0)
    assert "card of the run" in card and timer.active is False


def test_train_start_validates_before_launching(session, tmp_path):
    from mimir.ui import train_tab

    args = ("lora", "embedded", 8, 16, 1, 2, 1e-4, 2, 128)
    with pytest.raises(gr.Error, match="training data"):
        train_tab.start_training(session, "", None, "run", *args)
    data = tmp_path / "d.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n')
    with pytest.raises(gr.Error, match="Run name"):
        train_tab.start_training(session, str(data), None, "../escape", *args)
    assert not (session.workspace / "train").exists()


def test_training_data_choices_prefer_verified(session):
    from mimir.ui import train_tab

    for rel in ("generate/mimir_export.jsonl", "verify/verified_export.jsonl", "generate/mimir_dialogues.jsonl",
                "knowledge/chunks.jsonl"):
        session.path(*rel.split("/")).write_text("{}\n{}\n")
    session.path("generate", "baize_export.jsonl").write_text("")  # empty: not offered
    labels = [label for label, _ in train_tab.dataset_choices(session)]
    assert labels[0] == "verify/verified_export.jsonl — 2 record(s)" and "generate/mimir_export.jsonl — 2 record(s)" in labels
    assert not any("chunks" in label or "baize" in label for label in labels)
    session.path("verify", "verified_export.jsonl").write_text("")  # verify kept nothing: the raw export comes first
    labels = [label for label, _ in train_tab.dataset_choices(session)]
    assert labels == ["generate/mimir_export.jsonl — 2 record(s)"]
    with pytest.raises(gr.Error, match="no training records"):
        train_tab.start_training(session, str(session.workspace / "verify" / "verified_export.jsonl"), None, "run",
                                 "lora", "embedded", 8, 16, 1, 2, 1e-4, 2, 128)


# -- roles -> generate -> verify on the scripted model -------------------------------------------
def _scripted_expert(conversation):
    return "Reasoning: the handbook covers this.\nAnswer: On Saturday the clinic is open from 08:00 to 13:00."


def test_roles_generate_verify_pipeline_through_the_handlers(tmp_path, session):
    from mimir.ui import generate_tab, roles_tab, verify_tab

    model = ScriptedModel(default=_scripted_expert)
    ctx = AppContext(runs_root=tmp_path / "runs", models=ModelCache(lambda spec: model), default_model="scripted")
    session.model_spec = "scripted"
    with pytest.raises(gr.Error, match="No knowledge yet"):
        next(generate_tab.run_generation(ctx, session, 2, 2, 48, 0.0, 0))
    knowledge_tab.load_example(session)

    with pytest.raises(gr.Error, match="at least one more role"):
        roles_tab.apply_choices(session, "medical", "doctor", ["doctor"], 2, ["cot"], ["knowledge_retriever"], "scripted")
    line = roles_tab.apply_choices(session, "medical", "doctor", ["doctor", "patient"], 2, ["cot"], [], "scripted")
    assert "doctor is tuned" in line and session.generation["participants"] == ["patient"]

    updates = list(generate_tab.run_generation(ctx, session, 2, 2, 48, 0.0, 0))
    final_line, rows, latest, _ = updates[-1]
    assert "done" in final_line and len(rows) == 2, final_line
    assert all(r[1] == "ok" for r in rows), rows
    assert any("08:00" in m["content"] for m in latest)
    records, export = generate_tab.paths(session)
    assert export.exists() and '"messages"' in export.read_text()
    assert (session.workspace / "generate" / "generate_config.yaml").exists()
    # resumable: a second run finds both dialogues done and adds nothing
    again = list(generate_tab.run_generation(ctx, session, 2, 2, 48, 0.0, 0))
    assert len(again[-1][1]) == 2

    totals, verdict_rows = verify_tab.run_verification(ctx, session, "filter", "", False)
    assert "2 dialogue(s)" in totals and len(verdict_rows) == 2
    assert {r[1] for r in verdict_rows} <= {"keep", "reject"}
    assert verify_tab.verify_paths(session)["export"].exists()
    # the same settings resume; "Verify again" and a changed mode redo every verdict
    verdicts = verify_tab.verify_paths(session)["verdicts"]
    modes = lambda: {r["meta"]["mode"] for r in map(json.loads, verdicts.read_text().splitlines())}  # noqa: E731
    assert "Resumed: 2 verdicts" in verify_tab.run_verification(ctx, session, "filter", "", False)[0]
    assert "Resumed:" not in verify_tab.run_verification(ctx, session, "filter", "", False, fresh=True)[0]
    totals, _ = verify_tab.run_verification(ctx, session, "judge", "scripted", False)
    assert "Resumed:" not in totals and modes() == {"judge"}


def test_stop_ends_a_generation_early_and_keeps_what_finished(tmp_path, session):
    from mimir.ui import generate_tab

    knowledge_tab.load_example(session)
    calls = {"n": 0}

    def slow(conversation):
        calls["n"] += 1
        if calls["n"] == 3:  # the user presses Stop while the run is going
            generate_tab.request_stop(session, "generate")
        return _scripted_expert(conversation)

    model = ScriptedModel(default=slow)
    ctx = AppContext(runs_root=tmp_path / "runs", models=ModelCache(lambda spec: model), default_model="scripted")
    session.model_spec = "scripted"
    updates = list(generate_tab.run_generation(ctx, session, 6, 4, 48, 0.0, 0))
    assert "stopped" in updates[-1][0]
    saved = updates[-1][1]
    assert len(saved) < 6 and all(row[1] == "ok" for row in saved), "a stop must not record failed dialogues"
    assert "generate" not in session.live
    assert generate_tab.request_stop(session, "generate").endswith("Nothing is running.")
    # running again resumes: the stopped dialogues are generated, the saved ones are not redone
    before = len(model.calls)
    resumed = list(generate_tab.run_generation(ctx, session, 6, 4, 48, 0.0, 0))
    assert "done" in resumed[-1][0] and len(resumed[-1][1]) == 6
    assert [r[0] for r in resumed[-1][1]][: len(saved)] == [r[0] for r in saved]
    assert len(model.calls) > before


def test_the_preview_shows_each_dialogue_as_it_is_saved_not_at_the_end(tmp_path, session):
    """While the run goes on, the table grows and the preview shows the newest saved dialogue."""
    import time as clock

    from mimir.ui import generate_tab

    knowledge_tab.load_example(session)

    def slow(conversation):
        clock.sleep(0.15)  # a model that takes its time: several polls per dialogue
        return _scripted_expert(conversation)

    model = ScriptedModel(default=slow)
    ctx = AppContext(runs_root=tmp_path / "runs", models=ModelCache(lambda spec: model), default_model="scripted")
    session.model_spec = "scripted"
    session.generation["max_active"] = 1  # one dialogue after another, so they are saved at different times
    updates = list(generate_tab.run_generation(ctx, session, 3, 2, 48, 0.0, 0))
    assert "done" in updates[-1][0] and len(updates[-1][1]) == 3
    live = [u for u in updates[:-1] if isinstance(u[1], list) and 1 <= len(u[1]) < 3]
    assert live, "no update showed a saved dialogue before the run ended"
    line, rows, latest, _ = live[0]
    assert "running" in line and f"{len(rows)}/3 dialogue(s) saved" in line
    assert latest and latest[-1]["content"]  # the preview holds the dialogue that was just saved


def test_role_editor_saves_a_validated_copy_in_the_workspace(session):
    from mimir.ui import roles_tab

    name, domain, kind, persona, goals, sees, tools = roles_tab.load_role(session, "nurse")
    assert (name, kind, sees) == ("nurse", "expert", True)
    line, pick, _ = roles_tab.save_role(session, "midwife", "medical", "expert", "A midwife of the clinic.", "Help parents.",
                                        True, ["knowledge_retriever"])
    assert "midwife" in line and (session.workspace / "roles.yaml").exists()
    assert "midwife" in roles_tab.role_book(session).roles
    assert (roles_tab.ASSETS / "roles.yaml").read_text().count("midwife") == 0
    with pytest.raises(Exception, match="persona"):
        roles_tab.save_role(session, "ghost", "medical", "expert", "", "", False, [])


def test_keys_are_held_not_echoed(session):
    from mimir.ui import roles_tab

    out = roles_tab.set_keys(session, "tvly-abcdefghijklmnop", "", "")
    assert out[:3] == ("", "", "") and "tvly-" not in out[3] and session.has_secret("tavily")
    roles_tab.clear_keys(session)
    assert not session.has_secret("tavily")


def test_original_data_baseline_streams_and_exports(tmp_path, session):
    from mimir.ui import generate_tab

    ctx = AppContext(runs_root=tmp_path / "runs", models=ModelCache(lambda spec: pytest.fail("original needs no model")))
    knowledge_tab.load_example(session)
    updates = list(generate_tab.run_baseline(ctx, session, "original", 5, 0))
    line, rows, latest, _ = updates[-1]
    assert "done" in line and 0 < len(rows) <= 5 and latest
    records, export = generate_tab.paths(session, "original")
    assert records.exists() and export.exists()
    assert generate_tab.show_dialogue(session, rows[0][0], "original")


def test_questions_made_from_the_knowledge_feed_the_comparison(eval_ctx, session):
    from mimir.ui import evaluate_tab

    with pytest.raises(gr.Error, match="No knowledge yet"):
        evaluate_tab.questions_from_knowledge(session, 10)
    knowledge_tab.load_example(session)
    path, line = evaluate_tab.questions_from_knowledge(session, 10)
    assert path.endswith("knowledge_questions.jsonl") and "10 questions" in line
    summary, _, rows = evaluate_tab.run_pairwise(eval_ctx, session, "guesses", "guesses", "x", "y", path, None,
                                                 ["reference"], "guesses", 32, 0)
    assert len(rows) == 10 and {r[3] for r in rows} == {"tie"}
