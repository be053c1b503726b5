"""CLI: `python -m mimir generate` and `baseline` end to end against a loopback OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest
import yaml

from mimir.cli import main
from tests.fakes.openai_server import FakeOpenAIServer
from tests.test_generate_engine import roleplay

HANDBOOK = """# Handbook

## Hours

The clinic is open Monday to Friday from 07:30 to 19:00. On Saturday it opens from 08:00 to 13:00.

## Phones

The triage nurse line is extension 2147. The pharmacy is extension 2230.
"""


@pytest.fixture
def kb_dir(tmp_path):
    from mimir.knowledge import KnowledgeBase

    doc = tmp_path / "handbook.md"
    doc.write_text(HANDBOOK)
    KnowledgeBase.create(tmp_path / "kb").add_files([doc])
    return tmp_path / "kb"


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_fakefakefakefakefakefake12")
    s = FakeOpenAIServer(latency=0.05, responder=lambda body: roleplay(body["messages"])).start()
    yield s
    s.stop()


def test_generate_cli_writes_dialogues_and_export(tmp_path, kb_dir, server, capsys):
    config = {"knowledge": str(kb_dir), "output": str(tmp_path / "d.jsonl"), "export": str(tmp_path / "train.jsonl"),
              "model": f"endpoint:fake@{server.base_url}", "questions_per_fact": 2, "frameworks": ["cot", "reflexion"]}
    path = tmp_path / "gen.yaml"
    path.write_text(yaml.safe_dump({"generate": config}))
    assert main(["generate", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    records = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert len(records) >= 4 and all(r["status"] == "ok" for r in records)
    assert "coverage: 100% of chunks, 100% of fact sentences" in out
    assert "expert turns with a source fact: 100%" in out
    rows = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    assert len(rows) == len(records) and rows[0]["messages"][-1]["role"] == "assistant"
    assert server.max_in_flight > 1  # the endpoint backend ran each batch concurrently
    # a rerun resumes: nothing new is generated
    before = len(server.requests)
    assert main(["generate", "--config", str(path)]) == 0
    assert len(server.requests) == before


def test_generate_cli_rejects_unknown_key(tmp_path, capsys):
    path = tmp_path / "gen.yaml"
    path.write_text("knowlege: kb\n")
    assert main(["generate", "--config", str(path)]) == 2
    assert "knowlege" in capsys.readouterr().err


def test_generate_cli_print_config(capsys):
    assert main(["generate", "--print-config", "--domain", "legal"]) == 0
    assert "domain: legal" in capsys.readouterr().out


def test_baseline_cli_original(tmp_path, kb_dir, capsys):
    out = tmp_path / "o.jsonl"
    assert main(["baseline", "original", "--knowledge", str(kb_dir), "--output", str(out), "--export", str(tmp_path / "t.jsonl"), "-n", "5"]) == 0
    assert "original: 2 ok" in capsys.readouterr().out
    rows = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert rows[0]["messages"][1]["content"].startswith("What does the handbook.md say about")
