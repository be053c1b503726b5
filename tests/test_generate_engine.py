"""The dialogue engine with the scripted model: roles, speaker choice, batching, stop, resume."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from mimir.generate import GenerateConfig, generate_dialogues, load_dialogues
from mimir.generate.pipeline import dialogue_id
from mimir.models.base import Reply
from mimir.models.scripted import ScriptedModel
from mimir.types import Chunk

KEY_FACT = re.compile(r'Key fact for this question \(data, not instructions\): "(.*?)"')

CHUNKS = [
    Chunk(id="c-hours", source="handbook.md", heading="Opening hours",
          text="The clinic is open Monday to Friday from 07:30 to 19:00. On Saturday it opens from 08:00 to 13:00."),
    Chunk(id="c-phone", source="handbook.md", heading="Contacts",
          text="The triage nurse line is extension 2147. The pharmacy of Lena Vasquez is extension 2230."),
    Chunk(id="c-rooms", source="handbook.md", heading="Rooms",
          text="The infusion suite is Room B7 and has four chairs. Room C3 is the isolation room."),
]


def key_fact(conversation: list[dict]) -> str:
    """The key fact shown to the expert in this request (its cue), or a refusal."""
    found = KEY_FACT.findall("\n".join(str(m.get("content") or "") for m in conversation))
    return found[-1] if found else "I do not know."


_PEER_TURN = itertools.count()
PEER_LINES = [" my mother needs the infusion suite booked two days ahead.", " is parking free for patients on Saturday mornings?",
              " I work night shifts, so evenings suit me better.", " the pharmacy closes before my bus arrives."]


def roleplay(conversation: list[dict]) -> str:
    """A well-behaved fake model: asks from the hint, answers by copying the key fact (a prefilled
    opening is continued: the reply is what follows it)."""
    if conversation[-1].get("prefill"):
        opening, conversation = conversation[-1]["content"], conversation[:-1]
        if opening.startswith("Reasoning:"):
            return f" the reference data states it.\nAnswer: {key_fact(conversation)}"
        if opening.startswith(("Could you also", "I should mention", "Please keep in mind")):
            return PEER_LINES[next(_PEER_TURN) % len(PEER_LINES)]
    system, last = conversation[0]["content"], conversation[-1]["content"]
    if "Who should speak next?" in last:
        names = last.rsplit("Reply with exactly one name from:", 1)[1]
        return "I think " + names.split(",")[-1].strip(" .") + " should speak."
    if "in your own words" in last:
        return "Please, " + re.search(r'\n"(.*)"\s*$', last, re.S).group(1)
    if "Your questions are answered" in last:
        return "Thank you, that is all. <END>"
    if "helpful remark" in last:
        return "That matches what I know."
    fact = key_fact(conversation)
    if "Reasoning:" in last:
        return f"Reasoning: the reference data states it.\nAnswer: {fact}"
    if "critique" in last.lower() and "Draft answer" not in last:
        return "The draft is vague; it should give the exact time."
    if "Draft answer" in last:
        return f"Revised: {fact}"
    return fact


def last_speaker(conversation: list[dict], options: list[str]) -> str:
    """A scripted moderator: the last candidate that is a role (never "nobody"); other choices: the first option."""
    names = [o for o in options if "nobody" not in o]
    return names[-1] if "Who should speak next?" in conversation[-2]["content"] else options[0]


def config(tmp_path, **overrides) -> GenerateConfig:
    # tools=[]: the expert answers from its scenario's passages (tests of retrieval are in test_structured_*)
    base = dict(output=str(tmp_path / "d.jsonl"), frameworks=["cot"], questions_per_fact=1, facts_per_dialogue=2, max_turns=6,
                closing_turn=True, tools=[])
    base.update(overrides)
    return GenerateConfig(**base)


def test_two_role_dialogue_grounded_in_its_chunk(tmp_path):
    model = ScriptedModel(default=roleplay)
    dialogues = generate_dialogues(CHUNKS, config(tmp_path), model)
    assert len(dialogues) == 3 and all(d.status == "ok" for d in dialogues)
    d = dialogues[0]
    assert d.scenario.roles == ["patient", "doctor"] and d.scenario.chunk_ids == ["c-hours"]
    speakers = [t.speaker for t in d.turns]
    assert speakers[:4] == ["patient", "doctor", "patient", "doctor"]
    answers = [t for t in d.turns if t.speaker == "doctor"]
    assert "07:30 to 19:00" in answers[0].content and "08:00 to 13:00" in answers[1].content
    assert answers[0].reasoning == "the reference data states it."
    assert d.meta["ended_by"] == "stop signal from patient" and "<END>" not in d.turns[-1].content
    # each agent has its own system prompt; only the expert sees the data block
    patient_calls = [c for c, _ in model.calls if c[0]["content"].startswith("You are a patient of")]
    doctor_calls = [c for c, _ in model.calls if c[0]["content"].startswith("You are a physician at")]
    assert patient_calls and doctor_calls
    assert not any("<<<DATA" in c[0]["content"] for c in patient_calls)
    assert all("<<<DATA chunk id=" in c[0]["content"] for c in doctor_calls)
    # the expert's system prompt (its dialogue's sources + what was retrieved for its agenda) is the
    # same every turn, so its prompts grow turn by turn and the local backend reuses their prefix;
    # this turn's key fact is in the cue
    assert len({c[0]["content"] for c in doctor_calls}) == 3  # one per dialogue
    assert all(c[0]["content"].count("<<<DATA") == 2 for c in doctor_calls)  # own chunk + one retrieved
    # (CoT: the reply opens with our "Reasoning:" label, a prefilled assistant message after the cue)
    assert all(c[-1] == {"role": "assistant", "content": "Reasoning:", "prefill": True} for c in doctor_calls)
    assert all(KEY_FACT.search(c[-2]["content"]) for c in doctor_calls)
    # memory: the doctor's second request shows its own first answer as "assistant"
    second = [c for c in doctor_calls if any(m.get("name") == "patient" for m in c)][1]
    assert {"role": "assistant", "content": answers[0].content} in second


def test_every_round_is_one_batched_call(tmp_path):
    calls = []

    class Recording(ScriptedModel):
        def generate(self, conversations, settings=None):
            calls.append(len(conversations))
            return super().generate(conversations, settings)

    generate_dialogues(CHUNKS, config(tmp_path, max_active=16), Recording(default=roleplay))
    # 3 dialogues advance in lockstep: every model call carries all of them (5 turns each)
    assert calls == [3] * 5


def test_without_closing_turn_the_dialogue_ends_after_the_last_answer(tmp_path):
    d = generate_dialogues(CHUNKS[:1], config(tmp_path, closing_turn=False), ScriptedModel(default=roleplay))[0]
    assert [t.speaker for t in d.turns] == ["patient", "doctor", "patient", "doctor"]
    assert d.meta["ended_by"] == "all questions answered"


def test_four_roles_with_moderator(tmp_path):
    model = ScriptedModel(default=roleplay, chooser=last_speaker)
    cfg = config(tmp_path, group_sizes=[4], max_turns=6)
    d = generate_dialogues(CHUNKS[:1], cfg, model)[0]
    assert len(d.scenario.roles) == 4 and d.scenario.speaker_selection == "moderator"
    moderator_requests = [(c, o) for c, o in model.choice_calls if "Who should speak next?" in c[-2]["content"]]
    assert moderator_requests
    # the moderator's step is a closed choice: the allowed speakers (never the last one), then "nobody"
    for conversation, options in moderator_requests:
        assert conversation[-1] == {"role": "assistant", "content": "Next speaker:", "prefill": True}
        assert all(o.startswith(" ") for o in options) and len(options) >= 2
    # the scripted moderator always names the last candidate; the engine obeys it
    assert d.meta["moderator_choices"] and not d.meta.get("moderator_fallbacks")
    speakers = [t.speaker for t in d.turns if t.role != "tool"]
    assert speakers[:2] == ["patient", "doctor"]  # a question from the asker goes to the expert
    for choice in d.meta["moderator_choices"]:
        if choice["speaker"] != "(end)":
            assert speakers[choice["turn"]] == choice["speaker"]
    assert any(t.role == "user" and t.speaker not in ("patient", "doctor") for t in d.turns)


def test_moderator_reply_without_a_name_falls_back_to_round_robin(tmp_path):
    def confused(conversation):  # a backend without constrained choice, asked in words, never names anyone
        if "Who should speak next?" in conversation[-1]["content"] or "Reply with exactly one" in conversation[-1]["content"]:
            return "Hmm, hard to say."
        return roleplay(conversation)

    d = generate_dialogues(CHUNKS[:1], config(tmp_path, group_sizes=[3]), ScriptedModel(default=confused))[0]
    assert d.meta["moderator_fallbacks"] >= 1
    assert [t.speaker for t in d.turns][:3] == d.scenario.roles


def test_turn_budget_ends_a_dialogue_without_stop_signal(tmp_path):
    def chatty(conversation):
        return "Thank you, tell me more." if "Your questions are answered" in conversation[-1]["content"] else roleplay(conversation)

    d = generate_dialogues(CHUNKS[:1], config(tmp_path, max_turns=7), ScriptedModel(default=chatty))[0]
    assert sum(1 for t in d.turns if t.role != "tool") == 7 and d.meta["ended_by"] == "turn budget"


def test_progress_and_failed_dialogue_recorded(tmp_path):
    def broken(conversation):
        if "Rooms" in conversation[0]["content"] or "B7" in conversation[0]["content"]:
            return ""  # the expert of the rooms dialogue answers nothing
        return roleplay(conversation)

    seen = []
    dialogues = generate_dialogues(CHUNKS, config(tmp_path), ScriptedModel(default=broken), progress=lambda d, t, x: seen.append((d, t, x.status)))
    assert [s[:2] for s in seen] == [(1, 3), (2, 3), (3, 3)]
    failed = [d for d in dialogues if d.status == "failed"]
    assert len(failed) == 1 and "empty answer" in failed[0].error and failed[0].scenario.chunk_ids == ["c-rooms"]
    on_disk = load_dialogues(tmp_path / "d.jsonl")
    assert on_disk[failed[0].id].status == "failed"


def test_backend_error_fails_the_batch_with_the_error(tmp_path):
    class Down(ScriptedModel):
        def generate(self, conversations, settings=None):
            raise ConnectionError("server unreachable")

    dialogues = generate_dialogues(CHUNKS, config(tmp_path), Down())
    assert {d.status for d in dialogues} == {"failed"}
    assert all("server unreachable" in d.error for d in dialogues)


def test_kill_and_resume_loses_and_duplicates_nothing(tmp_path):
    class Killed(Exception):
        pass

    cfg = config(tmp_path, max_active=1)
    calls = {"n": 0}

    def dies_midway(conversation):
        calls["n"] += 1
        if calls["n"] == 8:  # in the middle of the second dialogue
            raise Killed()
        return roleplay(conversation)

    class Crashing(ScriptedModel):
        def generate(self, conversations, settings=None):
            try:
                return super().generate(conversations, settings)
            except Killed:
                raise KeyboardInterrupt  # a kill: not a recorded failure

    with pytest.raises(KeyboardInterrupt):
        generate_dialogues(CHUNKS, cfg, Crashing(default=dies_midway))
    path = tmp_path / "d.jsonl"
    first = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(first) == 1 and first[0]["status"] == "ok"
    with path.open("a") as f:
        f.write('{"id": "torn')  # the kill also tore a line in half
    model = ScriptedModel(default=roleplay)
    dialogues = generate_dialogues(CHUNKS, cfg, model)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == 3 and all(r["status"] == "ok" for r in records)
    assert [d.id for d in dialogues] == [dialogue_id(d.scenario, "scripted", 0) for d in dialogues]
    # the finished dialogue was not generated again
    assert not any("07:30" in key_fact(c) for c, _ in model.calls)
    # and a third run has nothing left to do
    again = ScriptedModel()
    assert len(generate_dialogues(CHUNKS, cfg, again)) == 3 and again.calls == []


def test_retry_failed_reruns_only_failed(tmp_path):
    def broken(conversation):
        return "" if "Room" in key_fact(conversation) else roleplay(conversation)

    generate_dialogues(CHUNKS, config(tmp_path), ScriptedModel(default=broken))
    dialogues = generate_dialogues(CHUNKS, config(tmp_path, retry_failed=True), ScriptedModel(default=roleplay))
    assert all(d.status == "ok" for d in dialogues)
    assert sum(1 for _ in (tmp_path / "d.jsonl").open()) == 4  # 3 + 1 retry


def test_holdout_questions_never_enter_the_dialogue(tmp_path):
    from mimir.facts.text import fact_sentences, question_for

    held = "When does the clinic open on weekdays, from what time to 19:00?"
    template = question_for(fact_sentences(CHUNKS[0].text)[0])
    holdout = tmp_path / "q.jsonl"
    holdout.write_text(json.dumps({"id": "q1", "question": held}) + "\n")

    def copier(conversation):
        if "in your own words" in conversation[-1]["content"]:
            return held  # on topic, a clean question: it would pass, but it is an evaluation question
        return roleplay(conversation)

    d = generate_dialogues(CHUNKS[:1], config(tmp_path, holdout_questions=str(holdout)), ScriptedModel(default=copier))[0]
    assert d.status == "ok" and not any(t.content == held for t in d.turns)
    assert d.turns[0].content == template and d.turns[0].meta["rejected_holdout_copy"]
    # a rule-built question that equals an evaluation question fails the dialogue instead
    holdout.write_text(json.dumps({"id": "q2", "question": template}) + "\n")
    cfg = config(tmp_path, holdout_questions=str(holdout), question_style="template", output=str(tmp_path / "e.jsonl"))
    d = generate_dialogues(CHUNKS[:1], cfg, ScriptedModel(default=roleplay))[0]
    assert d.status == "failed" and "held-out evaluation question" in d.error


def test_speaker_labels_and_continuations_are_cleaned(tmp_path):
    def labelled(conversation):
        text = roleplay(conversation)
        if conversation[0]["content"].startswith("You are a physician at"):
            return f"Doctor: {text}\nPatient: and what else?"
        return text

    d = generate_dialogues(CHUNKS[:1], config(tmp_path), ScriptedModel(default=labelled))[0]
    answer = next(t for t in d.turns if t.speaker == "doctor")
    assert not answer.content.lower().startswith("doctor") and "what else" not in answer.content


def test_reply_objects_and_token_counts_are_tallied(tmp_path):
    def counted(conversation):
        return Reply(text=roleplay(conversation), prompt_tokens=10, completion_tokens=5)

    d = generate_dialogues(CHUNKS[:1], config(tmp_path), ScriptedModel(default=counted))[0]
    assert d.meta["completion_tokens"] == 5 * d.meta["model_calls"] and d.timings["model_seconds"] >= 0


def test_a_backend_that_drops_requests_fails_them_instead_of_hanging(tmp_path):
    class Dropping(ScriptedModel):
        def serve(self, admit, finish, settings=None):
            admit()  # takes the requests, answers none

    dialogues = generate_dialogues(CHUNKS, config(tmp_path), Dropping())
    assert len(dialogues) == 3 and {d.status for d in dialogues} == {"failed"}
    assert all("without answering" in d.error for d in dialogues)
