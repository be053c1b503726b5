"""``python -m mimir push ...`` against the loopback Hub (in-process, through mimir.cli.main)."""

from __future__ import annotations

import json

import pytest
import yaml

from mimir.cli import main
from tests.fakes.hub_server import fake_hub  # noqa: F401 - fixture

CANARY = "hf_CanaryToken0123456789abcdefXYZ"


@pytest.fixture
def alice(fake_hub, monkeypatch):
    fake_hub.add_user("alice", CANARY)
    monkeypatch.setenv("HF_TOKEN", CANARY)
    return fake_hub


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_push_dataset_cli_with_run_config(alice, tmp_path, capsys):
    raw = _jsonl(tmp_path / "raw.jsonl", [{"id": "a", "messages": [{"role": "user", "content": "Where is ward B located?"},
                                                                    {"role": "assistant", "content": "On the second floor."}]}])
    run_yaml = tmp_path / "run.yaml"
    run_yaml.write_text(yaml.safe_dump({
        "generate": {"model": "local", "framework": "cot"},
        "push_dataset": {"repo_id": "from-config", "license": "cc-by-4.0", "private": True},
        "search": {"tavily_api_key": "tvly-abcdefghijkl"},
    }))
    code = main(["push", "dataset", "--config", str(run_yaml), "--raw", raw, "--split", f"extra={raw}", "--source", "handbook.md"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["repo_id"] == "alice/from-config" and out["private"] is True
    repo = alice.repo("alice/from-config", "dataset")
    card = repo.files["README.md"].decode()
    assert "license: cc-by-4.0" in card and "handbook.md" in card and "framework: cot" in card and "tvly-" not in card
    assert {"data/raw-00000-of-00001.parquet", "data/extra-00000-of-00001.parquet"} <= set(repo.files)
    # flags override the config
    assert main(["push", "dataset", "--config", str(run_yaml), "--repo", "alice/other", "--public", "--raw", raw]) == 0
    assert alice.repo("alice/other", "dataset").private is False


def test_push_adapter_cli(alice, tmp_path, capsys):
    import torch
    from safetensors.torch import save_file

    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 2, "base_model_name_or_path": "org/base"}))
    save_file({"base_model.model.lora_A.weight": torch.zeros(2, 4)}, str(folder / "adapter_model.safetensors"))
    (tmp_path / "eval.json").write_text(json.dumps({"win": 3, "tie": 1, "loss": 0}))
    code = main(["push", "adapter", "--repo", "tiny-lora", "--adapter-dir", str(folder), "--eval-results", str(tmp_path / "eval.json")])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["repo_id"] == "alice/tiny-lora"
    files = alice.repo("alice/tiny-lora").files
    assert "base_model: org/base" in files["README.md"].decode() and json.loads(files["eval_results.json"]) == {"win": 3, "tie": 1, "loss": 0}


def test_whoami_and_errors_cli(alice, tmp_path, capsys, monkeypatch):
    assert main(["push", "whoami"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "alice"
    raw = _jsonl(tmp_path / "raw.jsonl", [{"messages": [{"role": "user", "content": "hi there, is the clinic open?"}]}])
    monkeypatch.setenv("HF_TOKEN", "hf_WrongToken0123456789abcdefXYZ")
    assert main(["push", "dataset", "--repo", "alice/x", "--raw", raw]) == 2
    err = capsys.readouterr().err
    assert "401" in err and "WrongToken" not in err
    assert main(["push", "dataset", "--repo", "alice/x", "--split", "nopath"]) == 2
    assert "NAME=PATH" in capsys.readouterr().err


def test_push_in_a_subprocess_uses_hf_endpoint_from_the_environment(alice, tmp_path):
    """The production path: nothing patched, HF_ENDPOINT / HF_TOKEN set before the process starts."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    raw = _jsonl(tmp_path / "raw.jsonl", [{"messages": [{"role": "user", "content": "Who covers the night shift on Fridays?"},
                                                         {"role": "assistant", "content": "Dr. Okafor, per the rota."}]}])
    env = {**os.environ, "HF_ENDPOINT": alice.url, "HF_TOKEN": CANARY, "HF_HOME": str(tmp_path / "hf-home")}
    done = subprocess.run([sys.executable, "-m", "mimir", "-v", "push", "dataset", "--repo", "sub-ds", "--raw", raw],
                          env=env, cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["repo_id"] == "alice/sub-ds"
    assert "README.md" in alice.repo("alice/sub-ds", "dataset").files
    assert CANARY not in done.stdout + done.stderr
