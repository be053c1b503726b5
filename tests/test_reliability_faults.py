"""Issue 16 — faults in the model endpoint, bad model paths, odd URLs and no network: a run completes
or fails cleanly, and every error is a message in words, found before any model loads."""

from __future__ import annotations

import random
import socket
import time

import pytest

from mimir.errors import BackendError, ConfigError, HubError, MimirError, ModelNotFoundError
from mimir.generate import GenerateConfig, generate_dialogues
from mimir.models.endpoint import EndpointModel, RetryPolicy
from mimir.models.registry import load_model
from tests.fakes.openai_server import FakeOpenAIServer
from tests.test_generate_engine import CHUNKS, roleplay

FAULTS = [("status", 429, {"Retry-After": "0"}), ("status", 500), ("status", 502), ("status", 503), ("delay", 1.5),
          ("malformed",), ("garbage",), ("truncated",), ("close",)]


@pytest.fixture
def server():
    srv = FakeOpenAIServer(responder=lambda body: roleplay(body["messages"])).start()
    yield srv
    srv.stop()


def _model(server, retries: int = 4) -> EndpointModel:
    return EndpointModel("fake", base_url=server.base_url, token="tok", timeout=0.5,
                         retry=RetryPolicy(max_retries=retries, base_delay=0.01, max_delay=0.05))


def test_each_fault_kind_is_survived(server):
    model = _model(server)
    for fault in FAULTS:
        server.add_faults(fault, fault)  # twice in a row, then a good reply
        reply = model.generate([[{"role": "user", "content": "ping"}]])[0]
        assert reply.text, fault
    model.close()


def test_generate_run_completes_through_injected_faults(server, tmp_path, capsys):
    rng = random.Random(16)
    injected = [rng.choice(FAULTS) for _ in range(24)]
    server.add_faults(*injected)
    config = GenerateConfig(output=str(tmp_path / "d.jsonl"), frameworks=["none"], questions_per_fact=1,
                            facts_per_dialogue=1, max_turns=4, max_dialogues=4)
    started = time.monotonic()
    dialogues = generate_dialogues(CHUNKS, config, _model(server, retries=12))
    ok = sum(d.status == "ok" for d in dialogues)
    with capsys.disabled():
        print(f"\n[issue16] endpoint faults: {len(injected) - len(server.faults)} injected into a generate run, "
              f"{ok}/{len(dialogues)} dialogues completed, run completed in {time.monotonic() - started:.1f}s")
    assert not server.faults and ok == len(dialogues) > 0


def test_a_fault_that_never_ends_fails_the_run_cleanly(server, tmp_path):
    server.add_faults(*[("status", 503)] * 200)
    config = GenerateConfig(output=str(tmp_path / "d.jsonl"), frameworks=["none"], questions_per_fact=1,
                            facts_per_dialogue=1, max_turns=4, max_dialogues=2)
    dialogues = generate_dialogues(CHUNKS, config, _model(server, retries=2))
    assert dialogues and all(d.status == "failed" and "gave up after 3 attempts" in d.error for d in dialogues)
    # the failed records are on disk: a rerun with retry_failed redoes them
    assert (tmp_path / "d.jsonl").read_text().count('"status": "failed"') == len(dialogues)


def test_no_server_is_an_error_in_words():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    model = EndpointModel("m", base_url=f"http://127.0.0.1:{port}/v1", retry=RetryPolicy(max_retries=1, base_delay=0.01))
    with pytest.raises(BackendError, match=r"no connection to the server|refused the connection"):
        model.generate([[{"role": "user", "content": "hi"}]])


@pytest.mark.parametrize("url", ["ftp://example.org/v1", "file:///etc/passwd", "gopher://x", "localhost:8000/v1", "http://"])
def test_unsupported_endpoint_urls_are_refused_before_any_request(url):
    """Before: an ftp:// endpoint was retried 6 times as a 'malformed reply'."""
    started = time.monotonic()
    with pytest.raises(ConfigError, match="use an http:// or https:// URL"):
        load_model(f"endpoint:some-model@{url}")
    with pytest.raises(ConfigError):
        EndpointModel("m", base_url=url)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("spec", ["local:/nonexistent", "local:./no/such/folder", "local@/nonexistent/adapter"])
def test_missing_local_model_path_is_an_error_before_loading(spec):
    started = time.monotonic()
    with pytest.raises(ModelNotFoundError, match="no such file or folder"):
        load_model(spec)
    assert time.monotonic() - started < 2.0  # nothing was loaded


def test_folder_without_a_model_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ModelNotFoundError, match="holds no model"):
        load_model(f"local:{tmp_path}")


def test_hub_without_network_is_an_error_in_words(monkeypatch):
    """Before: `push` without a network ended in a ConnectError traceback."""
    from mimir.hub.auth import whoami

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(HubError, match=r"no connection to the Hub \(http://127\.0\.0\.1:\d+: \w+\)") as info:
        whoami("hf_CANARYnotSent000", endpoint=f"http://127.0.0.1:{port}")
    assert "hf_CANARY" not in str(info.value) and isinstance(info.value, MimirError)
