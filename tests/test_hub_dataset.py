"""Dataset push -> loopback Hub -> load back with ``datasets``: files, card, privacy, round trip."""

from __future__ import annotations

import json
import logging

import pytest
import yaml

from mimir.errors import HubError, InputFileError
from mimir.hub import DatasetPushConfig, load_dataset_from_hub, load_records_from_hub, push_dataset
from mimir.hub.records import normalize_record
from tests.fakes.hub_server import fake_hub  # noqa: F401 - fixture

CANARY = "hf_CanaryToken0123456789abcdefXYZ"


def _messages(i: int) -> list[dict]:
    return [
        {"role": "system", "content": "You are the clinic's triage nurse."},
        {"role": "user", "name": "patient", "content": f"When does the clinic open on day {i}?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": f"call_{i}", "type": "function", "function": {"name": "knowledge_search", "arguments": {"query": "opening hours"}}}]},
        {"role": "tool", "tool_call_id": f"call_{i}", "content": "Riverbend Clinic opens at 07:30 on weekdays."},
        {"role": "assistant", "content": "We open at 07:30 on weekdays.", "reasoning": "The handbook states 07:30."},
    ]


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def splits(tmp_path):
    raw = [{"id": f"d{i}", "messages": _messages(i), "model": "local", "framework": "react",
            "target_role": "nurse", "sources": ["/home/alice/private/riverbend-clinic-handbook.md"],
            "scores": {"grounded": 0.5 + i / 10}, "turn_count": 5} for i in range(4)]
    verified = [dict(r, verdict="keep") for r in raw[:3]]
    baseline = [{"id": f"b{i}", "messages": _messages(i)[1:2] + [{"role": "assistant", "content": "Ask reception."}],
                 "source": "self_instruct", "score": 1.5 if i else 2} for i in range(2)]
    return {
        "raw": _write(tmp_path / "dialogues.jsonl", raw),
        "verified": _write(tmp_path / "verified.jsonl", verified),
        "baseline": _write(tmp_path / "baseline.jsonl", baseline),
    }


@pytest.fixture
def alice(fake_hub):
    fake_hub.add_user("alice", CANARY, orgs=("clinic-org",))
    return fake_hub


def _read(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_dataset_round_trip_private_with_card(alice, splits, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    verdicts = _write(tmp_path / "verdicts.jsonl", [{"dialogue_id": "d0", "decision": "keep"}, {"dialogue_id": "d1", "decision": "keep"},
                                                    {"dialogue_id": "d2", "decision": "fix"}, {"dialogue_id": "d3", "decision": "reject"}])
    run_config = {"generate": {"model": "local", "roles": ["patient", "nurse"], "framework": "react"},
                  "search": {"tavily_api_key": "tvly-secretsecret123", "cache": "/home/alice/runs/cache"}}
    result = push_dataset(splits, config=DatasetPushConfig(repo_id="clinic-dialogues"), token=CANARY,
                          run_config=run_config, verdicts=verdicts, knowledge_sources=["bigbio/med_qa"])
    assert result.repo_id == "alice/clinic-dialogues" and result.private
    repo = alice.repo("alice/clinic-dialogues", "dataset")
    assert repo.private is True
    assert set(repo.files) == {".gitattributes", "README.md", "mimir_config.yaml", "data/raw-00000-of-00001.parquet",
                               "data/verified-00000-of-00001.parquet", "data/baseline-00000-of-00001.parquet"}
    # card written last, in its own commit after the data
    assert "README.md" not in repo.commits[-2].files and "README.md" in repo.commits[-1].files
    card = repo.files["README.md"].decode()
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["license"] == "other" and meta["language"] == ["en"] and meta["size_categories"] == ["n<1K"]
    assert meta["task_categories"] == ["text-generation"] and "mimir" in meta["tags"]
    assert meta["configs"][0]["data_files"] == [{"split": s, "path": f"data/{s}-*"} for s in ("raw", "verified", "baseline")]
    assert "riverbend-clinic-handbook.md" in card and "bigbio/med_qa" in card and "/home/alice" not in card
    assert "`nurse`" in card and "`patient`" in card and "`react`" in card
    assert "keep: 2" in card and "fix: 1" in card and "reject: 1" in card
    assert "tvly-secret" not in card and "<set at run time>" in card
    published = yaml.safe_load(repo.files["mimir_config.yaml"])
    assert published["generate"]["roles"] == ["patient", "nurse"] and published["search"]["cache"] == "cache"
    # nothing uploaded, logged or carded carries the token
    assert all(CANARY.encode() not in data for data in repo.files.values())
    assert CANARY not in caplog.text
    assert alice.authorization_headers and all(h == f"Bearer {CANARY}" for h in alice.authorization_headers)

    loaded = load_dataset_from_hub("alice/clinic-dialogues", token=CANARY)
    assert set(loaded) == {"raw", "verified", "baseline"}
    assert loaded["raw"].num_rows == 4 and loaded["baseline"].num_rows == 2
    assert loaded["raw"][1]["messages"][1] == {"role": "user", "content": "When does the clinic open on day 1?", "name": "patient",
                                               "tool_calls": None, "tool_call_id": None, "extra_json": None}
    for split, path in splits.items():
        back = load_records_from_hub("alice/clinic-dialogues", split=split, token=CANARY)
        assert back == [normalize_record(r) for r in _read(path)]
    assert back[0]["score"] == 2.0 and back[1]["score"] == 1.5 and back[0]["messages"][-1]["content"] == "Ask reception."
    assert json.loads(load_records_from_hub("alice/clinic-dialogues", split="raw", token=CANARY)[0]["messages"][2]
                      ["tool_calls"][0]["function"]["arguments"]) == {"query": "opening hours"}


def test_private_repo_is_invisible_without_token(alice, splits):
    push_dataset({"raw": splits["raw"]}, config=DatasetPushConfig(repo_id="alice/secret-ds"), token=CANARY)
    with pytest.raises(HubError) as info:
        load_dataset_from_hub("alice/secret-ds")
    assert "alice/secret-ds" in str(info.value)


def test_existing_public_repo_refused_for_private_push(alice, splits):
    alice.create("alice/open-ds", "dataset", private=False)
    with pytest.raises(HubError, match="PUBLIC"):
        push_dataset(splits, config=DatasetPushConfig(repo_id="alice/open-ds"), token=CANARY)
    assert set(alice.repo("alice/open-ds", "dataset").files) == {".gitattributes"}  # nothing was uploaded
    # an explicit public push into it is fine
    result = push_dataset(splits, config=DatasetPushConfig(repo_id="alice/open-ds", private=False), token=CANARY)
    assert result.private is False and "README.md" in alice.repo("alice/open-ds", "dataset").files


def test_dialogue_records_get_trainable_messages(alice, tmp_path):
    dialogue = {"id": "x1", "source": "mimir", "turns": [
        {"speaker": "patient", "role": "user", "content": "Is parking free?"},
        {"speaker": "nurse", "role": "assistant", "content": "", "tool_calls": [{"id": "c1", "name": "search", "arguments": {"q": "parking"}}]},
        {"speaker": "tool", "role": "tool", "content": "Parking is free for 2 hours.", "tool_call_id": "c1"},
        {"speaker": "nurse", "role": "assistant", "content": "Yes, for two hours."},
    ], "scenario": {"id": "s1", "topic": "parking", "roles": ["patient", "nurse"], "target_role": "nurse", "framework": "react"}}
    path = _write(tmp_path / "raw.jsonl", [dialogue])
    push_dataset({"raw": path}, config=DatasetPushConfig(repo_id="alice/dlg", language=["en"]), token=CANARY)
    (back,) = load_records_from_hub("alice/dlg", split="raw", token=CANARY)
    assert back["turns"] == dialogue["turns"] and back["scenario"] == dialogue["scenario"]
    # the training export's format: closed-book system prompt, target role -> assistant
    assert [m["role"] for m in back["messages"]] == ["system", "user", "assistant", "tool", "assistant"]
    assert back["messages"][1]["name"] == "patient" and "nurse" in back["messages"][0]["content"]
    assert back["messages"][2]["tool_calls"][0]["function"] == {"name": "search", "arguments": '{"q": "parking"}'}
    # roles outside the role library get a plain expert system prompt naming the role
    odd = dict(dialogue, id="x2", scenario=dict(dialogue["scenario"], roles=["patient", "wizard"], target_role="wizard"))
    odd["turns"] = [dict(t, speaker="wizard") if t["speaker"] == "nurse" else t for t in dialogue["turns"]]
    push_dataset({"raw": _write(tmp_path / "odd.jsonl", [odd])}, config=DatasetPushConfig(repo_id="alice/odd", language=["en"]), token=CANARY)
    (back,) = load_records_from_hub("alice/odd", split="raw", token=CANARY)
    assert [m["role"] for m in back["messages"]] == ["system", "user", "assistant", "tool", "assistant"]
    assert "wizard" in back["messages"][0]["content"].lower()


def test_replay_records_stay_home_unless_asked(alice, tmp_path):
    """The base model's own answers (mixed in against forgetting) are not the dataset's knowledge."""
    rows = [{"id": "k1", "messages": _messages(1), "metadata": {"source": "mimir"}},
            {"id": "r1", "messages": [{"role": "user", "content": "Why is the sky blue?"},
                                      {"role": "assistant", "content": "Rayleigh scattering."}], "metadata": {"source": "replay"}}]
    path = _write(tmp_path / "train.jsonl", rows)
    push_dataset({"train": path}, config=DatasetPushConfig(repo_id="alice/knowledge", language=["en"]), token=CANARY)
    assert [r["id"] for r in load_records_from_hub("alice/knowledge", split="train", token=CANARY)] == ["k1"]
    push_dataset({"train": path}, config=DatasetPushConfig(repo_id="alice/all", language=["en"], include_replay=True), token=CANARY)
    assert [r["id"] for r in load_records_from_hub("alice/all", split="train", token=CANARY)] == ["k1", "r1"]
    with pytest.raises(InputFileError, match="replay"):
        push_dataset({"train": _write(tmp_path / "replay.jsonl", rows[1:])},
                     config=DatasetPushConfig(repo_id="alice/none", language=["en"]), token=CANARY)


def test_repush_replaces_stale_shards_and_is_idempotent(alice, splits):
    config = DatasetPushConfig(repo_id="alice/ds", max_shard_rows=2)
    push_dataset(splits, config=config, token=CANARY)
    repo = alice.repo("alice/ds", "dataset")
    assert "data/raw-00001-of-00002.parquet" in repo.files
    push_dataset({"raw": splits["raw"]}, config=DatasetPushConfig(repo_id="alice/ds"), token=CANARY)
    assert sorted(p for p in repo.files if p.startswith("data/")) == ["data/raw-00000-of-00001.parquet"]
    assert load_dataset_from_hub("alice/ds", split="raw", token=CANARY).num_rows == 4


def test_knowledge_files_only_when_asked(alice, splits, tmp_path):
    handbook = tmp_path / "private-handbook.md"
    handbook.write_text("# Secret procedures\nDoor code 4411.\n")
    push_dataset(splits, config=DatasetPushConfig(repo_id="alice/k1"), token=CANARY, knowledge_files=[handbook])
    files = alice.repo("alice/k1", "dataset").files
    assert not any(p.startswith("knowledge/") for p in files) and b"4411" not in b"".join(files.values())
    assert "private-handbook.md" in files["README.md"].decode()
    push_dataset(splits, config=DatasetPushConfig(repo_id="alice/k2", include_knowledge_files=True), token=CANARY,
                 knowledge_files=[handbook])
    assert alice.repo("alice/k2", "dataset").files["knowledge/private-handbook.md"] == handbook.read_bytes()


def test_bad_inputs_fail_before_any_request(alice, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "no messages"}\n')
    with pytest.raises(InputFileError, match="bad.jsonl: record 1"):
        push_dataset({"raw": bad}, config=DatasetPushConfig(repo_id="alice/x"), token=CANARY)
    with pytest.raises(InputFileError, match="split name"):
        push_dataset({"raw-v2": _write(tmp_path / "ok.jsonl", [{"messages": _messages(0)}])},
                     config=DatasetPushConfig(repo_id="alice/x"), token=CANARY)
    assert alice.requests == []


def test_lfs_upload_path_without_xet(alice, splits, monkeypatch):
    """As on the real Hub, parquet goes through LFS (basic PUT + verify) when hf_xet is disabled."""
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    alice.use_lfs()
    push_dataset(splits, config=DatasetPushConfig(repo_id="alice/lfs-ds", language=["en"]), token=CANARY)
    routes = alice.routes_called()
    assert routes.count("lfs-upload") == 3 and "lfs-verify" in routes
    repo = alice.repo("alice/lfs-ds", "dataset")
    assert set(repo.head.lfs) == {f"data/{s}-00000-of-00001.parquet" for s in splits}
    for split, path in splits.items():
        assert load_records_from_hub("alice/lfs-ds", split=split, token=CANARY) == [normalize_record(r) for r in _read(path)]
    commits = len(repo.commits)
    push_dataset(splits, config=DatasetPushConfig(repo_id="alice/lfs-ds", language=["en"]), token=CANARY)
    assert alice.routes_called().count("lfs-upload") == 3  # unchanged LFS files are not sent again
    # the old card is removed in the (otherwise empty) data commit, the new one follows
    assert len(repo.commits) == commits + 2 and "README.md" not in repo.commits[-2].files
    assert repo.commits[-2].lfs == repo.commits[-3].lfs
