"""Adapter push -> loopback Hub -> ``PeftModel.from_pretrained(base, repo_id)``: same weights, card, files."""

from __future__ import annotations

import json
import logging

import pytest
import yaml

from mimir.errors import HubError, InputFileError
from mimir.hub import AdapterPushConfig, download_adapter, load_adapter_from_hub, push_adapter
from tests.fakes.hub_server import fake_hub  # noqa: F401 - fixture

CANARY = "hf_CanaryToken0123456789abcdefXYZ"


def _lora(base, out_dir, seed=0):
    """A peft LoRA adapter with non-zero B matrices (so it really changes the model), saved to out_dir."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.02)
    model.save_pretrained(out_dir)
    return {k: v.detach().clone() for k, v in model.state_dict().items() if "lora_" in k}


def _lora_weights(model):
    return {k: v for k, v in model.state_dict().items() if "lora_" in k}


def _decorate(adapter_dir):
    """What the training stage writes beside the adapter, including things that must not be uploaded."""
    (adapter_dir / "mimir_train_config.yaml").write_text(yaml.safe_dump(
        {"method": "lora", "rank": 4, "learning_rate": 0.001, "max_steps": 20, "hf_token": CANARY,
         "output_dir": "/home/alice/runs/adapter"}))
    (adapter_dir / "metrics.jsonl").write_text("".join(json.dumps({"step": s, "loss": 2.0 - s / 10}) + "\n" for s in range(1, 4)))
    (adapter_dir / "README.md").write_text("# local training card\n")
    (adapter_dir / "training_args.bin").write_bytes(b"\x80pickle")
    (adapter_dir / "checkpoint-10").mkdir()
    (adapter_dir / "checkpoint-10" / "adapter_model.safetensors").write_bytes(b"old")


@pytest.mark.slow
def test_adapter_round_trip_on_embedded_model(fake_hub, tmp_path, caplog):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from mimir.models.embedded import EMBEDDED_HUB_ID, resolve_model

    caplog.set_level(logging.DEBUG)
    fake_hub.add_user("alice", CANARY)
    base_path = resolve_model(None)
    adapter_dir = tmp_path / "adapter"
    original = _lora(AutoModelForCausalLM.from_pretrained(base_path), adapter_dir)
    AutoTokenizer.from_pretrained(base_path).save_pretrained(adapter_dir)
    _decorate(adapter_dir)
    config = AdapterPushConfig(repo_id="clinic-expert-lora", dataset_repo="alice/clinic-dialogues", license="apache-2.0")
    result = push_adapter(adapter_dir, config=config, token=CANARY, eval_results={"win": 12, "tie": 3, "loss": 5, "win_or_tie": 0.75})

    repo = fake_hub.repo("alice/clinic-expert-lora", "model")
    assert result.repo_id == "alice/clinic-expert-lora" and repo.private
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "mimir_train_config.yaml", "metrics.jsonl", "eval_results.json", "README.md"} <= set(repo.files)
    assert not any(p.startswith("checkpoint") or p.endswith(".bin") for p in repo.files)
    assert "README.md" not in repo.commits[-2].files  # the card came last
    card = repo.files["README.md"].decode()
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["base_model"] == EMBEDDED_HUB_ID and meta["library_name"] == "peft"
    assert meta["datasets"] == ["alice/clinic-dialogues"] and meta["license"] == "apache-2.0"
    assert 'PeftModel.from_pretrained(base, "alice/clinic-expert-lora")' in card
    assert "| win | 12 |" in card and "| last loss | 1.7 |" in card
    assert "local training card" not in card
    assert json.loads(repo.files["adapter_config.json"])["base_model_name_or_path"] == EMBEDDED_HUB_ID
    train_config = yaml.safe_load(repo.files["mimir_train_config.yaml"])
    assert train_config["rank"] == 4 and CANARY not in repo.files["mimir_train_config.yaml"].decode()
    assert all(CANARY.encode() not in data for data in repo.files.values()) and CANARY not in caplog.text

    # Loaded back by repo id with peft itself, through the same HF_ENDPOINT.
    plain = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_path), "alice/clinic-expert-lora", token=CANARY)
    loaded = _lora_weights(plain)
    assert loaded.keys() == original.keys()
    assert all((loaded[k] == original[k]).all() for k in original)
    via_mimir = load_adapter_from_hub("alice/clinic-expert-lora", token=CANARY)  # base from the card's Hub id
    assert all((_lora_weights(via_mimir)[k] == original[k]).all() for k in original)
    folder = download_adapter("alice/clinic-expert-lora", token=CANARY)
    assert (folder / "adapter_model.safetensors").read_bytes() == (adapter_dir / "adapter_model.safetensors").read_bytes()


def test_merged_model_push_matches_adapter_outputs(fake_hub, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    fake_hub.add_user("alice", CANARY)
    torch.manual_seed(0)
    base_dir, adapter_dir = tmp_path / "tiny-base", tmp_path / "adapter"
    tiny = LlamaForCausalLM(LlamaConfig(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64))
    tiny.save_pretrained(base_dir)
    _lora(LlamaForCausalLM.from_pretrained(base_dir), adapter_dir, seed=1)
    _write_tiny_tokenizer(base_dir)
    config = AdapterPushConfig(repo_id="alice/tiny-lora", base_model=str(base_dir), merged_repo_id="alice/tiny-merged", private=False)
    push_adapter(adapter_dir, config=config, token=CANARY)
    merged_repo = fake_hub.repo("alice/tiny-merged", "model")
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md"} <= set(merged_repo.files)
    assert "alice/tiny-merged" in fake_hub.repo("alice/tiny-lora", "model").files["README.md"].decode()

    ids = torch.tensor([[1, 5, 9, 17, 33]])
    with torch.no_grad():
        expected = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(base_dir), str(adapter_dir))(ids).logits
        merged = AutoModelForCausalLM.from_pretrained("alice/tiny-merged", token=CANARY)(ids).logits
        untuned = LlamaForCausalLM.from_pretrained(base_dir)(ids).logits
    assert torch.allclose(merged, expected, atol=1e-5) and not torch.allclose(untuned, expected, atol=1e-5)


def _write_tiny_tokenizer(folder):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {f"w{i}": i for i in range(128)}
    vocab["[UNK]"] = 0
    raw = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="[UNK]").save_pretrained(folder)


def test_adapter_folder_is_validated_before_any_request(fake_hub, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="adapter_config.json"):
        push_adapter(tmp_path / "empty", config=AdapterPushConfig(repo_id="alice/x"), token=CANARY)
    (tmp_path / "empty" / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(tmp_path)}))
    with pytest.raises(InputFileError, match="weights"):
        push_adapter(tmp_path / "empty", config=AdapterPushConfig(repo_id="alice/x"), token=CANARY)
    (tmp_path / "empty" / "adapter_model.safetensors").write_bytes(b"x")
    with pytest.raises(HubError, match="local folder"):
        push_adapter(tmp_path / "empty", config=AdapterPushConfig(repo_id="alice/x"), token=CANARY)
    assert fake_hub.requests == []
