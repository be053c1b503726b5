"""The endpoint backend against a loopback OpenAI-compatible server."""

from __future__ import annotations

import logging
import time

import pytest

from mimir.errors import AuthError, BackendError
from mimir.models import GenerationSettings, ModelConfig, load_model
from mimir.models.endpoint import EndpointModel, RetryPolicy
from tests.fakes.openai_server import FakeOpenAIServer

TOKEN = "hf_CanaryTokenThatMustNeverLeak0123456789"


@pytest.fixture
def server():
    srv = FakeOpenAIServer().start()
    yield srv
    srv.stop()


def _model(server: FakeOpenAIServer, **kwargs) -> EndpointModel:
    kwargs.setdefault("retry", RetryPolicy(max_retries=3, base_delay=0.05))
    return EndpointModel("fake-model", base_url=server.base_url, token=TOKEN, **kwargs)


def _conv(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def test_batch_runs_concurrently_and_keeps_order(server):
    server.latency = 0.5
    model = _model(server, concurrency=8)
    start = time.monotonic()
    replies = model.generate([_conv(f"q{i}") for i in range(16)])
    elapsed = time.monotonic() - start
    assert [r.text for r in replies] == [f"echo: q{i}" for i in range(16)]
    # requests overlap (one at a time would take 8 s); the time bound is loose so a loaded CI machine does not flake
    assert server.max_in_flight >= 4, f"at most {server.max_in_flight} requests were in flight at once"
    assert elapsed < 4.0, f"16 prompts at concurrency 8 with 0.5 s latency took {elapsed:.2f}s"
    assert server.max_in_flight <= 8  # bounded: never more than the configured concurrency
    model.close()


def test_settings_reach_the_server(server):
    model = _model(server)
    model.generate([_conv("hi")], GenerationSettings(max_new_tokens=7, temperature=0.0, stop=["\n\n"], seed=3))
    body = server.requests[0]
    assert body["model"] == "fake-model"
    assert body["max_tokens"] == 7 and body["stop"] == ["\n\n"] and body["seed"] == 3
    assert server.headers[0]["authorization"] == f"Bearer {TOKEN}"


def test_429_retry_after_is_honoured(server):
    server.add_faults(("status", 429, {"Retry-After": "1"}))
    model = _model(server)
    reply = model.chat(_conv("x"))
    assert reply.text == "echo: x"
    assert len(server.requests) == 2
    gap = server.request_times[1] - server.request_times[0]
    assert gap >= 0.95, f"retried after {gap:.2f}s, before Retry-After"


@pytest.mark.parametrize("fault", [("status", 500), ("status", 503), ("malformed",)])
def test_transient_faults_are_retried(server, fault):
    server.add_faults(fault, fault)
    assert _model(server).chat(_conv("y")).text == "echo: y"
    assert len(server.requests) == 3


def test_timeout_is_retried(server):
    server.add_faults(("delay", 1.5))
    model = _model(server, timeout=0.4)
    assert model.chat(_conv("slow")).text == "echo: slow"
    assert len(server.requests) == 2


def test_gives_up_after_max_retries(server):
    server.add_faults(*[("status", 500)] * 10)
    with pytest.raises(BackendError, match="gave up after 4 attempts"):
        _model(server).chat(_conv("z"))
    assert len(server.requests) == 4


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_is_immediate_and_hides_token(server, status, caplog):
    server.add_faults(("status", status))
    caplog.set_level(logging.DEBUG)
    start = time.monotonic()
    with pytest.raises(AuthError) as info:
        _model(server).chat(_conv("secret?"))
    assert time.monotonic() - start < 1.0
    assert len(server.requests) == 1  # no retry on bad credentials
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)
    assert TOKEN not in caplog.text


def test_native_tool_calls_are_parsed(server):
    server.responder = lambda body: {
        "content": "",
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "knowledge_retriever", "arguments": '{"query": "dose"}'}}],
    }
    tools = [{"type": "function", "function": {"name": "knowledge_retriever", "parameters": {"type": "object"}}}]
    reply = _model(server).chat(_conv("what dose?"), GenerationSettings(tools=tools))
    assert server.requests[0]["tools"] == tools
    assert reply.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments) for c in reply.tool_calls] == [("c1", "knowledge_retriever", {"query": "dose"})]


def test_registry_builds_endpoint_from_spec_and_env(server, monkeypatch):
    monkeypatch.setenv("MY_KEY", TOKEN)
    config = ModelConfig.from_spec(f"endpoint:fake-model@{server.base_url}")
    config.api_key_env = "MY_KEY"
    model = load_model(config)
    assert model.chat(_conv("hello")).text == "echo: hello"
    assert TOKEN not in model.name
    assert server.headers[0]["authorization"] == f"Bearer {TOKEN}"


def test_offline_mode_is_named_not_retried(monkeypatch):
    """huggingface_hub refuses every request under HF_HUB_OFFLINE=1, even to a loopback server:
    the error says so at once instead of 'gave up after 6 attempts'."""
    import huggingface_hub.constants as constants

    from mimir.errors import BackendError
    from mimir.models import load_model
    from mimir.models.base import GenerationSettings

    srv = FakeOpenAIServer().start()
    try:
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
        model = load_model(f"endpoint:fake@{srv.base_url}")
        with pytest.raises(BackendError, match="HF_HUB_OFFLINE"):
            model.generate([[{"role": "user", "content": "hi"}]], GenerationSettings(max_new_tokens=4))
        assert srv.requests == []
    finally:
        srv.stop()
