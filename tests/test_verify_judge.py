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


def judge_reply(verdict: str = "keep", fixes: dict[int, str] | None = None, bad: tuple[int, ...] = ()):
    """A scripted judge that answers in the requested shape for whatever dialogue it is shown."""

    def reply(conversation) -> str:
        turns = []
        for i in _experts(conversation):
            unsupported = i in (fixes or {}) or i in bad
            turns.append({"index": i, "supported": not unsupported,
                          "unsupported_claims": ["a wrong fact"] if unsupported else [],
                          "correction": (fixes or {}).get(i, "")})
        return json.dumps({"turns": turns, "verdict": verdict, "reasons": [] if verdict == "keep" else ["turn has a wrong fact"]})

    return reply


def _by_id(out_dir):
    return {r["dialogue_id"]: r for r in read_records(out_dir / "verdicts.jsonl")}


def test_valid_json_keeps_clean_dialogues(tmp_path, fixture):
    dialogues, lookup, planted = fixture
    clean = [d for d in dialogues if d.id not in planted][:3]
    model = ScriptedModel(default=judge_reply("keep"))
    report = verify_dialogues(_write(tmp_path / "d.jsonl", clean), lookup, VerifyConfig(mode="judge"), judge_model=model)
    assert report.by_decision["keep"] == 3 and report.judged == 3 and report.judge_malformed == 0
    verdict = _by_id(tmp_path)[clean[0].id]
    assert verdict["scores"]["judge_supported"] == 1.0 and verdict["meta"]["judge_attempts"] == 1
    # the judge saw the source chunk, the numbered dialogue and the rubric
    prompt = model.calls[0][0][1]["content"]
    assert lookup[clean[0].scenario.chunk_ids[0]].text[:60] in prompt and "[1] doctor" in prompt


def test_malformed_then_valid_uses_the_retry(tmp_path, fixture):
    dialogues, lookup, planted = fixture
    clean = [d for d in dialogues if d.id not in planted][:1]
    model = ScriptedModel(["Sure! The dialogue looks fine to me.", judge_reply("keep")])
    report = verify_dialogues(_write(tmp_path / "d.jsonl", clean), lookup, VerifyConfig(mode="judge"), judge_model=model)
    assert report.by_decision["keep"] == 1 and report.judge_replies == 2 and report.judge_malformed == 1
    retry = model.calls[1][0]
    assert retry[-2] == {"role": "assistant", "content": "Sure! The dialogue looks fine to me."}
    assert "single JSON object" in retry[-1]["content"]
    assert _by_id(tmp_path)[clean[0].id]["meta"]["judge_errors"][0].startswith("the reply must be a single JSON object")


def test_always_malformed_is_judge_failed_and_the_run_completes(tmp_path, fixture):
    dialogues, lookup, planted = fixture
    clean = [d for d in dialogues if d.id not in planted][:3]
    first_prompt = build_messages(clean[0], [lookup[c] for c in clean[0].scenario.chunk_ids], mode="judge")[1]["content"]

    def sometimes_broken(conversation):
        if conversation[1]["content"] == first_prompt:
            return Reply(text='{"turns": [{"index": 1, "supp', finish_reason="length")
        return judge_reply("keep")(conversation)

    raw = _write(tmp_path / "d.jsonl", clean)
    before = raw.read_bytes()
    report = verify_dialogues(raw, lookup, VerifyConfig(mode="judge"), judge_model=ScriptedModel(default=sometimes_broken))
    assert report.by_decision == {"keep": 2, "fix": 0, "reject": 0, "judge_failed": 1}
    failed = _by_id(tmp_path)[clean[0].id]
    assert failed["decision"] == "judge_failed" and failed["meta"]["judge_attempts"] == 2
    assert "cut off at the token limit" in failed["reasons"][0] and failed["meta"]["judge_last_reply"].startswith('{"turns"')
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
    fixed = verify_dialogues(raw, lookup, VerifyConfig(mode="judge", rejudge_failed=True), judge_model=ScriptedModel(default=judge_reply("keep")))
    assert fixed.by_decision["keep"] == 1 and fixed.by_decision["judge_failed"] == 0


def _planted(fixture, qid="q19"):
    dialogues, lookup, planted = fixture
    d = next(d for d in dialogues if d.id in planted and d.meta["question_id"] == qid)
    index = next(i for i, t in enumerate(d.turns) if t.role == "assistant" and ANSWERS[qid][2] in t.content)
    return d, lookup, index


def test_fix_mode_replaces_the_turn_and_keeps_the_original(tmp_path, fixture):
    d, lookup, index = _planted(fixture)
    raw = _write(tmp_path / "d.jsonl", [d])
    model = ScriptedModel(default=judge_reply("fix", fixes={index: ANSWERS["q19"][0]}))
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
    model = ScriptedModel(default=judge_reply("fix", fixes={index: "Halvorin is 300 mg every four hours."}))
    report = verify_dialogues(_write(tmp_path / "d.jsonl", [d]), lookup, VerifyConfig(mode="fix"), judge_model=model)
    assert report.by_decision["reject"] == 1 and report.by_reason["fix_ungrounded"] == 1
    assert _by_id(tmp_path)[d.id]["fixed_turns"] == {}


def test_judge_keep_cannot_overrule_grounding_unless_trusted(tmp_path, fixture):
    d, lookup, _ = _planted(fixture)
    raw = _write(tmp_path / "d.jsonl", [d])
    # judge mode: a flagged dialogue is rejected without asking (the judge could not overrule the check)
    model = ScriptedModel(default=judge_reply("keep"))
    strict = verify_dialogues(raw, lookup, VerifyConfig(mode="judge"), judge_model=model, out_dir=tmp_path / "a")
    assert strict.by_decision["reject"] == 1 and strict.judged == 0 and model.calls == []
    assert list(strict.by_reason) == ["ungrounded_quantity"]
    # fix mode: the judge is asked (to repair it); a "keep" is overruled
    fix = verify_dialogues(raw, lookup, VerifyConfig(mode="fix"), judge_model=ScriptedModel(default=judge_reply("keep")), out_dir=tmp_path / "c")
    assert fix.by_decision["reject"] == 1 and fix.by_reason["judge_overruled"] == 1
    trusting = VerifyConfig(mode="judge", trust_judge_over_grounding=True)
    kept = verify_dialogues(raw, lookup, trusting, judge_model=ScriptedModel(default=judge_reply("keep")), out_dir=tmp_path / "b")
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

    model = Counting(default=lambda c: judge_reply("reject", bad=(_experts(c)[0],))(c))
    report = verify_dialogues(_write(tmp_path / "d.jsonl", subset), lookup, VerifyConfig(mode="judge", judge_batch_size=4), judge_model=model)
    assert calls == [4, 4, 1]
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
