"""Extractive grounding repair: turns that miss their focus fact are replaced, counted, and cut on repeats."""

from __future__ import annotations

from mimir.generate.grounding import ANSWER_FORMS, answer_ok, repair_counts, repair_dialogue, restate
from mimir.generate.questions import questions_for
from mimir.types import Dialogue, Scenario, Turn

FOCUS = ["The laboratory lead is Tomasz Wierzbicki.", "The courier collects specimens at 10:15 and 15:40."]
HINTS = ["The laboratory lead is ___.", "The courier collects specimens at ___ and 15:40."]


def _dialogue(turns: list[Turn]) -> Dialogue:
    scenario = Scenario(id="s", topic="Lab", roles=["patient", "doctor"], target_role="doctor", chunk_ids=["c1"],
                        focus=list(FOCUS), focus_hints=list(HINTS))
    return Dialogue(id="d1", scenario=scenario, turns=turns)


def test_good_turns_are_kept_and_bad_ones_replaced_by_the_focus():
    d = _dialogue([
        Turn("patient", "user", "Who leads the lab?", meta={"focus": 0}),
        Turn("doctor", "assistant", "That is Tomasz Wierzbicki.", meta={"focus": FOCUS[0]}),
        Turn("patient", "user", "When does the courier come?", meta={"focus": 1}),
        Turn("doctor", "assistant", "<<<DATA chunk>>> specimens are nice", meta={"focus": FOCUS[1]}),
        Turn("patient", "user", "Thanks!"),
    ])
    repair_dialogue(d)
    texts = [t.content for t in d.turns]
    assert texts[0] == "Who leads the lab?" and texts[1] == "That is Tomasz Wierzbicki."  # a paraphrase is a question
    assert texts[2] == "When does the courier come?"
    assert FOCUS[1].rstrip(".") in texts[3]  # the focus sentence, in one of the answer forms
    assert len(d.turns) == 4  # the trailing thanks teaches the expert nothing
    assert d.turns[3].meta["generated"].startswith("<<<DATA")
    assert repair_counts([d]) == {"turns": 4, "expert_extractive": 1}


def test_an_unusable_question_is_rebuilt_from_its_fact_or_its_exchange_dropped():
    focus = ["Standard appointments last 20 minutes.", "The courier collects specimens at 10:15 and 15:40."]
    scenario = Scenario(id="s", topic="Clinic", roles=["patient", "doctor"], target_role="doctor", chunk_ids=["c1"],
                        focus=focus, focus_hints=["Standard appointments last ___.", "The courier collects specimens at ___ and 15:40."])
    d = Dialogue(id="d2", scenario=scenario, turns=[
        Turn("patient", "user", 'What is the missing part here: "Standard appointments last ___"?', meta={"focus": 0}),
        Turn("doctor", "assistant", "Standard appointments last 20 minutes.", meta={"focus": focus[0]}),
        Turn("patient", "user", "I am a patient. I am a patient.", meta={"focus": 1}),
        Turn("doctor", "assistant", "At 10:15.", meta={"focus": focus[1]}),
    ])
    repair_dialogue(d)
    assert d.turns[0].content in {q.text for q in questions_for(focus[0], "20 minutes")}  # e.g. "How long do ... last?"
    assert [t.content for t in d.turns][1:] == ["Standard appointments last 20 minutes."]
    assert d.turns[0].meta["question_problem"] == "cloze_remnant" and "___" in d.turns[0].meta["generated"]
    assert repair_counts([d]) == {"turns": 2, "question_rule_built": 1, "question_dropped": 1}


def test_an_answer_must_state_the_blanked_fact():
    assert answer_ok("At 10:15 in the morning.", FOCUS[1], HINTS[1])
    assert not answer_ok("At 15:40 only.", FOCUS[1], HINTS[1])  # 15:40 was given in the question
    assert not answer_ok("It is 10:15. " * 30, FOCUS[1], HINTS[1])  # a loop


def test_a_repeated_expert_answer_ends_the_dialogue():
    d = _dialogue([
        Turn("patient", "user", "Who leads the lab?", meta={"focus": 0}),
        Turn("doctor", "assistant", "Nobody knows.", meta={"focus": FOCUS[0]}),
        Turn("patient", "user", "And who leads it again?", meta={"focus": 0}),
        Turn("doctor", "assistant", "Still nobody.", meta={"focus": FOCUS[0]}),
    ])
    repair_dialogue(d)
    assert len(d.turns) == 2 and FOCUS[0].rstrip(".") in d.turns[1].content
    assert d.meta["repairs"]["cut_repeats"] == 1  # the repeat; the then-trailing question goes too


def test_replaced_answers_restate_the_fact_in_several_forms():
    sentence = "Standard appointments last 20 minutes; new-patient intakes last 40 minutes."
    forms = [restate(sentence, ["20 minutes"], k) for k in range(len(ANSWER_FORMS))]
    assert len(set(forms)) == len(ANSWER_FORMS)
    assert all("20 minutes" in f for f in forms)
    assert "Standard appointments last 20 minutes." in forms  # the clause alone
    assert any(f.startswith("20 minutes. ") for f in forms)  # the direct answer first
    # A long list of values is no direct answer: those forms fall back to the sentence.
    hours = "Open Monday to Friday 07:30 to 19:00, Saturday 08:00 to 13:00."
    listed = [restate(hours, ["Monday", "07:30", "19:00", "Saturday", "08:00"], k) for k in range(len(ANSWER_FORMS))]
    assert all(" and " not in f for f in listed) and hours in listed
    # Two values that form a range keep the sentence's wording.
    saturday = "On Saturday the clinic opens 08:00 to 13:00."
    assert any(f.startswith("08:00 to 13:00. ") for f in (restate(saturday, ["08:00", "13:00"], k) for k in range(4)))


def test_an_answer_that_talks_about_its_data_is_not_kept():
    assert not answer_ok('The data for this question is: "The laboratory lead is Tomasz Wierzbicki."', FOCUS[0])
    assert answer_ok("The laboratory lead is Tomasz Wierzbicki.", FOCUS[0])


def test_a_good_answer_loses_the_ramble_after_its_fact():
    d = _dialogue([
        Turn("patient", "user", "Who leads the lab?", meta={"focus": 0}),
        Turn("doctor", "assistant", "The lead is Tomasz Wierzbicki.\n\nThe courier comes at 09:00. The lab is", meta={"focus": FOCUS[0]}),
        Turn("patient", "user", "When does the courier come?", meta={"focus": 1}),
        Turn("doctor", "assistant", "At 10:15, then the lab closes.", meta={"focus": FOCUS[1]}),
    ])
    repair_dialogue(d)
    assert d.turns[1].content == "The lead is Tomasz Wierzbicki."  # the wrong courier time is gone
    assert d.turns[1].meta["generated"].endswith("The lab is")
    assert d.turns[3].content == "At 10:15, then the lab closes."  # one sentence: nothing to trim
    assert repair_counts([d]) == {"turns": 4, "expert_trimmed": 1}


def test_a_dialogue_cut_after_a_tool_call_ends_at_the_last_answer():
    from mimir.types import ToolCall

    d = _dialogue([
        Turn("patient", "user", "Who leads the lab?", meta={"focus": 0}),
        Turn("doctor", "assistant", "That is Tomasz Wierzbicki.", meta={"focus": FOCUS[0]}),
        Turn("patient", "user", "When does the courier come?", meta={"focus": 1}),
        Turn("doctor", "assistant", "", tool_calls=[ToolCall(id="c1", name="knowledge_retriever", arguments={"query": "courier"})]),
        Turn("tool", "tool", "The courier collects specimens at 10:15.", tool_call_id="c1"),
        Turn("doctor", "assistant", "", tool_calls=[ToolCall(id="c2", name="knowledge_retriever", arguments={"query": "courier"})]),
    ])
    repair_dialogue(d)
    assert [t.content for t in d.turns] == ["Who leads the lab?", "That is Tomasz Wierzbicki."]
