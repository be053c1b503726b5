"""Past one process: data-parallel training with ``accelerate launch`` over 2 CPU processes (gloo).

The README's command is run as written (``accelerate launch --multi_gpu --num_processes 2 -m
mimir.train.worker``) on a 2-layer random Llama, so the test measures process-group plumbing,
not matrix multiplies (~40 s on 2 busy cores, most of it two interpreters importing torch).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.test_train_data import write_dataset

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> str:
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from mimir.models.embedded import resolve_model

    path = tmp_path_factory.mktemp("tiny-base")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(None))
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=16, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def _accelerate() -> list[str]:
    exe = shutil.which("accelerate") or str(Path(sys.executable).with_name("accelerate"))
    if not Path(exe).exists():
        pytest.fail("the `accelerate` command is missing; it comes with the accelerate package in requirements.txt")
    return [exe]


def test_accelerate_launch_trains_over_two_cpu_processes_with_gloo(tmp_path, tiny_base):
    data = write_dataset(tmp_path / "dialogues.jsonl", 8)
    out = tmp_path / "run"
    config = dict(dataset=str(data), output_dir=str(out), base_model=tiny_base, epochs=1, batch_size=2, max_length=128,
                  learning_rate=5e-3, warmup_ratio=0.0, device="cpu", save_steps=50)
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
           "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    command = [*_accelerate(), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
               "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0",
               "-m", "mimir.train.worker", "--config", str(tmp_path / "train.yaml")]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    log = done.stdout[-4000:] + done.stderr[-4000:]
    assert done.returncode == 0, log

    # Both ranks joined one gloo group ...
    for rank in (0, 1):
        assert f"rank {rank} of 2 (gloo backend): finished" in done.stderr, log
    # ... rank 0 alone printed the result and wrote the run files ...
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{\"")]
    assert len(results) == 1, log
    result = results[0]
    assert (result["world_size"], result["backend"], result["rank"]) == (2, "gloo", 0)
    # ... and the data was split between them: 8 examples, 2 per rank per step -> 2 steps (4 in one process).
    assert result["steps"] == 2 and result["train_examples"] == 8
    events = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [e.get("event") for e in events if "event" in e] == ["start", "end"]  # one writer, not two
    assert [e["step"] for e in events if "loss" in e] == [1, 2]
    assert json.loads((out / "status.json").read_text())["state"] == "finished"

    # The adapter is a normal peft adapter whose LoRA weights moved away from their zero init.
    from safetensors.torch import load_file

    weights = load_file(str(out / "adapter" / "adapter_model.safetensors"))
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    assert lora_b and all(float(t.abs().sum()) > 0 for t in lora_b)
    assert (out / "adapter" / "README.md").is_file()


def test_worker_reports_a_bad_config_in_words(tmp_path, capsys):
    from mimir.train.worker import main

    (tmp_path / "train.yaml").write_text(yaml.safe_dump({"dataset": str(tmp_path / "missing.jsonl"), "rank": 0}))
    assert main(["--config", str(tmp_path / "train.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and ("rank" in err or "missing.jsonl" in err)
