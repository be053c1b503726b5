"""Dialogue and verdict records as things the UI shows (chat messages, table rows).

Plain functions over the JSON records the stages write; no gradio import, so they are tested
directly. Record text is untrusted: the Chatbot renders it as markdown with HTML sanitised.
"""

from __future__ import annotations

import json
from typing import Any

from mimir.ui.text import shorten

DIALOGUE_HEADERS = ["id", "status", "roles", "framework", "spoken turns", "topic"]
VERDICT_HEADERS = ["dialogue", "decision", "reasons", "scores"]


def dialogue_row(record: dict[str, Any]) -> list[Any]:
    scenario = record.get("scenario") or {}
    spoken = [t for t in record.get("turns", []) if t.get("role") in ("user", "assistant")]
    status = record.get("status", "ok")
    if status == "failed":
        status = "failed: " + shorten(record.get("error", ""), 60)
    return [
        record.get("id", "?"),
        status,
        ", ".join(scenario.get("roles", [])) or record.get("source", ""),
        scenario.get("framework", ""),
        len(spoken),
        shorten(scenario.get("topic") or scenario.get("seed_question") or "", 80),
    ]


def dialogue_messages(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Chatbot messages: the tuned role speaks as the assistant, every other role as the user.

    Tool calls, observations and reasoning traces appear as collapsible assistant messages.
    """
    scenario = record.get("scenario") or {}
    target = scenario.get("target_role", "")
    out: list[dict[str, Any]] = []
    for turn in record.get("turns", []):
        role, speaker = turn.get("role"), turn.get("speaker", "")
        if role == "system":
            continue
        if turn.get("reasoning"):
            out.append({"role": "assistant", "content": turn["reasoning"],
                        "metadata": {"title": f"💭 {speaker} reasoning", "status": "done"}})
        if role == "tool":
            out.append({"role": "assistant", "content": "```\n" + shorten(turn.get("content", ""), 1200) + "\n```",
                        "metadata": {"title": f"🔎 observation ({turn.get('meta', {}).get('tool', 'tool')})", "status": "done"}})
            continue
        for call in turn.get("tool_calls") or []:
            args = json.dumps(call.get("arguments", {}), ensure_ascii=False)
            out.append({"role": "assistant", "content": f"`{call.get('name')}({shorten(args, 300)})`",
                        "metadata": {"title": f"🛠 {speaker} calls {call.get('name')}", "status": "done"}})
        if not turn.get("content"):
            continue
        is_target = speaker == target if target else role == "assistant"
        out.append({"role": "assistant" if is_target else "user", "content": f"**{speaker}:** {turn['content']}"})
    if record.get("status") == "failed":
        out.append({"role": "assistant", "content": f"❌ failed: {record.get('error', '')}"})
    return out


def verdict_row(verdict: dict[str, Any]) -> list[Any]:
    scores = verdict.get("scores") or {}
    return [
        verdict.get("dialogue_id", "?"),
        verdict.get("decision", "?"),
        "; ".join(str(r) for r in verdict.get("reasons", [])) or "—",
        ", ".join(f"{k} {v:.2f}" if isinstance(v, (int, float)) else f"{k} {v}" for k, v in scores.items()),
    ]


def verdict_totals(verdicts: list[dict[str, Any]]) -> dict[str, int]:
    totals = {"keep": 0, "fix": 0, "reject": 0, "judge_failed": 0}
    for v in verdicts:
        totals[v.get("decision", "?")] = totals.get(v.get("decision", "?"), 0) + 1
    return totals


def card_markdown(text: str) -> str:
    """A model / dataset card for a gr.Markdown: its YAML front matter as a code block, then the body."""
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end > 0:
            meta, body = text[4:end], text[end + 4:].lstrip("\n")
            return f"```yaml\n{meta}\n```\n\n{body}"
    return text
