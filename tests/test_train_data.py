"""Training data, template and mask: fast tests (tokenizer only, no model weights)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mimir.config import config_from_dict
from mimir.errors import ConfigError, InputFileError, TrainingError
from mimir.train.config import TrainConfig
from mimir.train.data import IGNORE, build_dataset, encode, load_conversations, normalize_messages, split_to_fit
from mimir.train.template import build_training_template, default_system_prompt

FACTS = [
    ("opening hours", "The clinic opens at 7:30 and closes at 18:00."),
    ("parking", "Parking is free in lot B behind the clinic."),
    ("flu shots", "Flu shots are given on Tuesdays without an appointment."),
    ("lab results", "Lab results arrive by secure message within 3 days."),
]


def dialogue(topic: str, fact: str, i: int = 0) -> dict:
    """A multi-role record as the Generation stage writes it: named user, tool call, observation."""
    return {
        "id": f"d{i}",
        "messages": [
            {"role": "system", "content": "You are the nurse of the Lindenhof clinic."},
            {"role": "user", "name": "patient", "content": f"What about {topic}?"},
            {"role": "assistant", "content": "Let me check the handbook.", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "retrieve", "arguments": json.dumps({"query": topic})}}]},
            {"role": "tool", "tool_call_id": "c1", "content": f"Handbook: {fact}"},
            {"role": "assistant", "content": fact},
            {"role": "user", "name": "doctor", "content": "Thank you."},
        ],
        "scenario_id": "s1",
    }


def write_dataset(path: Path, n: int = 8) -> Path:
    records = [dialogue(*FACTS[i % len(FACTS)], i) for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from mimir.models.embedded import resolve_model

    return AutoTokenizer.from_pretrained(resolve_model(None))


@pytest.fixture(scope="module")
def template(tokenizer) -> str:
    return build_training_template(tokenizer)


def _runs(labels: list[int]) -> list[list[int]]:
    """Contiguous stretches of trained tokens."""
    runs, current = [], []
    for label in labels:
        if label != IGNORE:
            current.append(label)
        elif current:
            runs.append(current)
            current = []
    return runs + ([current] if current else [])


def test_mask_covers_exactly_the_assistant_turns_token_by_token(tokenizer, template):
    messages = normalize_messages(dialogue(*FACTS[0])["messages"], "test")
    enc = encode(messages, tokenizer, template)
    assert len(enc.input_ids) == len(enc.labels)
    # Every label is either the token itself or ignored.
    assert all(l in (t, IGNORE) for t, l in zip(enc.input_ids, enc.labels))
    runs = _runs(enc.labels)
    assert [tokenizer.decode(r) for r in runs] == [
        'Let me check the handbook.\n<tool_call>{"name": "retrieve", "arguments": {"query": "opening hours"}}</tool_call><|im_end|>',
        "The clinic opens at 7:30 and closes at 18:00.<|im_end|>",
    ]
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    for r in runs:
        assert r[-1] == end  # the model learns to stop
    untrained = tokenizer.decode([t for t, l in zip(enc.input_ids, enc.labels) if l == IGNORE])
    for text in ("nurse of the Lindenhof", "patient: What about", "Observation: Handbook:", "doctor: Thank you",
                 "<|im_start|>assistant\n"):
        assert text in untrained
    # Each run starts right after "<|im_start|>assistant\n" (the header itself is not trained).
    starts = [i for i in range(1, len(enc.labels)) if enc.labels[i] != IGNORE and enc.labels[i - 1] == IGNORE]
    for i in starts:
        assert tokenizer.decode(enc.input_ids[:i]).endswith("<|im_start|>assistant\n")


def long_dialogue() -> list[dict]:
    """Three exchanges, the first with a tool call and its observation."""
    messages = dialogue(*FACTS[0])["messages"][:5]
    for topic, fact in FACTS[1:3]:
        messages += [{"role": "user", "name": "patient", "content": f"And {topic}?"}, {"role": "assistant", "content": fact}]
    return normalize_messages(messages, "test")


def test_long_dialogue_is_split_at_exchanges_so_no_answer_is_cut(tokenizer, template):
    messages = long_dialogue()
    whole = encode(messages, tokenizer, template)
    limit = len(whole.input_ids) - 10  # truncation would cut the last answer
    pieces = split_to_fit(messages, tokenizer, template, limit)
    assert len(pieces) > 1 and all(len(p.input_ids) <= limit for p in pieces)
    trained = [tokenizer.decode(r) for p in pieces for r in _runs(p.labels)]
    assert trained == [tokenizer.decode(r) for r in _runs(whole.labels)]  # every answer once, in order
    for piece in pieces:  # each window repeats the system prompt and opens with a user turn
        text = tokenizer.decode(piece.input_ids)
        assert text.startswith("<|im_start|>system\nYou are the nurse of the Lindenhof clinic.<|im_end|>\n<|im_start|>user\n")
    # The tool call stays with its observation and answer in one window.
    first = tokenizer.decode(pieces[0].input_ids)
    assert "<tool_call>" in first and "Handbook: The clinic opens" in first and "closes at 18:00.<|im_end|>" in first
    # A dialogue that fits is left whole; a limit below one exchange keeps that exchange whole.
    assert split_to_fit(messages, tokenizer, template, len(whole.input_ids)) == [whole]
    tiny = split_to_fit(messages, tokenizer, template, 8)
    assert [len(_runs(p.labels)) for p in tiny] == [2, 1, 1]
    # build_dataset splits only when given the limit.
    assert len(build_dataset([messages], tokenizer, template, limit)) == len(pieces)
    assert len(build_dataset([messages], tokenizer, template)) == 1


def test_training_template_renders_prompts_exactly_like_inference(tokenizer, template):
    """What the tuned model sees at inference (LocalModel.prompt_text) is what it was trained on."""
    from mimir.models.local import _plain

    messages = normalize_messages(dialogue(*FACTS[1])["messages"], "test")
    for cut in (2, 6):  # before the first assistant turn; after a tool observation
        prefix = [m for m in messages[:cut] if not m.get("tool_calls")]
        ours = tokenizer.apply_chat_template(prefix, chat_template=template, tokenize=False, add_generation_prompt=True)
        theirs = tokenizer.apply_chat_template([_plain(m) for m in prefix], tokenize=False, add_generation_prompt=True)
        assert ours == theirs
    # Without a system message the base model's default system prompt is inserted, as at inference.
    plain = [{"role": "user", "content": "Hi"}]
    assert tokenizer.apply_chat_template(plain, chat_template=template, tokenize=False) == tokenizer.apply_chat_template(
        plain, tokenize=False
    )
    assert default_system_prompt(tokenizer).startswith("You are a helpful AI assistant")


def test_rendered_tool_call_is_parsed_back_by_the_inference_parser(tokenizer, template):
    from mimir.models.toolcalls import parse_tool_calls

    messages = normalize_messages(dialogue(*FACTS[2])["messages"], "test")
    runs = _runs(encode(messages, tokenizer, template).labels)
    calls = parse_tool_calls(tokenizer.decode(runs[0]))
    assert [(c.name, c.arguments) for c in calls] == [("retrieve", {"query": "flu shots"})]


def test_load_conversations_validates_and_skips(tmp_path):
    good = write_dataset(tmp_path / "a.jsonl", 3)
    extra = tmp_path / "b.jsonl"
    extra.write_text(json.dumps({"id": "u", "messages": [{"role": "user", "content": "only a question"}]}) + "\n")
    conversations = load_conversations(f"{good},{extra}")
    assert len(conversations) == 3  # the record without an assistant turn is skipped
    assert conversations[0][1] == {"role": "user", "content": "What about opening hours?", "name": "patient"}
    assert conversations[0][2]["tool_calls"][0]["function"]["arguments"] == '{"query": "opening hours"}'
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "messages": [{"role": "robot", "content": "?"}]}) + "\n")
    with pytest.raises(InputFileError, match=r"bad.jsonl: record 1 \(id x\).*role"):
        load_conversations(str(bad))
    with pytest.raises(InputFileError, match="does not exist"):
        load_conversations(str(tmp_path / "missing.jsonl"))
    with pytest.raises(InputFileError, match="no record has an assistant turn"):
        load_conversations(str(extra))
    args = tmp_path / "args.jsonl"
    args.write_text(json.dumps({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{oops"}}]}]}) + "\n")
    with pytest.raises(InputFileError, match="not valid JSON"):
        load_conversations(str(args))


def test_config_defaults_validation_and_yaml(tmp_path):
    config = TrainConfig(dataset="x.jsonl")
    assert config.validate() is config
    assert (config.method, config.rank, config.target_modules) == ("lora", 16, ["all-linear"])
    with pytest.raises(ConfigError, match="dataset"):
        TrainConfig().validate()
    with pytest.raises(ConfigError, match="batch_size"):
        TrainConfig(dataset="x", batch_size=0).validate()
    with pytest.raises(ConfigError, match="method"):
        config_from_dict(TrainConfig, {"method": "full"})
    with pytest.raises(ConfigError, match="rnak"):
        config_from_dict(TrainConfig, {"rnak": 4})


def test_oom_suggests_the_next_smaller_batch(tmp_path, monkeypatch):
    import torch

    from mimir.train import trainer as trainer_mod
    from mimir.train.files import read_status

    assert trainer_mod.oom_advice(TrainConfig(batch_size=8, grad_accumulation=2)) == (
        "try batch_size 4 with grad_accumulation 4 (same effective batch)")
    assert "max_length 256" in trainer_mod.oom_advice(TrainConfig(batch_size=1, max_length=512))

    def boom(*_a, **_k):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(trainer_mod, "_run", boom)
    with pytest.raises(TrainingError, match="out of memory at batch_size 4.*try batch_size 2 with grad_accumulation 2"):
        trainer_mod.train(TrainConfig(dataset="x.jsonl", output_dir=str(tmp_path)))
    status = read_status(tmp_path)
    assert status["state"] == "failed" and "batch_size 2" in status["message"]


def test_nan_guard_stops_with_a_clear_message():
    from transformers import TrainerControl, TrainerState

    from mimir.train.callbacks import NanGuard

    guard, state = NanGuard(2e-4), TrainerState()
    state.global_step = 7
    guard.on_log(None, state, TrainerControl(), logs={"loss": 1.5, "grad_norm": 0.3})  # fine
    with pytest.raises(TrainingError, match=r"loss became nan at step 7.*learning_rate.*2e-04|loss became nan at step 7"):
        guard.on_log(None, state, TrainerControl(), logs={"loss": math.nan})
    with pytest.raises(TrainingError, match="grad_norm became inf"):
        guard.on_log(None, state, TrainerControl(), logs={"loss": 1.0, "grad_norm": math.inf})


def test_metrics_after_a_resume_keep_the_latest_record_per_step(tmp_path):
    from mimir.train.runner import read_metrics

    lines = [{"event": "start", "step": 0}, {"step": 1, "loss": 3.0}, {"step": 2, "loss": 2.5}, {"step": 3, "loss": 2.4},
             {"event": "start", "step": 2}, {"step": 3, "loss": 2.2}, {"step": 4, "loss": 2.0}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines) + '{"step": 5, "lo')
    assert [(r["step"], r["loss"]) for r in read_metrics(tmp_path)] == [(1, 3.0), (2, 2.5), (3, 2.2), (4, 2.0)]
    assert len(read_metrics(tmp_path, events=True)) == 7


def test_card_names_base_model_dataset_hyperparameters_and_eval(tmp_path):
    import yaml

    from mimir.train.card import add_eval_results, render_card, write_card

    config = TrainConfig(dataset="d.jsonl", output_dir="runs/clinic", method="qlora", rank=8, dataset_name="me/clinic-dialogues")
    text = render_card(config, base_model="HuggingFaceTB/SmolLM2-135M-Instruct", final_loss=1.2345, steps=30,
                       train_examples=12, eval_results={"eval_loss": 1.5})
    meta = yaml.safe_load(text.split("---")[1])
    assert meta["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and meta["library_name"] == "peft"
    assert meta["datasets"] == ["me/clinic-dialogues"] and "qlora" in meta["tags"]
    assert "| rank | 8 |" in text and "Final training loss: 1.2345" in text and "eval_loss: 1.5000" in text
    write_card(tmp_path, text)
    add_eval_results(tmp_path, {"win_or_tie_vs_base": 0.8})
    add_eval_results(tmp_path, {"win_or_tie_vs_base": 0.75, "judge": "scripted"})
    card = (tmp_path / "README.md").read_text()
    assert card.count("## Evaluation") == 1 and "win_or_tie_vs_base: 0.75" in card and "judge: scripted" in card
    assert json.loads((tmp_path / "eval_results.json").read_text()) == {"win_or_tie_vs_base": 0.75, "judge": "scripted"}


def test_cli_resolves_config_with_overrides(tmp_path, capsys):
    import yaml

    from mimir.cli import main

    path = tmp_path / "train.yaml"
    path.write_text("dataset: a.jsonl\nrank: 4\nwarmup_ratio: 1e-1\n")  # YAML 1.1 reads 1e-1 as text
    assert main(["train", "--config", str(path), "--set", "packing=true", "--set", "learning_rate=1e-3", "--print-config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert (printed["rank"], printed["packing"], printed["learning_rate"], printed["dataset"]) == (4, True, 1e-3, "a.jsonl")
    assert printed["warmup_ratio"] == 0.1
    assert main(["train", "--config", str(path), "--set", "rank=many", "--print-config"]) == 2


def test_importing_train_stays_cheap():
    import subprocess
    import sys

    code = ("import sys, mimir.train, mimir.train.runner, mimir.train.trainer, mimir.train.cli, mimir.train.jobs; "
            "print([m for m in ('torch', 'transformers', 'trl', 'peft', 'datasets') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_train_accepts_dialogue_records_as_the_export_writes_them(tmp_path):
    from mimir.types import Dialogue, Scenario, Turn

    scenario = Scenario(id="s", topic="t", roles=["patient", "doctor"], target_role="doctor")
    dialogue = Dialogue(id="d1", scenario=scenario, turns=[Turn(speaker="patient", role="user", content="When do you open?"),
                                                            Turn(speaker="doctor", role="assistant", content="At 07:30.")])
    path = tmp_path / "dialogues.jsonl"
    path.write_text(json.dumps(dialogue.to_dict()) + "\n")
    (conversation,) = load_conversations(str(path))
    assert [m["role"] for m in conversation] == ["system", "user", "assistant"]
    assert conversation[-1]["content"] == "At 07:30."


def test_auto_precision_is_bf16_for_lora_only_on_cpus_with_native_bf16(monkeypatch):
    import torch

    from mimir.train import modeling

    native = {"_is_avx512_bf16_supported": False, "_is_amx_tile_supported": False}
    for name in native:
        monkeypatch.setattr(torch.cpu, name, lambda name=name: native[name], raising=False)
    cpu = dict(device="cpu", dataset="d.jsonl")
    assert not modeling.cpu_has_native_bf16()  # plain AVX512 only emulates bf16: slower than fp32
    assert modeling.compute_dtype(TrainConfig(**cpu)) == torch.float32
    native["_is_amx_tile_supported"] = True
    assert modeling.compute_dtype(TrainConfig(**cpu)) == torch.bfloat16
    assert modeling.compute_dtype(TrainConfig(**cpu, method="qlora")) == torch.float32  # bitsandbytes on CPU: as measured
    assert modeling.compute_dtype(TrainConfig(**cpu, precision="fp32")) == torch.float32
