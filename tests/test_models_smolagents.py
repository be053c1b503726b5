"""A MIMIR backend driving a real smolagents ToolCallingAgent with a real Tool."""

from __future__ import annotations

from smolagents import Tool, ToolCallingAgent

from mimir.models.base import Reply
from mimir.models.scripted import ScriptedModel
from mimir.models.smolagents_adapter import SmolagentsModel
from mimir.types import ToolCall


class ClinicHours(Tool):
    name = "clinic_hours"
    description = "Opening hours of a clinic department."
    inputs = {"department": {"type": "string", "description": "Department name"}}
    output_type = "string"

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def forward(self, department: str) -> str:
        self.seen.append(department)
        return f"{department} opens 07:30-19:00"


def test_agent_runs_tool_then_answers():
    tool = ClinicHours()
    scripted = ScriptedModel(
        [
            Reply(text="", tool_calls=[ToolCall(id="c1", name="clinic_hours", arguments={"department": "radiology"})]),
            Reply(text="", tool_calls=[ToolCall(id="c2", name="final_answer", arguments={"answer": "07:30-19:00"})]),
        ]
    )
    agent = ToolCallingAgent(tools=[tool], model=SmolagentsModel(scripted), max_steps=3, verbosity_level=0)
    assert agent.run("When does radiology open?") == "07:30-19:00"
    assert tool.seen == ["radiology"]
    # the observation of the first call reached the model on the second request
    second_request = scripted.calls[1][0]
    assert any("07:30-19:00" in (m.get("content") or "") for m in second_request)
    # tool schemas were offered to the backend
    offered = scripted.calls[0][1].tools
    assert {t["function"]["name"] for t in offered} == {"clinic_hours", "final_answer"}
