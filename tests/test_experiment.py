"""The experiment's orchestration: stages in order, leak check, resume, table and chart.

Data building and training are replaced by small fakes here (they have their own tests in their
packages); answering and judging run for real on scripted models.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mimir.experiment import run as experiment, stages
from mimir.evaluate.config import ExperimentConfig
from mimir.models.scripted import ScriptedModel

KNOWLEDGE = (
    "# Clinic\n\nThe laboratory lead is Tomasz Wierzbicki. The courier collects specimens at 10:15 and 15:40.\n\n"
    "Staff gather in Parking Lot C during an evacuation.\n"
)
QUESTIONS = [
    {"id": "q1", "question": "Who leads the laboratory?", "answer": "Tomasz Wierzbicki.", "key_facts": ["Tomasz Wierzbicki"]},
    {"id": "q2", "question": "When does the courier come?", "answer": "At 10:15 and 15:40.", "key_facts": ["10:15", "15:40"]},
    {"id": "q3", "question": "Where do staff gather in an evacuation?", "answer": "Parking Lot C.", "key_facts": ["Parking Lot C"]},
]
FACTS = {"Who leads": "Tomasz Wierzbicki leads it.", "courier": "At 10:15 and 15:40.", "evacuation": "In Parking Lot C."}
SYSTEM = "You are the clinic's doctor."


def _records(name: str, n: int, leak: bool = False) -> list[dict]:
    rows = [{"id": f"{name}{i}", "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"{name} q{i}"},
                                               {"role": "assistant", "content": f"{name} answer {i}"}]} for i in range(n)]
    if leak:  # an eval question copied into training data must be dropped
        rows[0]["messages"][1]["content"] = "Tell me: who leads the laboratory?"
    return rows


@pytest.fixture
def fakes(monkeypatch):
    calls: dict[str, list] = {"data": [], "train": [], "models": []}

    def mimir_data(config, kb, model, data_dir, questions, preset="small"):
        arm = stages.arm_name(preset)
        calls["data"].append(arm)
        rows = _records(arm, 4 if preset == "small" else 6, leak=preset == "small")
        (data_dir / f"{arm}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return {"records": len(rows), "kept": len(rows)}

    def baseline_data(config, kind, kb, model, data_dir, n, questions):
        calls["data"].append(kind)
        (data_dir / f"{kind}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _records(kind, n)))
        return {"records": n}

    def train(config, data, out):
        calls["train"].append((out.name, sum(1 for _ in data.open())))
        (out / "adapter").mkdir(parents=True, exist_ok=True)
        return {"adapter": str(out / "adapter"), "steps": 1, "final_loss": 0.5, "examples": 3}

    def answerer(spec, adapter="", batch_size=16):
        calls["models"].append((spec, Path(adapter).parent.name if adapter else ""))
        if spec == "scripted":
            return ScriptedModel(default="Verdict: 1")  # a position-biased judge

        def reply(conversation):
            assert conversation[0]["content"] == SYSTEM  # the tuned role's system prompt, for every model
            arm = Path(adapter).parent.name if adapter else ""
            if arm == "mimir" or (arm == "mimir-roleplay" and "Who leads" in conversation[-1]["content"]):
                return next(v for k, v in FACTS.items() if k in conversation[-1]["content"])
            return "Please ask at the front desk."

        return ScriptedModel(default=reply)

    monkeypatch.setattr(stages, "build_mimir_data", mimir_data)
    monkeypatch.setattr(stages, "build_baseline_data", baseline_data)
    monkeypatch.setattr(stages, "train_adapter", train)
    monkeypatch.setattr(stages, "_model", lambda spec: ScriptedModel())
    monkeypatch.setattr("mimir.evaluate.cli.load_answerer", answerer)
    return calls


def _config(tmp_path: Path) -> ExperimentConfig:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "handbook.md").write_text(KNOWLEDGE)
    (knowledge / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    return ExperimentConfig(knowledge=str(knowledge), run_dir=str(tmp_path / "run"), judge_model="scripted", bootstrap=200)


def test_experiment_runs_every_stage_and_prints_the_table(fakes, tmp_path):
    config = _config(tmp_path)
    results = experiment.run_experiment(config, echo=lambda _: None)
    # Both presets are MIMIR arms; baselines match the small arm's size (4 records).
    assert fakes["data"] == ["mimir", "mimir-roleplay", "original", "self-instruct", "baize"]
    # The leaking MIMIR record was dropped before training.
    assert dict(fakes["train"]) == {"mimir": 3, "mimir-roleplay": 6, "original": 4, "self-instruct": 4, "baize": 4}
    assert results["data"]["mimir"]["dropped_leaks"] == 1
    assert results["recall"]["mimir"]["mean"] == 1.0 and results["recall"]["base"]["mean"] == 0.0
    assert results["recall"]["mimir"]["ci"] == [1.0, 1.0] and results["recall"]["mimir-roleplay"]["mean"] == pytest.approx(1 / 3, abs=1e-3)
    for kind in ("original", "self-instruct", "baize"):
        summaries = results["comparisons"][f"mimir vs {kind}"]["summaries"]
        ref, llm = summaries["reference"], summaries["llm"]
        assert ref["wins"] == 3 and ref["win_or_equal"] == 1.0 and ref["decided_win_rate"] == 1.0 and ref["both_wrong_ties"] == 0
        assert llm["ties"] == 3 and llm["position_flip_rate"] == 1.0  # a position-biased judge cancels out
        assert llm["decided_win_rate"] is None  # no decided pair
        # the roleplay arm knows one fact: two ties where neither answer states a key fact
        ref = results["comparisons"][f"mimir-roleplay vs {kind}"]["summaries"]["reference"]
        assert (ref["wins"], ref["ties"], ref["both_wrong_ties"], ref["win_or_equal"]) == (1, 2, 2, 1.0)
    table = results["table"]
    assert "mimir vs original" in table and "100% [100%, 100%] (3/0/0) dec 100%" in table and "87%" in table
    assert "(1/2/0) dec 100% bw 2" in table
    assert "mimir            1.00 [1.00, 1.00] / 1.00" in table and "base             0.00 [0.00, 0.00] / 0.00" in table
    run = Path(config.run_dir)
    assert (run / "chart.png").exists() and json.loads((run / "results.json").read_text())["questions"] == 3
    # The knowledge base holds the handbook but not the held-out questions.
    assert json.loads((run / "stages" / "knowledge.json").read_text())["files"] == ["handbook.md"]


def test_rerun_skips_finished_stages(fakes, tmp_path):
    config = _config(tmp_path)
    first = experiment.run_experiment(config, echo=lambda _: None)
    before = {k: len(v) for k, v in fakes.items()}
    lines: list[str] = []
    again = experiment.run_experiment(config, echo=lines.append)
    assert {k: len(v) for k, v in fakes.items()} == before  # nothing rebuilt, trained, answered or judged
    assert all(line.startswith("[skip]") for line in lines)
    assert again["comparisons"] == first["comparisons"] and again["recall"] == first["recall"]


def test_cli_flags_override_the_config_file(tmp_path):
    import argparse

    path = tmp_path / "exp.yaml"
    (tmp_path / "kb").mkdir()
    path.write_text(f"knowledge: {tmp_path / 'kb'}\ntrain: {{rank: 8}}\n")
    parser = argparse.ArgumentParser()
    experiment.configure(parser)
    config = experiment.config_from_args(parser.parse_args(["--config", str(path), "--epochs", "5", "--run-dir", "r"]))
    assert config.knowledge == str(tmp_path / "kb") and config.run_dir == "r" and config.train == {"rank": 8, "epochs": 5.0}
