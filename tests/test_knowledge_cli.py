"""``python -m mimir knowledge ...`` end to end through the real dispatcher."""

from __future__ import annotations

import json
from pathlib import Path

from mimir.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"


def test_add_list_search_and_datasets(tmp_path, capsys):
    kb = str(tmp_path / "kb")
    assert main(["knowledge", "add", kb, "--example", "--chunk-tokens", "80"]) == 0
    out = capsys.readouterr().out
    assert "added    riverbend-clinic-handbook.md" in out and "added    on-call-rota.csv" in out

    assert main(["knowledge", "add", kb, "--example"]) == 0
    assert "unchanged riverbend-clinic-handbook.md" in capsys.readouterr().out

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "extra.md").write_text("# Parking\n\nStaff park in Lot A behind the Cedar Wing.")
    (folder / "ignored.xyz").write_text("not a supported type")
    (folder / "bad.pdf").write_bytes(b"not a pdf")
    assert main(["knowledge", "add", kb, str(folder)]) == 1  # one file failed, the other was added
    captured = capsys.readouterr()
    assert "added    extra.md" in captured.out and "bad.pdf: not a PDF" in captured.err and "ignored" not in captured.out

    assert main(["knowledge", "add", kb, "--dataset", "medqa", "--data-files", str(FIXTURES / "medqa.jsonl"), "--limit", "1"]) == 0
    assert "1 question/answer chunks" in capsys.readouterr().out

    assert main(["knowledge", "list", kb, "--json"]) == 0
    sources = json.loads(capsys.readouterr().out)
    assert set(sources) == {"on-call-rota.csv", "riverbend-clinic-handbook.md", "extra.md", "dataset:medqa/local/medqa.jsonl"}
    assert sources["riverbend-clinic-handbook.md"]["chunks"] > 5

    assert main(["knowledge", "search", kb, "which respirators for airborne infection", "-k", "2", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 2 and "FFP3" in hits[0]["text"] and hits[0]["score"] > 0

    assert main(["knowledge", "search", kb, "staff parking"]) == 0
    assert "Lot A" in capsys.readouterr().out

    assert main(["knowledge", "datasets", "list", "--domain", "medical"]) == 0
    out = capsys.readouterr().out
    assert "openlifescienceai/medmcqa" in out and "virattt/financial-qa-10K" not in out
    assert main(["knowledge", "datasets", "show", "pubmedqa"]) == 0
    assert json.loads(capsys.readouterr().out)["config"] == "pqa_labeled"


def test_errors_are_messages_not_tracebacks(tmp_path, capsys):
    assert main(["knowledge", "search", str(tmp_path / "missing"), "x"]) == 2
    assert "no such knowledge base" in capsys.readouterr().err
    assert main(["knowledge", "add", str(tmp_path / "kb")]) == 2
    assert "nothing to add" in capsys.readouterr().err
    assert main(["knowledge", "add", str(tmp_path / "kb"), "--dataset", "nope"]) == 2
    assert "not in the catalog" in capsys.readouterr().err
    assert main(["knowledge", "add", str(tmp_path / "kb"), "--dataset", "a/b", "--field", "question"]) == 2
    assert "ROLE=PATH" in capsys.readouterr().err
