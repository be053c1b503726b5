"""HF Jobs submission through the real huggingface_hub client, against a loopback fake."""

from __future__ import annotations

import logging

import pytest
import yaml

from mimir.errors import AuthError, ConfigError, HubError
from mimir.train.config import TrainConfig
from mimir.train.jobs import CONFIG_ENV, JobsConfig, cancel_job, job_status, submit_job
from tests.fakes.jobs_server import fake_jobs  # noqa: F401

TOKEN = "hf_" + "a1B2c3D4e5F6g7H8i9J0kLmNoPqR"
SOURCE = "git+https://example.org/mimir.git@v1"


def remote_config(**kw) -> TrainConfig:
    base = dict(dataset="hf://datasets/alice/clinic/dialogues.jsonl", output_dir="runs/local", push_to_hub="alice/clinic-lora",
                max_steps=100, method="qlora")
    base.update(kw)
    return TrainConfig(**base)


def test_submit_sends_the_job_spec_with_token_as_secret_and_never_logs_it(fake_jobs, caplog, capsys):
    fake_jobs.tokens[TOKEN] = "alice"
    caplog.set_level(logging.DEBUG)
    handle = submit_job(remote_config(), JobsConfig(mimir_source=SOURCE, flavor="t4-small", timeout="90m", endpoint=fake_jobs.url),
                        token=TOKEN)
    assert (handle.id, handle.status, handle.namespace) == ("job0001", "RUNNING", "alice")
    assert handle.url == f"{fake_jobs.url}/jobs/alice/job0001"
    submitted = [r for r in fake_jobs.requests if r.method == "POST"]
    assert [r.path for r in submitted] == ["/api/jobs/alice"]
    spec = submitted[0].body
    assert submitted[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert spec["flavor"] == "t4-small" and spec["timeoutSeconds"] == 5400
    assert spec["secrets"] == {"HF_TOKEN": TOKEN}
    assert spec["labels"]["app"] == "mimir"
    script = spec["command"][-1]
    assert spec["command"][:2] == ["bash", "-c"]
    assert f"uv pip install --system {SOURCE}" in script and "python -m mimir -v train --config" in script
    sent = yaml.safe_load(spec["environment"][CONFIG_ENV])
    assert sent["dataset"] == "hf://datasets/alice/clinic/dialogues.jsonl" and sent["push_to_hub"] == "alice/clinic-lora"
    assert sent["output_dir"] == "/tmp/mimir-run" and sent["method"] == "qlora"
    assert TOKEN not in spec["environment"][CONFIG_ENV] and TOKEN not in script
    captured = capsys.readouterr()
    assert TOKEN not in caplog.text + captured.out + captured.err

    assert job_status("job0001", "alice", JobsConfig(endpoint=fake_jobs.url), token=TOKEN) == ("RUNNING", None)
    cancel_job("job0001", "alice", JobsConfig(endpoint=fake_jobs.url), token=TOKEN)
    assert job_status("job0001", "alice", JobsConfig(endpoint=fake_jobs.url), token=TOKEN)[0] == "CANCELED"


def test_submit_rejects_what_a_remote_job_cannot_use(fake_jobs, tmp_path):
    jobs = JobsConfig(mimir_source=SOURCE, endpoint=fake_jobs.url)
    with pytest.raises(ConfigError, match="local; a job can only read the Hub"):
        submit_job(remote_config(dataset=str(tmp_path / "d.jsonl")), jobs, token=TOKEN)
    with pytest.raises(ConfigError, match="push_to_hub is empty"):
        submit_job(remote_config(push_to_hub=None), jobs, token=TOKEN)
    with pytest.raises(ConfigError, match="mimir_source"):
        submit_job(remote_config(), JobsConfig(endpoint=fake_jobs.url), token=TOKEN)
    assert fake_jobs.requests == []  # validated before any traffic


def test_hub_errors_are_clear_and_token_free(fake_jobs, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    jobs = JobsConfig(mimir_source=SOURCE, endpoint=fake_jobs.url)
    with pytest.raises(AuthError) as info:  # unknown token -> 401 from whoami
        submit_job(remote_config(), jobs, token=TOKEN)
    assert "HTTP 401" in str(info.value) and TOKEN not in str(info.value)
    fake_jobs.tokens[TOKEN] = "alice"
    with pytest.raises(AuthError, match="HTTP 403"):
        submit_job(remote_config(), JobsConfig(mimir_source=SOURCE, endpoint=fake_jobs.url, namespace="bob"), token=TOKEN)
    fake_jobs.fail_submit = 500
    with pytest.raises(HubError, match="HTTP 500") as info:
        submit_job(remote_config(), jobs, token=TOKEN)
    assert TOKEN not in str(info.value)


def test_cli_job_flag_submits(fake_jobs, tmp_path, monkeypatch, capsys):
    import json

    from mimir.cli import main

    fake_jobs.tokens[TOKEN] = "alice"
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", fake_jobs.url)  # what HF_ENDPOINT sets at import
    path = tmp_path / "train.yaml"
    yaml.safe_dump(vars(remote_config()) | {"target_modules": ["all-linear"]}, path.open("w"))
    assert main(["train", "--config", str(path), "--job", "--flavor", "a10g-small", "--mimir-source", SOURCE]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["job_id"] == "job0001" and printed["status"] == "RUNNING"
    assert [r.body["flavor"] for r in fake_jobs.requests if r.method == "POST"] == ["a10g-small"]


from tests.fakes.hub_server import fake_hub  # noqa: E402,F401


def test_job_side_data_download_and_adapter_push_use_the_hub(fake_hub, tmp_path, monkeypatch):
    """Inside a job: the dataset comes from hf://datasets/..., the adapter goes to push_to_hub (token from HF_TOKEN)."""
    from huggingface_hub import HfApi

    from mimir.train.data import load_conversations
    from mimir.train.trainer import _push
    from tests.test_train_data import write_dataset

    fake_hub.add_user("alice", TOKEN)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    api = HfApi(token=TOKEN)
    api.create_repo("alice/clinic", repo_type="dataset")
    api.upload_file(path_or_fileobj=str(write_dataset(tmp_path / "d.jsonl", 3)), path_in_repo="data/dialogues.jsonl",
                    repo_id="alice/clinic", repo_type="dataset")
    assert len(load_conversations("hf://datasets/alice/clinic/data/dialogues.jsonl")) == 3

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    for name, text in (("adapter_config.json", "{}"), ("README.md", "---\nlibrary_name: peft\n---\n")):
        (adapter / name).write_text(text)
    _push(adapter, "alice/clinic-lora")
    repo = fake_hub.repo("alice/clinic-lora")
    assert repo.private and set(repo.files) >= {"adapter_config.json", "README.md"}
