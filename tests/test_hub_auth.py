"""Tokens per call, clear errors for 401 / 403 / 500 mid-commit, safe retries, no token anywhere."""

from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path

import pytest

from mimir.errors import HubError
from mimir.hub import DatasetPushConfig, HubAuthError, push_dataset, resolve_token, whoami
from tests.fakes.hub_server import fake_hub  # noqa: F401 - fixture

CANARY = "hf_CanaryToken0123456789abcdefXYZ"
OTHER = "hf_OtherToken0123456789abcdefXYZ"


class OAuthToken:  # the shape of gr.OAuthToken (gradio is not imported by the core)
    def __init__(self, token: str) -> None:
        self.token = token


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "raw.jsonl"
    rows = [{"id": f"r{i}", "messages": [{"role": "user", "content": f"question {i} about the clinic"},
                                         {"role": "assistant", "content": f"answer {i} from the handbook"}]} for i in range(3)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {"raw": path}


def _assert_clean(exc: BaseException, caplog) -> None:
    text = "".join(traceback.format_exception(exc))
    assert CANARY not in text and CANARY not in repr(exc) and CANARY not in caplog.text
    assert exc.__cause__ is None and (exc.__suppress_context__ or exc.__context__ is None)


def test_resolve_token_sources(monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(HubAuthError, match="HF_TOKEN"):
        resolve_token(None)
    assert resolve_token(None, required=False) is None
    assert resolve_token(OAuthToken(CANARY)) == CANARY
    monkeypatch.setenv("HF_TOKEN", OTHER)
    assert resolve_token(None) == OTHER
    assert resolve_token(" " + CANARY + " ") == CANARY  # explicit wins over the environment
    assert resolve_token(OAuthToken("")) == OTHER
    with pytest.raises(HubAuthError, match="string"):
        resolve_token(OAuthToken(123))


def test_whoami_and_env_token(fake_hub, monkeypatch):
    fake_hub.add_user("alice", CANARY, orgs=("clinic-org",))
    assert whoami(OAuthToken(CANARY)) == {"name": "alice", "orgs": ["clinic-org"], "can_write": True}
    monkeypatch.setenv("HF_TOKEN", CANARY)
    assert whoami()["name"] == "alice"


def test_rejected_token_is_a_clear_401(fake_hub, data, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(HubAuthError, match="401") as info:
        push_dataset(data, config=DatasetPushConfig(repo_id="alice/ds"), token=CANARY)
    assert isinstance(info.value, PermissionError) and "settings/tokens" in str(info.value)
    _assert_clean(info.value, caplog)
    assert fake_hub.repos == {}


def test_forbidden_namespace_and_read_only_token_are_403(fake_hub, data, caplog):
    caplog.set_level(logging.DEBUG)
    fake_hub.add_user("alice", CANARY)
    fake_hub.add_user("bob", OTHER, write=False)
    with pytest.raises(HubAuthError, match="403") as info:
        push_dataset(data, config=DatasetPushConfig(repo_id="someone-else/ds"), token=CANARY)
    _assert_clean(info.value, caplog)
    with pytest.raises(HubAuthError, match="403"):
        push_dataset(data, config=DatasetPushConfig(repo_id="bob/ds"), token=OTHER)
    assert fake_hub.repos == {}


def test_500_mid_commit_leaves_no_card_and_retry_completes(fake_hub, data, caplog):
    caplog.set_level(logging.DEBUG)
    fake_hub.add_user("alice", CANARY)
    fake_hub.fail("commit", 500, skip=1)  # the data commit lands, the card commit fails
    with pytest.raises(HubError, match="500") as info:
        push_dataset(data, config=DatasetPushConfig(repo_id="alice/ds"), token=CANARY)
    assert "safe" in str(info.value)
    _assert_clean(info.value, caplog)
    repo = fake_hub.repo("alice/ds", "dataset")
    assert "data/raw-00000-of-00001.parquet" in repo.files and "README.md" not in repo.files
    commits_before = len(repo.commits)
    push_dataset(data, config=DatasetPushConfig(repo_id="alice/ds"), token=CANARY)
    assert "README.md" in repo.files
    assert len(repo.commits) == commits_before + 1  # unchanged data was skipped, only the card was committed


def test_500_on_first_commit_then_retry(fake_hub, data, caplog):
    fake_hub.add_user("alice", CANARY)
    fake_hub.fail("commit", 500)
    with pytest.raises(HubError, match="500"):
        push_dataset(data, config=DatasetPushConfig(repo_id="alice/ds"), token=CANARY)
    assert set(fake_hub.repo("alice/ds", "dataset").files) == {".gitattributes"}
    result = push_dataset(data, config=DatasetPushConfig(repo_id="alice/ds"), token=CANARY)
    assert "README.md" in fake_hub.repo("alice/ds", "dataset").files and result.card_commit


def test_token_in_data_is_refused_and_never_stored(fake_hub, tmp_path, caplog):
    import huggingface_hub.constants as constants

    caplog.set_level(logging.DEBUG)
    fake_hub.add_user("alice", CANARY)
    leaky = tmp_path / "leaky.jsonl"
    leaky.write_text(json.dumps({"messages": [{"role": "user", "content": f"my token is {CANARY}"}]}) + "\n")
    with pytest.raises(HubError, match="contains your Hugging Face token") as info:
        push_dataset({"raw": leaky}, config=DatasetPushConfig(repo_id="alice/leak"), token=CANARY)
    _assert_clean(info.value, caplog)
    assert set(fake_hub.repo("alice/leak", "dataset").files) == {".gitattributes"}
    assert not Path(constants.HF_TOKEN_PATH).exists()  # no login() side effect
