"""kill -9 at random points of `generate` and `verify` (real subprocesses, the real CLI): a rerun
completes the work with no record lost and none duplicated. (`knowledge add` is killed in
test_reliability_atomic.py, `train` in test_train_run.py.)"""

from __future__ import annotations

import copy
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mimir.knowledge import KnowledgeBase, example_files
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fixtures.verify.clinic_dialogues import build_dialogues, cite_kb_chunks
from tests.test_generate_engine import roleplay

ROOT = Path(__file__).resolve().parents[1]
ENV = {**{k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}, "PYTHONPATH": str(ROOT),
       "HF_TOKEN": "hf_fakefakefakefakefakefake12"}


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    kb = KnowledgeBase.create(tmp_path_factory.mktemp("kb") / "clinic")
    kb.add_files(example_files())
    return kb


def _run(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mimir", *args], cwd=ROOT, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_at_random(args: list[str], full: float, rounds: int, rng: random.Random) -> int:
    kills = 0
    for _ in range(rounds):
        proc = _run(args)
        time.sleep(rng.uniform(0.3, 0.9) * full)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
    return kills


def _ids(path: Path, key: str) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line)[key])
        except json.JSONDecodeError:
            out.append("<torn>")  # a line torn by the kill; the next run must have repaired it
    return out


def test_kill_9_during_generate_loses_and_duplicates_nothing(tmp_path, kb, capsys):
    server = FakeOpenAIServer(latency=0.15, responder=lambda body: roleplay(body["messages"])).start()
    try:
        def args(out: Path) -> list[str]:
            return ["generate", "--knowledge", str(kb.root), "--output", str(out), "--model",
                    f"endpoint:fake@{server.base_url}?concurrency=2", "--max-dialogues", "8"]

        started = time.monotonic()
        reference = _run(args(tmp_path / "reference.jsonl"))
        assert reference.wait(timeout=300) == 0, reference.stderr.read().decode()[-2000:]
        full = time.monotonic() - started
        out = tmp_path / "killed.jsonl"
        kills = _kill_at_random(args(out), full, 4, random.Random(19))
        final = _run(args(out))
        assert final.wait(timeout=300) == 0, final.stderr.read().decode()[-2000:]
    finally:
        server.stop()
    want, got = _ids(tmp_path / "reference.jsonl", "id"), _ids(out, "id")
    lost = sorted(set(want) - set(got))
    duplicated = len(got) - len(set(got))
    with capsys.disabled():
        print(f"\n[issue16] kill -9 during generate: {kills} kills, {len(lost)} dialogues lost, {duplicated} duplicated")
    assert kills >= 2 and lost == [] and duplicated == 0 and "<torn>" not in got
    assert sorted(got) == sorted(want)


def test_kill_9_during_verify_loses_and_duplicates_nothing(tmp_path, kb, capsys):
    dialogues, _, _ = build_dialogues()
    cite_kb_chunks(kb, dialogues)
    many = []
    for n in range(15):  # enough dialogues that a kill lands mid-run
        for d in dialogues:
            copy_ = copy.deepcopy(d)
            copy_.id = f"{d.id}-{n}"
            many.append(copy_)
    raw = tmp_path / "dialogues.jsonl"
    raw.write_text("".join(json.dumps(d.to_dict()) + "\n" for d in many), encoding="utf-8")

    def args(out: Path) -> list[str]:
        return ["verify", "--dialogues", str(raw), "--knowledge", str(kb.root), "--out-dir", str(out)]

    started = time.monotonic()
    assert _run(args(tmp_path / "reference")).wait(timeout=300) == 0
    full = time.monotonic() - started
    kills = _kill_at_random(args(tmp_path / "killed"), full, 4, random.Random(16))
    assert _run(args(tmp_path / "killed")).wait(timeout=300) == 0
    ref = {r["dialogue_id"]: r["decision"] for r in map(json.loads, (tmp_path / "reference" / "verdicts.jsonl").read_text().splitlines())}
    got = _ids(tmp_path / "killed" / "verdicts.jsonl", "dialogue_id")
    lost = sorted(set(ref) - set(got))
    duplicated = len(got) - len(set(got))
    with capsys.disabled():
        print(f"\n[issue16] kill -9 during verify: {kills} kills, {len(lost)} verdicts lost, {duplicated} duplicated")
    assert kills >= 2 and lost == [] and duplicated == 0 and "<torn>" not in got
    final = {r["dialogue_id"]: r["decision"] for r in map(json.loads, (tmp_path / "killed" / "verdicts.jsonl").read_text().splitlines())}
    assert final == ref  # the same decisions as a run that was never killed
