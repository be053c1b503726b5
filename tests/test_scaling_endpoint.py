"""Past one machine: generation and judging against an OpenAI-compatible server, with the concurrency knob.

The knob is the model spec's ``?concurrency=N``. These tests assert on what the loopback server
saw (requests in flight at once, what was asked), not on wall time: benchmarks/remote.py
measures the speed-up.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from mimir.cli import main
from tests.fakes.openai_server import FakeOpenAIServer
from tests.test_generate_engine import roleplay


def _judging(body: dict) -> str:
    user = body["messages"][-1]["content"]
    if body["model"] == "judge":
        first = user.split("[Answer 1]")[1].split("[End of answer 1]")[0]
        return "Verdict: 1" if "minutes" in first else "Verdict: 2"
    number = int(user.split("step ")[1].rstrip("?"))
    return f"It takes {number + 10} minutes." if body["model"] == "tuned" else "Please ask your doctor."


class Gauge:
    """Requests being answered at once, counted inside the reply (the fake's own counter is released
    only after the reply is sent, so a client's next request can overlap it by one)."""

    def __init__(self) -> None:
        self.now = self.peak = 0
        self._lock = threading.Lock()

    def reply(self, body: dict):
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(0.15)  # the server's latency
            return _judging(body) if body["model"] in ("tuned", "vague", "judge") else roleplay(body["messages"])
        finally:
            with self._lock:
                self.now -= 1


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_LoopbackOnlyScalingToken0123456789")
    gauge = Gauge()
    srv = FakeOpenAIServer(responder=gauge.reply).start()
    srv.gauge = gauge
    yield srv
    srv.stop()


@pytest.mark.parametrize("concurrency", [1, 4])
def test_generation_keeps_exactly_the_configured_requests_in_flight(server, tmp_path, concurrency):
    from mimir.generate import GenerateConfig, generate_dialogues
    from mimir.knowledge import load_example_kb
    from mimir.models import load_model

    kb = load_example_kb(tmp_path / "kb")
    config = GenerateConfig(max_dialogues=8, max_active=8, frameworks=["none"], tools=[], output=str(tmp_path / "d.jsonl"))
    model = load_model(f"endpoint:fake@{server.base_url}?concurrency={concurrency}")
    assert model.concurrency == concurrency
    try:
        records = generate_dialogues(kb, config, model)
    finally:
        model.close()
    assert len(records) == 8 and all(r.status == "ok" for r in records), [r.error for r in records if r.status != "ok"]
    assert len(server.requests) >= 16  # multi-turn: more than one request per dialogue
    assert server.gauge.peak == concurrency  # reached and never exceeded


def test_judging_runs_at_the_configured_concurrency_and_agrees(server, tmp_path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps({"id": f"q{i}", "question": f"How long is step {i}?",
                                             "answer": f"Step {i} takes {i + 10} minutes.",
                                             "key_facts": [f"{i + 10} minutes"]}) + "\n" for i in range(12)))

    def spec(name: str) -> str:
        return f"endpoint:{name}@{server.base_url}?concurrency=6"

    out = tmp_path / "eval"
    assert main(["evaluate", "--a", spec("tuned"), "--b", spec("vague"), "--questions", str(questions), "--judge", "llm",
                 "--judge-model", spec("judge"), "--bootstrap", "100", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())["summaries"]["llm"]
    assert summary["wins"] == 12 and summary["position_flip_rate"] == 0.0
    judged = [b for b in server.requests if b["model"] == "judge"]
    assert len(judged) == 24  # every pair, in both orders
    assert server.gauge.peak == 6


def test_a_bad_concurrency_in_the_spec_is_a_clear_error():
    from mimir.errors import ConfigError
    from mimir.models import ModelConfig

    with pytest.raises(ConfigError, match="concurrency"):
        ModelConfig.from_spec("endpoint:m@http://127.0.0.1:9/v1?concurrency=0")


def test_a_follow_up_goes_out_while_a_slow_reply_of_its_round_is_still_out():
    """Replies differ in length on a real server; a round must not wait for its slowest one."""
    from mimir.models.endpoint import EndpointModel

    def reply(body: dict) -> str:
        text = body["messages"][-1]["content"]
        time.sleep(1.0 if text == "slow" else 0.05)
        return text

    srv = FakeOpenAIServer(responder=reply).start()
    model = EndpointModel("fake", base_url=srv.base_url, token="hf_LoopbackOnlyScalingToken0123456789", concurrency=4)
    queue = [[("slow", [{"role": "user", "content": "slow"}]), ("fast", [{"role": "user", "content": "fast"}])]]
    finished: list[tuple[str, float]] = []

    def admit():
        return queue.pop() if queue else []

    def finish(key, answer):
        finished.append((key, time.monotonic()))
        assert answer.text == key
        if key == "fast":  # the fast dialogue's next turn
            queue.append([("fast-2", [{"role": "user", "content": "fast-2"}])])

    try:
        model.serve(admit, finish)
    finally:
        model.close()
        srv.stop()
    assert [k for k, _ in finished] == ["fast", "fast-2", "slow"]
    assert len(srv.requests) == 3
