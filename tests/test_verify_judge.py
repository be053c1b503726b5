"""The LLM judge path, driven by the scripted model: strict JSON, one retry, fix mode, failures."""

from __future__ import annotations

import json
import re

import pytest

from mimir.jsonl import read_records
from mimir.models.base import Reply
from mimir.models.scripted import ScriptedModel
from mimir.verify import VerifyConfig, verified_path, verify_dialogues
from mimir.verify.judge import MalformedJudgement, build_messages, parse_judgement
from tests.fixtures.verify.clinic_dialogues import ANSWERS, build_dialogues


@pytest.fixture(scope="module")
def fixture():
    return build_dialogues()


def _write(path, dialogues):
    path.write_text("".join(json.dumps(d.to_dict()) + "\n" for d in dialogues), encoding="utf-8")
    return path


def _experts(conversation) -> list[int]:
    user = conversation[1]["content"]
    return [int(x) for x in re.search(r"Expert turns to assess: ([\d, ]+)", user).group(1).split(",")]


def judge_model(verdict: str = "keep", fixes: dict[int, str] | None = None, bad: tuple[int, ...] = (), cls=None):
    """A scripted judge for the structured steps: the verdict and the unsupported turn are closed
    choices; the claim and the correction continue our prefilled labels."""
    fixes = fixes or {}

    def chooser(conversation, options):
        assert conversation[-1]["prefill"] and conversation[-1]["content"].startswith("Verdict:")
        if " keep" in options:
            return " " + verdict
        wanted = [f" {i}" for i in [*fixes, *bad]]
        return next((o for o in options if o in wanted), options[0])

    def fields(conversation):
        start = conversation[-1]["content"]
        turn = int(re.search(r"Unsupported turn: (\d+)", start).group(1))
        if start.endswith("Unsupported claim:"):
            return ' "a wrong fact"'
        if start.endswith("Correction:"):
            return " " + fixes.get(turn, "")
        raise AssertionError(f"unexpected field: {start!r}")

    return (cls or ScriptedModel)(default=fields, chooser=chooser)


def _by_id(out_dir):
    return {r["dialogue_id"]: r for r in read_records(out_dir / "verdicts.jsonl")}


def test_closed_choice_keeps_clean_dialogues(tmp_path, fixture):
    dialogues, lookup, planted = fixture
    clean = [d for d in dialogues if d.id not in planted][:3]
    model = judge_model("keep")
    report = verify_dialogues(_write(tmp_path / "d.jsonl", clean), lookup, VerifyConfig(mode="judge"), judge_model=model)
    assert report.by_decision["keep"] == 3 and report.judged == 3 and report.judge_malformed == 0
    verdict = _by_id(tmp_path)[clean[0].id]
    assert verdict["scores"]["judge_supported"] == 1.0 and verdict["meta"]["judge_attempts"] == 1
    # the verdict is a closed choice after our "Verdict:" label; no free text was generated for a keep
    conversation, options = model.choice_calls[0]
    assert options == [" keep", " reject"] and model.calls == []
    # the judge saw the source chunk, the numbered dialogue and the rubric
    prompt = conversation[1]["content"]
    assert lookup[clean[0].scenario.chunk_ids[0]].text[:60] in prompt and "[1] doctor" in prompt


def test_a_backend_without_constrained_choice_is_asked_again(tmp_path, fixture):
    dialogues, lookup, planted = fixture
    clean = [d for d in dialogues if d.id not in planted][:1]
    model = ScriptedModel(["Sure! The dialogue looks fine to me.", "keep"])
    report = verify_dialogues(_write(tmp_path / "d.jsonl", clean), lookup, VerifyConfig(mode="judge"), judge_model=model)
    assert report.by_decision["keep"] == 1 and report.judge_replies == 2
    retry = model.calls[1][0]
    assert retry[-2] == {"role": "assistant", "content": "Sure! The dialogue looks fine to me."}
    assert "not one of the options" in retry[-1]["content"] and "keep | reject" in retry[-1]["content"]


def test_never_a_verdict_is_judge_failed_and_the_run_completes(tmp_path, fixture):
    dialogues, lookup, planted = fixture
    clean = [d for d in dialogues if d.id not in planted][:3]
    first_prompt = build_messages(clean[0], [lookup[c] for c in clean[0].scenario.chunk_ids], mode="judge", structured=True)[1]["content"]

    def sometimes_broken(conversation):
        if conversation[1]["content"].startswith(first_prompt):
            return Reply(text="Let me think about the turns one by one", finish_reason="length")
        return "keep"

    raw = _write(tmp_path / "d.jsonl", clean)
    before = raw.read_bytes()
    report = verify_dialogues(raw, lookup, VerifyConfig(mode="judge"), judge_model=ScriptedModel(default=sometimes_broken))
    assert report.by_decision == {"keep": 2, "fix": 0, "reject": 0, "judge_failed": 1}
    failed = _by_id(tmp_path)[clean[0].id]
    assert failed["decision"] == "judge_failed" and failed["meta"]["judge_attempts"] == 2
    assert "names no option" in failed["reasons"][0]
    kept = [r["id"] for r in read_records(verified_path(raw))]
    assert kept == [d.id for d in clean[1:]] and raw.read_bytes() == before
    assert report.by_reason["judge_failed"] == 1


def test_rejudge_failed_on_resume(tmp_path, fixture):
    dialogues, lookup, planted = fixture
    clean = [d for d in dialogues if d.id not in planted][:1]
    raw = _write(tmp_path / "d.jsonl", clean)
    verify_dialogues(raw, lookup, VerifyConfig(mode="judge"), judge_model=ScriptedModel(default="not json"))
    again = verify_dialogues(raw, lookup, VerifyConfig(mode="judge"), judge_model=ScriptedModel(default="not json"))
    assert again.judged == 0 and again.by_decision["judge_failed"] == 1  # resumed, not re-asked
    fixed = verify_dialogues(raw, lookup, VerifyConfig(mode="judge", rejudge_failed=True), judge_model=judge_model("keep"))
    assert fixed.by_decision["keep"] == 1 and fixed.by_decision["judge_failed"] == 0


def _planted(fixture, qid="q19"):
    dialogues, lookup, planted = fixture
    d = next(d for d in dialogues if d.id in planted and d.meta["question_id"] == qid)
    index = next(i for i, t in enumerate(d.turns) if t.role == "assistant" and ANSWERS[qid][2] in t.content)
    return d, lookup, index


def test_fix_mode_replaces_the_turn_and_keeps_the_original(tmp_path, fixture):
    d, lookup, index = _planted(fixture)
    raw = _write(tmp_path / "d.jsonl", [d])
    model = judge_model("fix", fixes={index: ANSWERS["q19"][0]})
    report = verify_dialogues(raw, lookup, VerifyConfig(mode="fix"), judge_model=model)
    assert report.by_decision["fix"] == 1
    verdict = _by_id(tmp_path)[d.id]
    assert verdict["fixed_turns"] == {str(index): ANSWERS["q19"][0]}
    assert "every six hours" in verdict["meta"]["original_turns"][str(index)]
    (record,) = read_records(verified_path(raw))
    assert record["turns"][index]["content"] == ANSWERS["q19"][0]
    assert "every six hours" in record["meta"]["verification"]["original_turns"][str(index)]
    assert "every six hours" in json.loads(raw.read_text())["turns"][index]["content"]  # raw untouched
    assert '"fix"' in model.calls[0][0][1]["content"] and "six hours" in model.calls[0][0][1]["content"]  # flags shown


def test_a_fix_that_is_still_ungrounded_is_rejected(tmp_path, fixture):
    d, lookup, index = _planted(fixture)
    model = judge_model("fix", fixes={index: "Halvorin is 300 mg every four hours."})
    report = verify_dialogues(_write(tmp_path / "d.jsonl", [d]), lookup, VerifyConfig(mode="fix"), judge_model=model)
    assert report.by_decision["reject"] == 1 and report.by_reason["fix_ungrounded"] == 1
    assert _by_id(tmp_path)[d.id]["fixed_turns"] == {}


def test_judge_keep_cannot_overrule_grounding_unless_trusted(tmp_path, fixture):
    d, lookup, _ = _planted(fixture)
    raw = _write(tmp_path / "d.jsonl", [d])
    # judge mode: a flagged dialogue is rejected without asking (the judge could not overrule the check)
    model = judge_model("keep")
    strict = verify_dialogues(raw, lookup, VerifyConfig(mode="judge"), judge_model=model, out_dir=tmp_path / "a")
    assert strict.by_decision["reject"] == 1 and strict.judged == 0 and model.calls == [] and model.choice_calls == []
    assert list(strict.by_reason) == ["ungrounded_quantity"]
    # fix mode: the judge is asked (to repair it); a "keep" is overruled
    fix = verify_dialogues(raw, lookup, VerifyConfig(mode="fix"), judge_model=judge_model("keep"), out_dir=tmp_path / "c")
    assert fix.by_decision["reject"] == 1 and fix.by_reason["judge_overruled"] == 1
    trusting = VerifyConfig(mode="judge", trust_judge_over_grounding=True)
    kept = verify_dialogues(raw, lookup, trusting, judge_model=judge_model("keep"), out_dir=tmp_path / "b")
    assert kept.by_decision["keep"] == 1
    assert _by_id(tmp_path / "b")[d.id]["meta"]["grounding_flags_overruled"]


def test_judge_reject_and_batching(tmp_path, fixture):
    dialogues, lookup, planted = fixture
    subset = [d for d in dialogues if d.id not in planted][:9]
    calls = []

    class Counting(ScriptedModel):
        def generate(self, conversations, settings=None):
            calls.append(len(conversations))
            return super().generate(conversations, settings)

        def choose(self, conversations, options, **kw):
            calls.append(("choose", len(conversations)))
            return super().choose(conversations, options, **kw)

    model = judge_model("reject", cls=Counting)
    report = verify_dialogues(_write(tmp_path / "d.jsonl", subset), lookup, VerifyConfig(mode="judge", judge_batch_size=4), judge_model=model)
    # per batch of 4: one batched verdict choice, one batched turn choice, one batched claim generation
    assert [c for c in calls if isinstance(c, int)] == [4, 4, 1]
    assert [c[1] for c in calls if isinstance(c, tuple)][::2] == [4, 4, 1]
    assert report.by_decision["reject"] == 9 and report.by_reason["judge_unsupported"] == 9


@pytest.mark.parametrize(
    "text, error",
    [
        ('Here you go: {"turns": [], "verdict": "keep", "reasons": []}', "single JSON object"),
        ('{"turns": [], "verdict": "keep"', "not valid JSON"),
        ('{"turns": [{"index": 1, "supported": true}], "verdict": "great", "reasons": []}', "verdict"),
        ('{"turns": [{"index": 1, "supported": true}], "verdict": "fix", "reasons": []}', "verdict"),  # judge mode
        ('{"turns": [{"index": 1, "supported": true}], "verdict": "keep", "reasons": []}', "turn(s) 3 are not assessed"),
        ('{"turns": [{"index": 1, "supported": "yes"}, {"index": 3, "supported": true}], "verdict": "keep"}', "true or false"),
        ('{"turns": [{"index": 2, "supported": true}], "verdict": "keep"}', "not an expert turn"),
        ('{"turns": [{"index": 1, "supported": false}, {"index": 3, "supported": true}], "verdict": "keep"}', 'verdict "keep" but turn 1'),
        ('{"turns": [{"index": 1, "supported": true}, {"index": 3, "supported": true}], "verdict": "reject"}', "every turn is marked supported"),
    ],
)
def test_parse_is_strict(text, error):
    with pytest.raises(MalformedJudgement, match=re.escape(error)):
        parse_judgement(text, [1, 3], "judge")


def test_parse_accepts_a_fenced_object_and_checks_fix_corrections():
    good = '```json\n{"turns": [{"index": 1, "supported": false, "unsupported_claims": ["6 hours"], "correction": "Every 8 hours."}, {"index": 3, "supported": true}], "verdict": "fix", "reasons": ["wrong interval"]}\n```'
    j = parse_judgement(good, [1, 3], "fix")
    assert j.verdict == "fix" and j.corrections == {1: "Every 8 hours."} and j.supported_ratio == 0.5
    with pytest.raises(MalformedJudgement, match="needs a \"correction\""):
        parse_judgement(good.replace("Every 8 hours.", ""), [1, 3], "fix")
