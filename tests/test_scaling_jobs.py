"""Past one machine: a Hugging Face Jobs submission, then the submitted job itself, run here.

tests/test_train_jobs.py checks what the real client sends to the (loopback) Jobs API and that
the job side's Hub reads and writes work one by one. This test closes the loop: it submits a
training run, takes the job spec that arrived at the fake Jobs API (image command, environment,
secrets), and plays the job runner — runs that very command with that environment, `uv` replaced
by a recorder (MIMIR is importable already) and the container's /tmp paths mapped into tmp_path.
The job must download its dataset from the (loopback) Hub, train, and push the adapter there.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from mimir.train.config import TrainConfig
from mimir.train.jobs import CONFIG_ENV, JOB_CONFIG_PATH, JOB_OUTPUT_DIR, JobsConfig, submit_job
from tests.fakes.hub_server import fake_hub  # noqa: F401
from tests.fakes.jobs_server import fake_jobs  # noqa: F401
from tests.test_scaling_distributed import tiny_base  # noqa: F401
from tests.test_train_data import write_dataset

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
TOKEN = "hf_" + "JobRunnerLoopbackToken0123456789ab"
SOURCE = "git+https://example.org/mimir.git@v1"


def test_submitted_job_runs_as_sent_and_pushes_the_adapter(fake_hub, fake_jobs, tmp_path, tiny_base):
    from huggingface_hub import HfApi

    # The user's side: data on the Hub, then the submission.
    fake_hub.add_user("alice", TOKEN)
    fake_jobs.tokens[TOKEN] = "alice"
    api = HfApi(token=TOKEN)
    api.create_repo("alice/clinic", repo_type="dataset", private=True)
    api.upload_file(path_or_fileobj=str(write_dataset(tmp_path / "d.jsonl", 4)), path_in_repo="data/dialogues.jsonl",
                    repo_id="alice/clinic", repo_type="dataset")
    config = TrainConfig(dataset="hf://datasets/alice/clinic/data/dialogues.jsonl", push_to_hub="alice/clinic-lora",
                         base_model=tiny_base, max_steps=2, batch_size=2, max_length=128, learning_rate=5e-3,
                         warmup_ratio=0.0, save_steps=50)
    handle = submit_job(config, JobsConfig(mimir_source=SOURCE, flavor="cpu-basic", endpoint=fake_jobs.url), token=TOKEN)
    spec = next(r.body for r in fake_jobs.requests if r.method == "POST")
    assert handle.status == "RUNNING" and spec["flavor"] == "cpu-basic"

    # The job runner's side: the container's /tmp is this test's folder, `uv` records its arguments.
    container_tmp = tmp_path / "container-tmp"
    container_tmp.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    uv = bin_dir / "uv"
    uv.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'uv-args.txt'}\n")
    uv.chmod(uv.stat().st_mode | stat.S_IXUSR)

    def in_container(text: str) -> str:
        return text.replace(JOB_CONFIG_PATH, str(container_tmp / Path(JOB_CONFIG_PATH).name)).replace(
            JOB_OUTPUT_DIR, str(container_tmp / Path(JOB_OUTPUT_DIR).name))

    environment = {k: in_container(v) for k, v in spec["environment"].items()}
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "HF_ENDPOINT": fake_hub.url, "HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_DISABLE_XET": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1", "CUDA_VISIBLE_DEVICES": "", **environment, **spec["secrets"]}
    assert spec["command"][:2] == ["bash", "-c"]
    done = subprocess.run(["bash", "-c", in_container(spec["command"][2])], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    assert (tmp_path / "uv-args.txt").read_text().split() == ["pip", "install", "--system", SOURCE]
    written = (container_tmp / Path(JOB_CONFIG_PATH).name).read_text()
    assert "alice/clinic-lora" in written and TOKEN not in written  # the config came from the env, the token did not
    assert CONFIG_ENV in spec["environment"] and TOKEN not in done.stdout + done.stderr
    repo = fake_hub.repo("alice/clinic-lora")
    assert repo.private
    assert {"adapter_model.safetensors", "adapter_config.json", "README.md"} <= set(repo.files)
    assert b"library_name: peft" in repo.files["README.md"]
