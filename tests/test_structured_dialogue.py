"""Constrained steps in dialogues: the expert looks up what its context lacks (any framework), peers
add something or are dropped, the moderator's choice (and its "nobody")."""

from __future__ import annotations

import itertools

import pytest

from mimir.generate import GenerateConfig, generate_dialogues
from mimir.generate.echo import is_echo
from mimir.generate.tooluse import key_sentence, lacks_answer, parse_query
from mimir.models.scripted import ScriptedModel
from mimir.types import Chunk
from tests.test_generate_engine import CHUNKS, key_fact, roleplay
from tests.test_generate_frameworks import kb, opening  # noqa: F401 (fixture)


def cfg(tmp_path, **kw) -> GenerateConfig:
    base = dict(output=str(tmp_path / "d.jsonl"), questions_per_fact=1, facts_per_dialogue=2, max_turns=4, max_dialogues=1,
                frameworks=["none"], tools=["knowledge_retriever"])
    base.update(kw)
    return GenerateConfig(**base)


def looker(conversation):
    """Writes its own query into the argument field, answers from the key fact it is shown."""
    if opening(conversation).endswith('Action Input: {"query": "'):
        return 'clinic opening hours"} and more'
    return roleplay(conversation)


def test_the_expert_looks_up_what_its_context_lacks_and_answers_from_the_observation(tmp_path, kb):  # noqa: F811
    model = ScriptedModel(default=looker)
    d = generate_dialogues(kb, cfg(tmp_path), model)[0]
    assert d.status == "ok", d.error
    roles = [(t.speaker, t.role, bool(t.tool_calls)) for t in d.turns]
    # question 1: nothing to answer from -> a real call, its observation, then the answer
    assert roles[:4] == [("patient", "user", False), ("doctor", "assistant", True), ("tool", "tool", False), ("doctor", "assistant", False)]
    call = d.turns[1].tool_calls[0]
    assert call.name == "knowledge_retriever" and call.arguments == {"query": "clinic opening hours"}
    observation = d.turns[2]
    assert observation.tool_call_id == call.id and "<<<chunk id=" in observation.content and "07:30 to 19:00" in observation.content
    answer = d.turns[3]
    assert answer.content == answer.meta["grounded_in"] and answer.meta["grounded_in"] in observation.content
    assert answer.meta["chunk_ids"] and answer.meta["chunk_ids"][0] in observation.content
    # question 2: its fact is in the same passage, already observed -> no second call
    assert [t.role for t in d.turns[4:]] == ["user", "assistant"] and "08:00 to 13:00" in d.turns[5].content
    assert d.meta["turns_lacking_answer"] == 1 and d.meta["lacking_turns_retrieved"] == 1 and d.meta["retriever_calls"] == 1
    # the expert held no standing data: the knowledge reached it only as the observation
    expert_requests = [c for c, _ in model.calls if c[0]["content"].startswith("You are a physician at")]
    assert all("<<<DATA" not in c[0]["content"] for c in expert_requests)
    assert any(m["role"] == "tool" for m in expert_requests[-1])


def test_an_empty_query_falls_back_to_the_question_and_a_miss_is_asked_again(tmp_path, kb):  # noqa: F811
    def vague(conversation):
        if opening(conversation).endswith('{"query": "'):
            return '"}'
        return roleplay(conversation)

    d = generate_dialogues(kb, cfg(tmp_path, facts_per_dialogue=1, max_turns=2), ScriptedModel(default=vague))[0]
    assert d.status == "ok", d.error
    calls = [t.tool_calls[0] for t in d.turns if t.tool_calls]
    assert calls and calls[0].arguments["query"] == d.turns[0].content[:200]
    assert d.meta["tool_query_fallbacks"] == 1


def test_lacks_answer_and_key_sentence():
    context = "The clinic is open Monday to Friday from 07:30 to 19:00. Parking is free."
    assert not lacks_answer("The clinic is open Monday to Friday from 07:30 to 19:00.", "", context)
    assert lacks_answer("Room C3 is the isolation room.", "", context)
    assert not lacks_answer("", "Is parking free?", context)
    assert lacks_answer("", "Who runs the pharmacy?", context)
    assert key_sentence(context, "", "Is the parking free for visitors?") == "Parking is free."
    assert key_sentence("<<<chunk id=x >>>\nnothing here\n<<<end>>>", "", "pharmacy") == ""
    assert parse_query('opening hours"} trailing') == "opening hours" and parse_query("\n") == ""


PEERS = itertools.count()


def peer_model(echo: bool):
    def reply(conversation):
        start = opening(conversation)
        if start.startswith(("Could you also", "I should mention", "Please keep in mind")):
            if echo:
                return " " + key_fact(conversation[:-1]) if "Key fact" in str(conversation) else " the clinic is open Monday to Friday from 07:30 to 19:00."
            return [" my mother needs the infusion suite booked two days ahead.", " I work night shifts, so evenings suit me better.",
                    " is parking free for patients on Saturday mornings?"][next(PEERS) % 3]
        return roleplay(conversation)

    def chooser(conversation, options):
        if "Who should speak next?" in conversation[-2]["content"]:
            return next(o for o in options if "nurse" in o or "pharmacist" in o or "caregiver" in o) if any(
                "nurse" in o or "pharmacist" in o or "caregiver" in o for o in options) else options[0]
        return options[1] if len(options) > 1 else options[0]  # peer move: a detail of its own

    return ScriptedModel(default=reply, chooser=chooser)


def test_peers_add_a_move_of_their_own(tmp_path):
    d = generate_dialogues(CHUNKS[:1], cfg(tmp_path, group_sizes=[3], tools=[], max_turns=5), peer_model(echo=False))[0]
    assert d.status == "ok", d.error
    peers = [t for t in d.turns if t.speaker not in d.scenario.roles[:2] and t.role == "user"]
    assert peers and all(t.meta["move"] == "detail" and t.content.startswith("I should mention that") for t in peers)
    earlier = [t.content for t in d.turns]
    assert not any(is_echo(t.content, earlier[: earlier.index(t.content)]) for t in peers)
    assert not d.meta.get("echo_dropped")


def test_a_peer_question_goes_to_the_expert_even_in_round_robin(tmp_path):
    model = peer_model(echo=False)
    model.chooser = lambda conversation, options: options[0]  # the peer's move: a follow-up question
    d = generate_dialogues(CHUNKS[:1], cfg(tmp_path, group_sizes=[3], tools=[], max_turns=5, speaker_selection="round_robin"), model)[0]
    spoken = [t for t in d.turns if t.role != "tool"]
    asked = [i for i, t in enumerate(spoken) if t.meta.get("move") == "question"]
    assert asked and all(spoken[i + 1].speaker == d.scenario.target_role for i in asked if i + 1 < len(spoken))


def test_echo_turns_are_asked_again_once_then_dropped_and_counted(tmp_path):
    model = peer_model(echo=True)
    d = generate_dialogues(CHUNKS[:1], cfg(tmp_path, group_sizes=[3], tools=[], max_turns=5), model)[0]
    assert d.status == "ok", d.error
    assert d.meta["echo_reasks"] >= 1 and d.meta["echo_dropped"] == d.meta["echo_reasks"]
    assert not any(t.role == "user" and t.speaker not in d.scenario.roles[:2] for t in d.turns)  # none kept
    reasks = [c for c, _ in model.calls if "only repeated what was already said" in str(c[-2]["content"])]
    assert len(reasks) == d.meta["echo_reasks"]
    # a dropped peer is not asked again until someone else adds a turn (greedy decoding would echo again)
    assert d.meta["echo_dropped"] <= sum(1 for t in d.turns if t.role != "tool")


def test_is_echo():
    said = ["The clinic is open Monday to Friday from 07:30 to 19:00."]
    assert is_echo("Yes, the clinic is open Monday to Friday from 07:30 to 19:00!", said)
    assert is_echo("Please go on.", said)  # adds nothing
    assert not is_echo("Is the pharmacy open on Sundays as well?", said)


def test_the_moderator_may_end_the_conversation(tmp_path):
    def ender(conversation, options):
        return next((o for o in options if "nobody" in o), options[0])

    d = generate_dialogues(CHUNKS[:1], cfg(tmp_path, group_sizes=[3], tools=[], max_turns=6, closing_turn=True),
                           ScriptedModel(default=roleplay, chooser=ender))[0]
    assert d.status == "ok" and d.meta["ended_by"] == "moderator: conversation complete"
    assert d.meta["moderator_choices"][-1]["speaker"] == "(end)" and d.meta["moderator_valid"] == d.meta["moderator_steps"]


@pytest.mark.slow
def test_embedded_model_react_turn_calls_the_retriever_for_real(tmp_path, embedded_model):
    """On the real 135M model: the expert, with nothing to answer from, chooses a tool (a closed
    choice: it cannot answer yet), writes its query, gets a real observation and answers."""
    chunks = [Chunk(id="c1", source="handbook.md", heading="Laboratory",
                    text="The laboratory lead is Tomasz Wierzbicki. Specimens are collected at 10:15.")]
    config = cfg(tmp_path, frameworks=["react"], facts_per_dialogue=1, max_turns=2, max_new_tokens=24, question_style="template")
    d = generate_dialogues(chunks, config, embedded_model)[0]
    assert d.status == "ok", d.error
    calls = [t for t in d.turns if t.tool_calls]
    observations = [t for t in d.turns if t.role == "tool"]
    assert calls and calls[0].tool_calls[0].name == "knowledge_retriever" and calls[0].tool_calls[0].arguments["query"]
    assert observations and "<<<chunk id=c1" in observations[0].content
    assert d.meta["lacking_turns_retrieved"] == d.meta["turns_lacking_answer"] == 1
    assert d.meta["react_steps"] >= 2 and d.turns[-1].role == "assistant" and d.turns[-1].content
