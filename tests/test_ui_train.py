"""One-click training from the Train tab: a real subprocess on the embedded model, watched through
the same poll the timer runs, then resumed after a stop."""

from __future__ import annotations

import json
import time

import pytest

gr = pytest.importorskip("gradio")

from mimir.ui import train_tab  # noqa: E402
from mimir.ui.session import Session  # noqa: E402


def _poll_until(session, states, timeout=420):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line, frame, card, timer = train_tab.poll(session)
        if any(f"**{s}**" in line for s in states):
            return line, frame, card, timer
        time.sleep(1.0)
    raise AssertionError(f"training did not reach {states}: {line}")


@pytest.fixture
def session(tmp_path):
    session = Session.new(tmp_path / "runs")
    yield session
    run = session.live.get("train")
    if run is not None:  # never leave a training process behind when an assertion fails
        run.kill()


def test_stop_without_a_run_is_a_clear_error(session):
    with pytest.raises(gr.Error, match="No training run"):
        train_tab.stop_training(session)


@pytest.mark.slow
def test_training_subprocess_streams_loss_and_ends_with_a_card(tmp_path, session):
    data = session.path("verify", "verified_export.jsonl")
    rows = [{"messages": [{"role": "system", "content": "You are the clinic's doctor."},
                          {"role": "user", "content": f"When is the clinic open on Saturday? ({i})"},
                          {"role": "assistant", "content": "On Saturday the clinic is open from 08:00 to 13:00."}]}
            for i in range(4)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert train_tab.dataset_choices(session)[0][1] == str(data)

    line, timer = train_tab.start_training(session, str(data), None, "tiny", "lora", "embedded", 4, 8, 1, 3, 1e-3, 2, 64)
    assert "Training started" in line and timer.active is True
    with pytest.raises(gr.Error, match="already training"):  # a quick second click must not start a twin
        train_tab.start_training(session, str(data), None, "tiny", "lora", "embedded", 4, 8, 1, 3, 1e-3, 2, 64)
    line, frame, card, timer = _poll_until(session, ["finished", "failed"])
    assert "**finished**" in line, line
    assert list(frame["step"]) == [1, 2, 3] and frame["loss"].notna().all()
    assert "library_name: peft" in card and timer.active is False
    assert (tmp_path / "runs" / session.id / "train" / "tiny" / "adapter" / "adapter_config.json").exists()
