"""The grounding check: planted wrong facts are caught, faithful paraphrase is not flagged."""

from __future__ import annotations

import pytest

from mimir.types import Chunk, Dialogue, Scenario, ToolCall, Turn
from mimir.verify.grounding import Evidence, check_grounding, claims_in
from tests.fixtures.verify.clinic_dialogues import build_dialogues, handbook_chunks

HANDBOOK = "\n\n".join(c.text for c in handbook_chunks().values())


def _flagged(text: str, evidence: str = HANDBOOK) -> list[str]:
    ev = Evidence([evidence])
    return [c.text.strip() for c in claims_in(text) if not ev.supports(c)]


def test_fixture_planted_errors_are_caught_and_clean_dialogues_pass():
    dialogues, lookup, planted = build_dialogues()
    assert len(dialogues) >= 40 and len(planted) * 2 == len(dialogues)
    caught = clean_flagged = 0
    misses = []
    for d in dialogues:
        result = check_grounding(d, [lookup[c] for c in d.scenario.chunk_ids])
        if d.id in planted:
            caught += bool(result.unsupported)
            if not result.unsupported:
                misses.append(d.meta["question_id"])
        else:
            clean_flagged += bool(result.unsupported)
    clean = len(dialogues) - len(planted)
    recall, false_rate = caught / len(planted), clean_flagged / clean
    print(f"\ngrounding check: planted errors flagged {caught}/{len(planted)} = {recall:.1%}; "
          f"clean dialogues flagged {clean_flagged}/{clean} = {false_rate:.1%}; missed: {misses}")
    assert recall >= 0.90
    assert false_rate <= 0.10


@pytest.mark.parametrize(
    "text",
    [
        "We're open from 7:30 in the morning until 7 pm on weekdays, and 8 am to 1 pm on Saturdays.",
        "It opened on March 14th, 2009.",
        "Halvorin is 250 mg every eight hours, at most 750 mg a day.",  # "a day" has no number: fine
        "Tamsoril is 12 mg per kg per day in three doses; not for children under two years.",
        "A follow-up call comes within three days.",  # 72 hours, said in days
        "The fridge must stay between 2 and 8 degrees.",
        "Dial 555-0100 and then extension 2147 for the triage nurse.",
        "Pharmacist Lena Vasquez's team maintains the formulary; it's reviewed every April.",
        "The infusion suite, Room B7, has four reclining chairs.",
        "Hand hygiene audits are on the second Tuesday of every month.",
        "Gather at Parking Lot C by the blue flagpole.",
        "We see it on Wednesdays too.",  # Monday to Friday covers Wednesday
        # the way chat models write: markdown labels, AM/PM, section references
        "Absolutely! Here's what you need to know:\n\n**Halvorin:**\n- Adults: 250 mg every 8 hours\n- Maximum: 750 mg in 24 hours",
        "Our clinic operates Monday through Friday, 7:30 AM - 7:00 PM, and Saturdays 8:00 AM - 1:00 PM.",
        "According to Section 6, potassium above 6.2 mmol/L or glucose below 3.1 mmol/L is phoned within 30 minutes.",
        "Sure thing. Tamsoril is 12 mg/kg/day divided into 3 doses; it's not for kids younger than 2.",
    ],
)
def test_faithful_paraphrase_is_not_flagged(text):
    assert _flagged(text) == []


@pytest.mark.parametrize(
    "text, wrong",
    [
        ("We open at 8:30 in the morning on weekdays.", "8:30"),
        ("It opened on 14 May 2009.", "14 May 2009"),
        ("Halvorin is 250 mg every six hours.", "six hours"),
        ("Tamsoril is split into two doses.", "two"),
        ("The infusion suite has six reclining chairs.", "six"),
        ("The pharmacy is run by Lena Vargas.", "Vargas"),
        ("Infusions are in Room B9.", "B9"),
        ("Call 555-0199 after hours.", "555-0199"),
        ("Code Falcon means a medical emergency.", "Falcon"),
        ("Records of adults are kept for 12 years.", "12 years"),
        ("A lost badge costs $15 to replace.", "$15"),
    ],
)
def test_wrong_facts_are_flagged(text, wrong):
    assert wrong in _flagged(text)


def test_weekday_outside_a_range_is_flagged():
    assert _flagged("We're also open on Saturdays.", "The clinic is open Monday to Friday.") == ["Saturdays"]
    assert _flagged("We're open on Thursdays.", "The clinic is open Monday to Friday.") == []


def _dialogue(turns: list[Turn], chunk_ids: list[str] = ()) -> Dialogue:
    scenario = Scenario(id="s", topic="medication", roles=["patient", "doctor"], target_role="doctor",
                        chunk_ids=list(chunk_ids), tools=["knowledge_search"])
    return Dialogue(id="d", scenario=scenario, turns=turns)


def test_tool_observation_counts_only_after_it_arrives():
    call = ToolCall(id="c1", name="knowledge_search", arguments={"query": "drovanex"})
    observed = _dialogue([
        Turn("patient", "user", "How long can I take Drovanex?"),
        Turn("doctor", "assistant", "", tool_calls=[call]),
        Turn("tool", "tool", "Drovanex (sleep support): 5 mg at bedtime, for at most 14 nights in a row.", tool_call_id="c1"),
        Turn("doctor", "assistant", "Take 5 mg at bedtime for no more than 14 nights."),
    ])
    assert check_grounding(observed, []).unsupported == []
    early = _dialogue([observed.turns[0], Turn("doctor", "assistant", "No more than 14 nights."), *observed.turns[1:3]])
    flagged = check_grounding(early, []).unsupported
    assert [(u.turn, u.kind, u.text) for u in flagged] == [(1, "quantity", "14 nights")]


def test_user_turn_facts_and_role_names_are_evidence():
    d = _dialogue([
        Turn("patient", "user", "Hi, I'm Maria and my son Tomas is 4 years old. Can he take Tamsoril?"),
        Turn("doctor", "assistant", "Hello Maria. At 4 years old Tomas can take it; the Doctor on call can advise too."),
    ])
    assert check_grounding(d, []).unsupported == []


def test_replacements_are_checked_instead_of_the_original():
    chunk = Chunk(id="k", text="Drovanex: 5 mg at bedtime, for at most 14 nights in a row.", source="h.md")
    d = _dialogue([Turn("patient", "user", "How long?"), Turn("doctor", "assistant", "At most 21 nights.")], ["k"])
    assert len(check_grounding(d, [chunk]).unsupported) == 1
    result = check_grounding(d, [chunk], replacements={1: "At most 14 nights in a row."})
    assert result.unsupported == [] and result.claims == 1 and result.score == 1.0


def test_reasoning_is_checked_only_when_asked():
    chunk = Chunk(id="k", text="Corvalex starts at 40 mg once daily.", source="h.md")
    d = _dialogue([Turn("patient", "user", "Dose?"),
                   Turn("doctor", "assistant", "Start at 40 mg once daily.", reasoning="Maybe 60 mg is usual.")], ["k"])
    assert check_grounding(d, [chunk]).unsupported == []
    assert [u.text for u in check_grounding(d, [chunk], check_reasoning=True).unsupported] == ["60 mg"]
