"""Hub tab handlers against the loopback Hub: token from the field or from OAuth, never echoed."""

from __future__ import annotations

import json

import pytest

gr = pytest.importorskip("gradio")

from mimir.types import Dialogue, Scenario, Turn  # noqa: E402
from mimir.ui import hub_tab  # noqa: E402
from mimir.ui.common import guard  # noqa: E402
from mimir.ui.session import Session  # noqa: E402
from tests.fakes.hub_server import fake_hub  # noqa: E402,F401 - fixture
from tests.fakes.jobs_server import fake_jobs  # noqa: E402,F401 - fixture

CANARY = "hf_UiCanaryToken0123456789abcdefXYZ"


@pytest.fixture
def alice(fake_hub):
    fake_hub.add_user("alice", CANARY)
    return fake_hub


@pytest.fixture
def session(tmp_path):
    s = Session.new(tmp_path / "runs")
    scenario = Scenario(id="sc1", topic="opening hours", roles=["patient", "doctor"], target_role="doctor", chunk_ids=["c1"])
    records = [Dialogue(id=f"dlg-{i}", scenario=scenario, turns=[
        Turn(speaker="patient", role="user", content=f"When are you open on Saturday? ({i})"),
        Turn(speaker="doctor", role="assistant", content="From 08:00 to 13:00."),
    ]).to_dict() for i in range(3)]
    s.path("generate", "mimir_dialogues.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return s


def test_token_field_pushes_a_private_dataset_and_never_echoes_the_token(alice, session):
    field, who = hub_tab.set_token(session, CANARY)
    assert field == "" and "alice" in who and CANARY not in who
    assert list(hub_tab.dataset_splits(session)) == ["raw"]
    out = hub_tab.push_dataset(session, "clinic-dialogues", True, ["raw", "verified"], False, "other", None)
    assert "alice/clinic-dialogues" in out and "private" in out and CANARY not in out
    repo = alice.repo("alice/clinic-dialogues", "dataset")
    assert repo.private is True and "README.md" in repo.files
    assert any(path.startswith("data/raw-") for path in repo.files)
    assert not any(path.startswith("knowledge/") for path in repo.files)
    assert all(CANARY.encode() not in data for data in repo.files.values())


def test_oauth_token_from_a_space_login_is_used(alice, session):
    token = gr.OAuthToken(token=CANARY, scope="write-repos", expires_at=0)
    out = hub_tab.push_dataset(session, "alice/from-oauth", False, ["raw"], False, "cc-by-4.0", token)
    assert "alice/from-oauth" in out and "public" in out
    assert alice.repo("alice/from-oauth", "dataset").private is False


def test_gradio_injects_the_oauth_token_into_the_guarded_handlers():
    from gradio.utils import get_type_hints, is_special_typed_parameter

    for handler in (hub_tab.push_dataset, hub_tab.push_adapter):
        hints = get_type_hints(guard(handler))
        assert is_special_typed_parameter("oauth_token", hints), handler.__name__


def test_push_without_data_or_login_gives_clear_errors(alice, tmp_path):
    empty = Session.new(tmp_path / "other")
    with pytest.raises(gr.Error, match="Nothing to push"):
        hub_tab.push_dataset(empty, "x", True, ["raw"], False, "other", None)
    with pytest.raises(gr.Error, match="finished training run"):
        hub_tab.push_adapter(empty, "", "x", True, "", "other", None)


def test_training_job_submission_uses_the_session_login(tmp_path, monkeypatch, fake_jobs):
    from mimir.ui import train_tab

    fake_jobs.tokens[CANARY] = "alice"
    monkeypatch.setenv("HF_ENDPOINT", fake_jobs.url)
    session = Session.new(tmp_path)
    session.set_secret("hub", CANARY)
    out = train_tab.submit_to_jobs(session, "hf://datasets/alice/clinic/verified_export.jsonl", "alice/clinic-lora",
                                   "t4-small", "git+https://example.org/mimir.git", "90m", "qlora", "embedded", 50, None)
    assert "submitted" in out and "alice" in out and CANARY not in out
    spec = [r for r in fake_jobs.requests if r.method == "POST"][0].body
    assert spec["flavor"] == "t4-small" and spec["secrets"] == {"HF_TOKEN": CANARY}
    assert "RUNNING" in train_tab.job_state(session, None)
    with pytest.raises(Exception, match="local; a job can only read the Hub"):
        train_tab.submit_to_jobs(session, str(tmp_path / "d.jsonl"), "alice/x", "t4-small", "git+https://e.org/m.git",
                                 "1h", "lora", "embedded", 5, None)


def test_hub_failures_read_in_words_and_the_status_shows_only_the_current_outcome(alice, session, monkeypatch):
    """A bad token says "Token rejected" (not a raw HTTP error), a dead Hub says "No connection to the
    Hub" (not "ConnectError: [Errno ...]"), and a good token afterwards replaces the error line."""
    field, line = hub_tab.set_token(session, "hf_NotTheRightToken000000000000000")
    assert field == "" and "Token rejected" in line and "hf_NotTheRight" not in line
    assert "Logged in" in hub_tab.set_token(session, CANARY)[1]
    bob = "hf_BobsTokenNeverSeenBefore0123456789"
    alice.add_user("bob", bob)
    import huggingface_hub.constants as hf_constants

    dead = "http://127.0.0.1:9"  # nothing listens there: the Hub is unreachable
    monkeypatch.setenv("HF_ENDPOINT", dead)
    monkeypatch.setattr(hf_constants, "ENDPOINT", dead)
    field, line = hub_tab.set_token(session, bob)
    assert "No connection to the Hub" in line and "Errno" not in line and "ConnectError" not in line
    assert bob not in line and "Logged in" not in line


def test_an_empty_verified_split_is_named_not_nothing_to_push(alice, session):
    """Raw dialogues exist but verification kept none: the message says which split is empty and what to do."""
    verified = session.path("generate", "mimir_dialogues.verified.jsonl")
    verified.write_text("")
    with pytest.raises(gr.Error, match="verified split is empty"):
        hub_tab.push_dataset(session, "alice/data", True, ["verified"], False, "alice", None)
