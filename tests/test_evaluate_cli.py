"""``python -m mimir evaluate`` end to end against a loopback OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest

from mimir.cli import main
from tests.fakes.openai_server import FakeOpenAIServer

QUESTIONS = [
    {"id": f"q{i}", "question": f"How long is step {i}?", "answer": f"Step {i} takes {i + 10} minutes.",
     "key_facts": [f"{i + 10} minutes"]}
    for i in range(12)
]


def _responder(body: dict) -> str:
    user = body["messages"][-1]["content"]
    if body["model"] == "judge":  # a position-biased judge: always the first answer shown
        return "Verdict: 1"
    if body["model"] == "consistent-judge":
        first = user.split("[Answer 1]")[1].split("[End of answer 1]")[0]
        return "Verdict: 1" if "minutes" in first else "Verdict: 2"
    number = int(user.split("step ")[1].rstrip("?"))
    return f"It takes {number + 10} minutes." if body["model"] == "tuned" else "Please ask your doctor."


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_FakeTokenForLoopbackOnly0123456789")
    srv = FakeOpenAIServer(responder=_responder).start()
    yield srv
    srv.stop()


def _run(server, tmp_path, a: str, b: str, judge: str) -> tuple[int, dict]:
    qfile = tmp_path / "questions.jsonl"
    qfile.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    out = tmp_path / f"out-{a}-{b}-{judge}"
    url = server.base_url
    code = main(["evaluate", "--a", f"endpoint:{a}@{url}", "--b", f"endpoint:{b}@{url}", "--questions", str(qfile),
                 "--judge", "reference", "--judge", "llm", "--judge-model", f"endpoint:{judge}@{url}",
                 "--bootstrap", "300", "--out", str(out)])
    return code, json.loads((out / "summary.json").read_text())


def test_identical_models_tie_for_both_judges(server, tmp_path, capsys):
    code, report = _run(server, tmp_path, "tuned", "tuned", "judge")
    assert code == 0
    for name in ("reference", "llm"):
        s = report["summaries"][name]
        assert s["ties"] / s["n"] >= 0.95, name
    assert report["summaries"]["llm"]["position_flip_rate"] == 1.0
    assert "win-or-equal 100%" in capsys.readouterr().out


def test_tuned_model_beats_vague_model_and_writes_chart(server, tmp_path):
    code, report = _run(server, tmp_path, "tuned", "vague", "consistent-judge")
    assert code == 0
    ref, llm = report["summaries"]["reference"], report["summaries"]["llm"]
    assert ref["wins"] == len(QUESTIONS) and ref["mean_score_a"] == 1.0 and ref["mean_score_b"] == 0.0
    assert llm["wins"] == len(QUESTIONS) and llm["position_flip_rate"] == 0.0
    out = tmp_path / "out-tuned-vague-consistent-judge"
    assert (out / "chart.png").read_bytes()[:4] == b"\x89PNG"
    n_requests = len(server.requests)
    # A rerun reuses the saved answers and judgements: no new requests.
    code, again = _run(server, tmp_path, "tuned", "vague", "consistent-judge")
    assert len(server.requests) == n_requests and again["summaries"] == report["summaries"]


def test_missing_questions_is_a_clear_error(tmp_path, capsys):
    assert main(["evaluate", "--a", "scripted", "--b", "scripted", "--out", str(tmp_path)]) == 2
    assert "--questions" in capsys.readouterr().err
