"""verify_dialogues end to end: outputs beside the raw file, resume, input errors, CLI, real KB."""

from __future__ import annotations

import copy
import json

import pytest

from mimir.cli import main
from mimir.errors import ConfigError, InputFileError
from mimir.jsonl import read_records
from mimir.verify import VerifyConfig, verified_path, verify_dialogues
from tests.fixtures.verify.clinic_dialogues import build_dialogues, cite_kb_chunks


@pytest.fixture(scope="module")
def fixture():
    return build_dialogues()


@pytest.fixture(scope="module")
def kb_and_dialogues(tmp_path_factory):
    """The example knowledge base built by the Knowledge stage, and the fixture dialogues citing its chunks."""
    from mimir.knowledge import KnowledgeBase, example_files

    kb = KnowledgeBase.create(tmp_path_factory.mktemp("kb") / "clinic")
    kb.add_files(example_files())
    dialogues, _, planted = build_dialogues()
    cite_kb_chunks(kb, dialogues)
    return kb, dialogues, planted


def _write(path, dialogues):
    path.write_text("".join(json.dumps(d.to_dict()) + "\n" for d in dialogues), encoding="utf-8")
    return path


def test_cli_filter_mode_on_the_example_knowledge_base(tmp_path, kb_and_dialogues, capsys):
    kb, dialogues, planted = kb_and_dialogues
    raw = _write(tmp_path / "dialogues.jsonl", dialogues)
    before = raw.read_bytes()
    assert main(["verify", "--dialogues", str(raw), "--knowledge", str(kb.root)]) == 0
    out = capsys.readouterr().out
    assert f"Verified {len(dialogues)} dialogues (mode filter)" in out and "ungrounded_" in out
    verdicts = {r["dialogue_id"]: r["decision"] for r in read_records(tmp_path / "verdicts.jsonl")}
    caught = sum(verdicts[i] == "reject" for i in planted)
    clean = [d.id for d in dialogues if d.id not in planted]
    clean_rejected = sum(verdicts[i] == "reject" for i in clean)
    print(f"\nwith the Knowledge stage's chunks: planted rejected {caught}/{len(planted)}, clean rejected {clean_rejected}/{len(clean)}")
    assert caught / len(planted) >= 0.9 and clean_rejected / len(clean) <= 0.1
    kept = [r["id"] for r in read_records(verified_path(raw))]
    assert kept == [d.id for d in dialogues if verdicts[d.id] == "keep"]
    assert raw.read_bytes() == before
    report = json.loads((tmp_path / "verify_report.json").read_text())
    assert report["by_decision"]["keep"] == len(kept) and report["total"] == len(dialogues)
    assert sum(report["by_decision_reason"]["reject"].values()) >= report["by_decision"]["reject"]
    assert (tmp_path / "verify_report.txt").read_text().startswith(f"Verified {len(dialogues)}")
    train = [r for r in read_records(tmp_path / "dialogues.train.jsonl")]  # the kept ones, as training records
    assert [r["id"] for r in train] == kept and all(r["messages"][-1]["role"] == "assistant" for r in train)


def test_resume_after_a_kill_redoes_only_the_missing(tmp_path, fixture):
    dialogues, lookup, _ = fixture
    raw = _write(tmp_path / "d.jsonl", dialogues[:12])
    seen = []
    verify_dialogues(raw, lookup, VerifyConfig(), progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (12, 12) and len(seen) == 12
    verdicts = tmp_path / "verdicts.jsonl"
    lines = verdicts.read_text().splitlines(keepends=True)
    verdicts.write_text("".join(lines[:7]) + lines[7][:25])  # killed while writing the 8th verdict
    report = verify_dialogues(raw, lookup, VerifyConfig())
    assert report.resumed == 7 and report.total == 12
    ids = [r["dialogue_id"] for r in read_records(verdicts)]
    assert sorted(ids) == sorted(d.id for d in dialogues[:12]) and len(ids) == 12
    again = verify_dialogues(raw, lookup, VerifyConfig())
    assert again.resumed == 12 and again.by_decision == report.by_decision


def test_near_duplicates_and_missing_sources_are_rejected(tmp_path, fixture):
    dialogues, lookup, planted = fixture
    base = next(d for d in dialogues if d.id not in planted and not any(t.role == "tool" for t in d.turns))
    twin = copy.deepcopy(base)
    twin.id = "twin"
    orphan = copy.deepcopy(base)
    orphan.id, orphan.turns[1].content = "orphan", "Take care, and call us any time."  # not a duplicate any more
    orphan.turns[3].content, orphan.turns[5].content = "See you soon, then.", "Bye for now."
    orphan.scenario.chunk_ids = ["chunk_not_in_kb"]
    sourceless = copy.deepcopy(orphan)
    sourceless.id, sourceless.scenario.chunk_ids = "sourceless", []
    raw = _write(tmp_path / "d.jsonl", [base, twin, orphan, sourceless])
    verify_dialogues(raw, lookup, VerifyConfig())
    v = {r["dialogue_id"]: r for r in read_records(tmp_path / "verdicts.jsonl")}
    assert v[base.id]["decision"] == "keep"
    assert v["twin"]["decision"] == "reject" and v["twin"]["reasons"][0].startswith(f"near_duplicate: 1.00 similar to earlier dialogue {base.id}")
    assert v["orphan"]["reasons"][0] == "missing_source: chunk(s) chunk_not_in_kb not in the knowledge base"
    assert v["sourceless"]["reasons"][0].startswith("no_sources")


def test_input_errors_name_the_file_and_the_fix(tmp_path, fixture):
    dialogues, lookup, _ = fixture
    with pytest.raises(InputFileError, match="no such dialogues file"):
        verify_dialogues(tmp_path / "missing.jsonl", lookup)
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(InputFileError, match="holds no dialogues"):
        verify_dialogues(tmp_path / "empty.jsonl", lookup)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "turns": []}\nnot json\n{"id": "b", "turns": []}\n')
    with pytest.raises(InputFileError, match="line 2 is not valid JSON"):
        verify_dialogues(broken, lookup)
    dup = _write(tmp_path / "dup.jsonl", [dialogues[0], dialogues[0]])
    with pytest.raises(InputFileError, match="appears more than once"):
        verify_dialogues(dup, lookup)
    with pytest.raises(InputFileError, match="pass the knowledge base the dialogues were generated from"):
        verify_dialogues(_write(tmp_path / "d.jsonl", dialogues[:4]), {})


def test_cli_config_file_and_strict_keys(tmp_path, fixture, capsys):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("verify:\n  grounding: off\n  bogus: 1\n")
    from mimir.verify.cli import load
    import argparse

    args = argparse.Namespace(config=str(cfg), mode=None, judge=None, language=None, grounding=None)
    with pytest.raises(ConfigError, match="bogus"):
        load(args)
    cfg.write_text("verify:\n  grounding: hint\n  near_duplicate_threshold: 0.9\n")
    args.mode = "fix"
    config = load(args)
    assert (config.mode, config.grounding, config.near_duplicate_threshold) == ("fix", "hint", 0.9)


@pytest.mark.slow
def test_embedded_model_can_judge_and_the_run_completes(tmp_path, embedded_model):
    """The 135M model rarely writes the JSON asked for: the dialogue ends as judge_failed or rejected,
    and the run finishes. Kept tiny (one short dialogue, short replies): CPU time is shared."""
    from mimir.types import Chunk, Dialogue, Scenario, Turn

    chunk = Chunk(id="k", text="Drovanex (sleep support): 5 mg at bedtime, for at most 14 nights in a row.", source="h.md")
    scenario = Scenario(id="s", topic="sleep", roles=["patient", "doctor"], target_role="doctor", chunk_ids=["k"])
    planted = Dialogue(id="p", scenario=scenario, turns=[Turn("patient", "user", "How long can I take Drovanex?"),
                                                        Turn("doctor", "assistant", "Take 5 mg at bedtime for at most 21 nights.")])
    config = VerifyConfig(mode="fix", judge_max_new_tokens=16)
    report = verify_dialogues(_write(tmp_path / "d.jsonl", [planted]), {"k": chunk}, config, judge_model=embedded_model)
    assert report.total == 1 and report.judged == 1 and report.judge_replies >= 1
    (verdict,) = read_records(tmp_path / "verdicts.jsonl")
    # whatever the judge said, the planted error cannot survive: the grounding check gates keep and fix
    assert verdict["decision"] in ("reject", "judge_failed")
    assert any(r.startswith("ungrounded_quantity: '21 nights'") or "21 nights" in r for r in verdict["reasons"])


def test_a_name_from_another_row_is_named_off_source_not_ungrounded(tmp_path, kb_and_dialogues):
    """A physician from another week of the rota is in the knowledge, just not in this dialogue's
    sources: the reason says where it is instead of calling it ungrounded (a user would look for a
    missing fact that is not missing)."""
    from mimir.types import Turn

    kb, dialogues, _ = kb_and_dialogues
    rota = next(c for c in kb.chunks() if c.source == "on-call-rota.csv")
    name = next(n for n in ("Felix", "Okafor", "Brandt") if n in rota.text)
    d = copy.deepcopy(next(d for d in dialogues if not any(t.role == "tool" for t in d.turns)))
    d.id = "dlg-off-source"
    d.scenario.chunk_ids = [c.id for c in kb.chunks() if c.source != "on-call-rota.csv" and name not in c.text][:2]
    expert = next(i for i, t in enumerate(d.turns) if t.role == "assistant")
    d.turns[expert] = Turn(speaker=d.turns[expert].speaker, role="assistant", content=f"Please ask Dr. {name} about that.")
    raw = _write(tmp_path / "dialogues.jsonl", [d])
    verify_dialogues(raw, kb, VerifyConfig(mode="filter"))
    reasons = next(read_records(tmp_path / "verdicts.jsonl"))["reasons"]
    flagged = [r for r in reasons if name in r]
    assert flagged and all(r.startswith("off_source_name") and "on-call-rota.csv" in r for r in flagged), reasons
