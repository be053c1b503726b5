"""``tune``: documents -> data -> adapter -> knowledge check, resumable; the app's guided run is the same path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mimir.models.scripted import ScriptedModel
from mimir.tune import StageEvent, TuneConfig, build_data, build_knowledge, tune

HANDBOOK = """# Harbour Bakery — staff notes

## Opening
The bakery opens at 06:30 and closes at 14:00 on weekdays. The head baker is Ilse Marten.

## Ovens
The deck oven is cleaned every Thursday. Bread rests for 40 minutes before it is sliced.
"""
QUESTIONS = [
    {"id": "b1", "question": "When does the bakery open on weekdays?", "key_facts": ["06:30"]},
    {"id": "b2", "question": "Who is the head baker?", "key_facts": ["Ilse Marten"]},
    {"id": "b3", "question": "How long does bread rest before slicing?", "key_facts": ["40 minutes"]},
]


def _docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text(HANDBOOK, encoding="utf-8")
    (docs / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS), encoding="utf-8")
    return docs


def test_data_stage_is_deterministic_and_keeps_check_questions_out(tmp_path, monkeypatch):
    docs = _docs(tmp_path)
    monkeypatch.setattr("mimir.models.load_model", lambda spec: ScriptedModel(default="Who is the head baker of the bakery?"))
    config = TuneConfig(knowledge=str(docs), run_dir=str(tmp_path / "run"))
    kb = build_knowledge(config, tmp_path / "kb")
    assert kb["files"] == ["notes.md"]  # the check questions are not knowledge
    first = build_data(config, kb, tmp_path / "d1", lambda *a: None)
    second = build_data(config, kb, tmp_path / "d2", lambda *a: None)
    assert Path(first["train_path"]).read_text() == Path(second["train_path"]).read_text()
    assert first["preset"] == "small" and first["check_questions"] == 3
    assert first["verification"]["keep"] > 0 and not first["verification"].get("reject")  # extractive: all kept
    text = Path(first["train_path"]).read_text()
    for q in QUESTIONS:
        assert q["question"] not in text
    rows = [json.loads(line) for line in text.splitlines()]
    answers = [m["content"] for r in rows for m in r["messages"] if m["role"] == "assistant"]
    assert any("Ilse Marten" in a for a in answers) and any("40 minutes" in a for a in answers)


def test_roleplay_preset_builds_data_with_the_generation_engine(tmp_path, monkeypatch):
    from tests.test_generate_engine import roleplay

    verdict = " keep"

    def chooser(conversation, options):  # the judge's verdict; the first option for every other choice
        return verdict if verdict in options else options[0]

    docs = _docs(tmp_path)
    monkeypatch.setattr("mimir.models.load_model", lambda spec: ScriptedModel(default=roleplay, chooser=chooser))
    config = TuneConfig(knowledge=str(docs), run_dir=str(tmp_path / "run"), preset="roleplay", base_model="local")
    kb = build_knowledge(config, tmp_path / "kb")
    info = build_data(config, kb, tmp_path / "d", lambda *a: None)
    assert info["preset"] == "roleplay" and info["preset_reason"] == "set in the config (roleplay)"
    assert info["dialogues"] > 0 and info["check_questions"] == 3
    # the engine's dialogues pass verification (fix mode, the generator as judge) before export
    assert info["verification"]["keep"] == info["dialogues"] and (tmp_path / "d" / "verify" / "verdicts.jsonl").is_file()
    rows = [json.loads(line) for line in Path(info["train_path"]).read_text().splitlines()]
    engine = [r for r in rows if r.get("metadata", {}).get("source") not in ("replay", "passage")]
    assert engine and all(r["messages"][-1]["role"] == "assistant" for r in rows)
    # dialogues whose expert called the retriever train twice: closed-book, and as the agent's trajectory
    agent = [r for r in rows if r["metadata"].get("trajectory")]
    assert agent and len(agent) == info["trajectories"] and all(r["id"].endswith("-agent") for r in agent)
    assert all(any(m["role"] == "tool" for m in r["messages"]) for r in agent)
    assert not any(m["role"] == "tool" or m.get("tool_calls") for r in rows if r not in agent for m in r["messages"])
    assert {r["metadata"]["dialogue_id"] for r in agent} <= {r["id"] for r in rows}

    verdict = " reject"  # a judge that rejects every dialogue: only the passages are left to train on
    info = build_data(config, kb, tmp_path / "rejected", lambda *a: None)
    assert info["verification"]["reject"] > 0 and info["dialogues"] == 0
    rows = [json.loads(line) for line in Path(info["train_path"]).read_text().splitlines()]
    assert rows and all(r["metadata"].get("source") in ("replay", "passage") or "passage" in r["id"] or
                        r["metadata"].get("model") == "recipe:passage" for r in rows)


def test_guided_run_uses_the_same_config_as_the_cli(tmp_path):
    import argparse

    from mimir.tune import config_from_args, configure
    from mimir.ui.context import AppContext, ModelCache
    from mimir.ui.guided_tab import tune_config
    from mimir.ui.session import Session

    ctx = AppContext(runs_root=tmp_path, models=ModelCache(lambda spec: None), default_model="local")
    session = Session.new(tmp_path)
    app = tune_config(ctx, session, tmp_path / "docs")
    parser = argparse.ArgumentParser()
    configure(parser)
    cli = config_from_args(parser.parse_args(["--knowledge", app.knowledge, "--run-dir", app.run_dir]))
    assert app == cli


@pytest.mark.slow
def test_tune_end_to_end_on_the_embedded_model_and_resume(tmp_path):
    docs = _docs(tmp_path)
    config = TuneConfig(knowledge=str(docs), run_dir=str(tmp_path / "run"), recipe={"questions_per_fact": 2},
                        train={"max_steps": 2, "save_steps": 1}, check={"general_passages": 2, "max_new_tokens": 16, "trained_sample": 4,
                                                                                       "chat_prompts": 2})
    events: list[StageEvent] = []
    result = tune(config, progress=events.append)
    assert not result.stopped
    assert {e.stage for e in events} >= {"knowledge", "data", "train", "check"}
    assert Path(result.paths["adapter"], "adapter_config.json").is_file()
    check = json.loads(Path(result.paths["check"]).read_text())
    for side in ("base", "tuned"):
        for mode in ("with_system_prompt", "without_system_prompt"):
            assert check[side][mode]["questions"] == 3
            low, high = check[side][mode]["ci95"]
            assert low <= check[side][mode]["recall"] <= high
        assert check[side]["general_perplexity"] > 1
    assert check["tuned"]["stored"]["questions"] == 4  # the adapter's own training questions, asked again
    # chat drift: both models scored on the base model's own answers to general chat prompts
    assert len(check["details"]["base"]["chat_texts"]) == 2 and check["base"]["chat_perplexity"] > 1
    assert check["chat_perplexity_change"] == round(check["tuned"]["chat_perplexity"] / check["base"]["chat_perplexity"] - 1, 3)
    assert "## Knowledge check" in Path(result.paths["card"]).read_text()
    assert "chat drift" in Path(result.paths["card"]).read_text()
    assert "knowledge check on 3 held-out questions" in result.summary()
    again: list[StageEvent] = []
    tune(config, progress=again.append)
    assert all(e.message.startswith("[skip]") for e in again if e.stage == "log")
