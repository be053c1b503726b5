"""Acceptance tests on the embedded model: a few steps on tiny data (CPU, ~1-2 min in all)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mimir.train.config import TrainConfig
from tests.test_train_data import write_dataset

pytestmark = pytest.mark.slow


def tiny(tmp_path: Path, **overrides) -> TrainConfig:
    data = write_dataset(tmp_path / "dialogues.jsonl", 4)
    base = dict(dataset=str(data), output_dir=str(tmp_path / "run"), max_steps=2, batch_size=2, max_length=128,
                save_steps=50, learning_rate=5e-3, warmup_ratio=0.0, device="cpu")
    base.update(overrides)
    return TrainConfig(**base)


def test_lora_trains_adapter_weights_only(tmp_path):
    import torch

    from mimir.train.trainer import prepare_trainer

    config = tiny(tmp_path)
    trainer, _, _ = prepare_trainer(config, tmp_path / "run")
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    after = dict(trainer.model.named_parameters())
    lora = [n for n in before if "lora_" in n]
    base = [n for n in before if "lora_" not in n]
    assert lora and base
    assert all(after[n].requires_grad for n in lora) and not any(after[n].requires_grad for n in base)
    changed = [n for n in lora if not torch.equal(before[n], after[n])]
    assert len(changed) == len(lora)  # every LoRA matrix moved (lora_B starts at zero)
    assert all(torch.equal(before[n], after[n]) for n in base)


def test_train_saves_a_reloadable_adapter_that_changes_greedy_output(tmp_path, embedded_model):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from mimir.models.base import GenerationSettings
    from mimir.models.embedded import resolve_model
    from mimir.models.local import LocalModel
    from mimir.train.trainer import train

    seen = []
    config = tiny(tmp_path, max_steps=3, merge=True)
    config.eval_dataset = config.dataset  # only to exercise eval loss -> card
    result = train(config, progress=seen.append)
    assert result.status == "finished" and result.steps == 3 and result.final_loss is not None
    steps = [r["step"] for r in seen if "loss" in r]
    assert steps == [1, 2, 3] and all(r["lr"] is not None and r["eta_s"] is not None for r in seen if "loss" in r)
    assert seen[-1]["event"] == "end"
    adapter = Path(result.adapter_dir)
    for name in ("adapter_config.json", "adapter_model.safetensors", "README.md", "train_config.yaml", "tokenizer_config.json"):
        assert (adapter / name).is_file(), name
    card = (adapter / "README.md").read_text()
    assert "library_name: peft" in card and "eval_loss:" in card and result.eval_results["eval_loss"] > 0
    # Loads with plain peft ...
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(resolve_model(None)), str(adapter))
    assert any("lora_A" in n for n, _ in model.named_parameters())
    # ... and through MIMIR's inference path, where it changes what the model says.
    question = [{"role": "system", "content": "You are the nurse of the Lindenhof clinic."},
                {"role": "user", "name": "patient", "content": "What about parking?"}]
    greedy = GenerationSettings(max_new_tokens=24)
    tuned = LocalModel(None, adapter=str(adapter), device="cpu")
    tuned_text = tuned.chat(question, greedy).text
    assert tuned_text != embedded_model.chat(question, greedy).text
    # The merged model (optional output) says the same as base + adapter.
    assert result.merged_dir and LocalModel(result.merged_dir, device="cpu").chat(question, greedy).text == tuned_text


def test_qlora_runs_on_cpu(tmp_path):
    import bitsandbytes as bnb

    from mimir.train.trainer import prepare_trainer

    config = tiny(tmp_path, method="qlora", max_steps=1, batch_size=1, max_length=96)
    trainer, _, _ = prepare_trainer(config, tmp_path / "run")
    assert any(isinstance(m, bnb.nn.Linear4bit) for m in trainer.model.modules())
    out = trainer.train()
    assert trainer.state.global_step == 1 and out.training_loss == out.training_loss  # finite, not NaN


def _wait_for(predicate, timeout: float, run) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if run.status in ("failed", "finished", "stopped"):
            raise AssertionError(f"run ended early ({run.status}): {run.error}\n{run.log_tail(40)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; log:\n{run.log_tail(40)}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory) -> str:
    """A 2-layer random Llama with the embedded tokenizer: steps take milliseconds, so the
    subprocess test measures process control, not matrix multiplies."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from mimir.models.embedded import resolve_model

    path = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(None))
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=16, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def test_last_checkpoint_skips_one_cut_short_by_a_kill(tmp_path):
    from mimir.train.trainer import last_checkpoint

    for step, state in ((2, "{}"), (4, "{}"), (6, None), (8, '{"glob')):
        (tmp_path / f"checkpoint-{step}").mkdir()
        if state is not None:
            (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(state)
    assert last_checkpoint(tmp_path) == str(tmp_path / "checkpoint-4")
    assert last_checkpoint(tmp_path / "checkpoint-2") is None


def test_subprocess_killed_resumes_from_checkpoint_and_stops_gracefully(tmp_path, tiny_llama):
    from mimir.train.runner import TrainingRun, launch, read_metrics
    from mimir.train.trainer import last_checkpoint

    config = tiny(tmp_path, base_model=tiny_llama, max_steps=100_000, save_steps=2, logging_steps=1)
    out = Path(config.output_dir)

    def logged_step() -> int:
        return max((r["step"] for r in read_metrics(out)), default=0)

    # 1. Hard kill mid-run, after at least one checkpoint and some steps beyond it.
    run = launch(config)
    _wait_for(lambda: last_checkpoint(out) is not None and logged_step() >= 5, 240, run)
    run.kill()
    assert run.status == "failed" and "ended unexpectedly" in run.error  # died without a word
    resume_step = int(Path(last_checkpoint(out)).name.split("-")[1])
    assert resume_step >= 2
    # 2. Relaunch the same config: it continues from that checkpoint, not from 0 ...
    run = launch(config)
    _wait_for(lambda: sum(r.get("event") == "start" for r in read_metrics(out, events=True)) == 2, 240, run)
    starts = [r for r in read_metrics(out, events=True) if r.get("event") == "start"]
    assert [(s["step"], s["resumed"]) for s in starts] == [(0, False), (resume_step, True)]
    # ... 3. and a stop (SIGTERM) saves a checkpoint where it is and ends as "stopped".
    _wait_for(lambda: logged_step() >= resume_step + 3, 240, run)
    assert run.stop() == "stopped", run.log_tail(40)
    assert TrainingRun.attach(out).status == "stopped" and TrainingRun.attach(out).error is None
    end = read_metrics(out, events=True)[-1]
    assert end["event"] == "end" and end["state"] == "stopped" and end["step"] > resume_step
    assert last_checkpoint(out) == str(out / f"checkpoint-{end['step']}")
    steps = [r["step"] for r in read_metrics(out)]
    assert steps == list(range(1, steps[-1] + 1))  # one curve, no gap and no restart at 0


@pytest.mark.slow
def test_kl_anchor_is_zero_at_the_start_and_pulls_toward_the_base(tmp_path):
    """The anchor's KL is 0 while the adapter is the identity (lora_B = 0) and grows as it learns;
    with a heavy anchor the tuned model stays nearer the base on general text."""
    from mimir.train.anchor import anchor_batches, kl_to_base
    from mimir.train.trainer import prepare_trainer

    config = tiny(tmp_path, anchor_weight=1.0, max_steps=3)
    trainer, tokenizer, _ = prepare_trainer(config, tmp_path / "run")
    probe = next(anchor_batches(tokenizer, seed=1))
    assert abs(float(kl_to_base(trainer.model, probe))) < 1e-6
    trainer.train()
    assert trainer.last_anchor_kl is not None and trainer.last_anchor_kl >= 0
    anchored = float(kl_to_base(trainer.model, probe))
    (tmp_path / "free").mkdir()
    free, _, _ = prepare_trainer(tiny(tmp_path / "free", anchor_weight=0.0, max_steps=3), tmp_path / "free-run")
    free.train()
    assert 0 < anchored < float(kl_to_base(free.model, probe))


def test_embedding_noise_trains_with_neftune_but_keeps_the_anchor_passes_clean(tmp_path):
    """NEFTune noise is on while training, yet the anchor compares tuned and base on the same clean
    input: with the adapter still the identity (learning rate 0) its KL stays 0."""
    from mimir.train.trainer import prepare_trainer

    trainer, _, _ = prepare_trainer(tiny(tmp_path, anchor_weight=1.0, embedding_noise=5.0, max_steps=1, learning_rate=0.0),
                                    tmp_path / "run")
    assert trainer.args.neftune_noise_alpha == 5.0
    trainer.train()
    assert trainer.last_anchor_kl is not None and abs(trainer.last_anchor_kl) < 1e-6


def test_cpu_loss_scores_label_positions_only_with_the_same_loss_and_gradients(tmp_path):
    """On CPU the LM head projects only the answer tokens (mimir.train.scoring): the loss and every
    LoRA gradient equal those of scoring every position, and the installed trl still has the switch
    (this fails loudly when trl renames it, instead of training silently slower)."""
    import torch

    from mimir.train.scoring import label_positions_only
    from mimir.train.trainer import prepare_trainer

    with label_positions_only("cpu") as compact:
        assert compact, "trl no longer has trl.trainer.utils._use_triton: update mimir.train.scoring"
    with label_positions_only("cuda") as compact:
        assert not compact  # other devices keep trl's own choice
    trainer, _, _ = prepare_trainer(tiny(tmp_path, batch_size=4, dropout=0.0), tmp_path / "run")
    trainer.model.train()
    batch = next(iter(trainer.get_train_dataloader()))
    assert bool((batch["labels"] == -100).any()), "the batch must have prompt positions for this to test anything"
    results = {}
    for labels_only in (False, True):
        trainer.score_labels_only = labels_only
        trainer.model.zero_grad()
        loss = trainer.compute_loss(trainer.model, dict(batch))
        loss.backward()
        grads = {n: p.grad.detach().clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
        results[labels_only] = (float(loss), grads)
    (full_loss, full_grads), (compact_loss, compact_grads) = results[False], results[True]
    assert compact_loss == pytest.approx(full_loss, rel=1e-5)
    assert full_grads.keys() == compact_grads.keys() and full_grads
    for name, grad in full_grads.items():
        assert torch.allclose(grad, compact_grads[name], rtol=1e-4, atol=1e-6), name


def test_local_model_merges_the_adapter_and_answers_as_the_unmerged_one(tmp_path):
    """LocalModel merges an adapter into the weights (base-model speed) and says what base + unmerged
    adapter says."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from mimir.models.base import GenerationSettings
    from mimir.models.embedded import resolve_model
    from mimir.models.local import LocalModel
    from mimir.train.trainer import train

    result = train(tiny(tmp_path, max_steps=3, learning_rate=2e-2))
    tuned = LocalModel(None, adapter=result.adapter_dir, device="cpu")
    assert not any("lora_" in name for name, _ in tuned.model.named_parameters())
    question = [{"role": "user", "content": "What about parking?"}]
    text = tuned.chat(question, GenerationSettings(max_new_tokens=16)).text
    path = resolve_model(None)
    unmerged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(path), result.adapter_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    ids = tokenizer(tuned.prompt_text(question), return_tensors="pt", add_special_tokens=False).input_ids
    with torch.no_grad():
        out = unmerged.generate(input_ids=ids, max_new_tokens=16, do_sample=False)
    assert tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True).strip() == text.strip()
