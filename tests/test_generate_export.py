"""The training export: chat messages that datasets loads and a chat template renders."""

from __future__ import annotations

import json

import pytest

from mimir.generate import GenerateConfig, export_for_training, fact_share, generate_dialogues, write_export
from mimir.generate.export import training_system_prompt
from mimir.models.scripted import ScriptedModel
from mimir.types import Chunk, Dialogue, Scenario, ToolCall, Turn
from tests.test_generate_engine import CHUNKS, roleplay


def react_dialogue() -> Dialogue:
    call = ToolCall(id="call_1", name="knowledge_retriever", arguments={"query": "hours"})
    scenario = Scenario(id="s", topic="Hours", roles=["patient", "doctor", "nurse"], target_role="doctor",
                        chunk_ids=["c-hours"], framework="react", tools=["knowledge_retriever"])
    turns = [
        Turn(speaker="patient", role="user", content="When do you open on Saturday?"),
        Turn(speaker="doctor", role="assistant", content="", tool_calls=[call], reasoning="Check the handbook."),
        Turn(speaker="tool", role="tool", content="<<<chunk id=c-hours>>>\n08:00 to 13:00\n<<<end>>>", tool_call_id="call_1",
             meta={"tool": "knowledge_retriever"}),
        Turn(speaker="doctor", role="assistant", content="From 08:00 to 13:00.", reasoning="Check the handbook."),
        Turn(speaker="nurse", role="user", content="Walk-ins are welcome then."),
        Turn(speaker="patient", role="user", content="Thanks!"),
    ]
    return Dialogue(id="d1", scenario=scenario, turns=turns, model="scripted", meta={"domain": "medical"})


def test_export_shape_roles_names_and_tool_calls():
    (row,) = export_for_training([react_dialogue()], include_reasoning=False)
    msgs = row["messages"]
    assert msgs[0] == {"role": "system", "content": training_system_prompt("doctor")}
    assert "handbook" not in msgs[0]["content"].lower() or "<<<" not in msgs[0]["content"]  # closed book
    assert msgs[1] == {"role": "user", "name": "patient", "content": "When do you open on Saturday?"}
    assert msgs[2] == {"role": "assistant", "name": "doctor", "content": "", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "knowledge_retriever", "arguments": '{"query": "hours"}'}}]}
    assert msgs[3]["role"] == "tool" and msgs[3]["tool_call_id"] == "call_1" and msgs[3]["name"] == "knowledge_retriever"
    assert msgs[4] == {"role": "assistant", "name": "doctor", "content": "From 08:00 to 13:00."}
    # the nurse is not the target: a named user; the trailing thanks (after the last answer) is dropped
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "tool", "assistant"]
    meta = row["metadata"]
    assert meta["target_role"] == "doctor" and meta["framework"] == "react" and meta["chunk_ids"] == ["c-hours"]
    assert meta["roles"] == ["patient", "doctor", "nurse"] and meta["num_turns"] == 5


def test_export_options_reasoning_and_tools():
    (with_reasoning,) = export_for_training([react_dialogue()], include_reasoning=True)
    assert with_reasoning["messages"][2]["content"] == "Check the handbook."
    assert with_reasoning["messages"][4]["content"].startswith("Check the handbook.") and "08:00" in with_reasoning["messages"][4]["content"]
    (closed,) = export_for_training([react_dialogue()], include_tools=False, system_prompt="You are a clinic expert.")
    assert [m["role"] for m in closed["messages"]] == ["system", "user", "assistant"]
    assert closed["messages"][0]["content"] == "You are a clinic expert."


def test_failed_dialogues_are_not_exported():
    failed = Dialogue(id="x", scenario=react_dialogue().scenario, turns=[], status="failed", error="boom")
    assert export_for_training([failed]) == []


def test_generated_export_loads_with_datasets_and_renders(tmp_path):
    cfg = GenerateConfig(output=str(tmp_path / "d.jsonl"), frameworks=["cot"], group_sizes=[2, 3], questions_per_fact=2)
    dialogues = generate_dialogues(CHUNKS, cfg, ScriptedModel(default=roleplay))
    rows = export_for_training(dialogues + [react_dialogue()], include_reasoning=True)
    path = write_export(rows, tmp_path / "train.jsonl")
    import datasets

    ds = datasets.load_dataset("json", data_files=str(path), split="train")
    assert len(ds) == len(rows) == 7
    first = ds[0]["messages"]
    assert first[0]["role"] == "system" and first[1]["role"] == "user" and first[2]["role"] == "assistant"
    # trl's SFT path renders rows through the tokenizer's chat template; the embedded model's renders them
    from transformers import AutoTokenizer

    from mimir.models.embedded import resolve_model

    tok = AutoTokenizer.from_pretrained(resolve_model())
    clean = [{k: v for k, v in m.items() if v is not None} for m in ds[len(ds) - 1]["messages"]]
    text = tok.apply_chat_template(clean, tokenize=False)
    assert "08:00 to 13:00" in text


def test_fact_share_counts_answers_with_source_facts():
    d = react_dialogue()
    chunks = [Chunk(id="c-hours", source="h.md", text="On Saturday it opens from 08:00 to 13:00.")]
    share = fact_share([d], chunks)
    assert share["expert_turns"] == 1 and share["with_source_fact"] == 1.0
    d.turns[3].content = "We are open in the morning."
    assert fact_share([d], chunks)["with_source_fact"] == 0.0


def test_system_prompts_introduce_the_role_as_a_sentence():
    """'You are a support agent who ...', never 'You are support agent, a support agent who ...'."""
    from mimir.generate.agents import introduction
    from mimir.generate.export import training_system_prompt

    assert training_system_prompt("support_agent") == "You are a support agent who knows the product documentation and policies."
    assert training_system_prompt("pharmacist").startswith("You are the clinic's pharmacist, careful")
    assert training_system_prompt("role_from_the_app") == "You are the role from the app. You know the documents by heart."
    assert introduction("tax_accountant", "Knows the tax code  by heart.") == "You are the tax accountant. Knows the tax code by heart."
    assert introduction("tax_accountant", "") == "You are the tax accountant."
