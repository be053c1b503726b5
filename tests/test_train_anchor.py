"""The KL anchor's text: prose from the standard library and, at a set share, the training data's
replay chats in the chat template (no model runs here: the tokenizer only)."""

from __future__ import annotations

import itertools
import json

from mimir.models.embedded import resolve_model
from mimir.train.anchor import anchor_batches, replay_chats
from mimir.train.modeling import load_tokenizer


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def _replay(i):
    return {"id": f"rp-{i}", "metadata": {"source": "replay"},
            "messages": [{"role": "user", "content": f"Give me tip number {i} for keeping houseplants alive."},
                         {"role": "assistant", "content": "Water them when the top of the soil is dry, and keep them near a "
                                                          "bright window but out of the harsh afternoon sun. " * 2}]}


def test_replay_chats_reads_only_the_replay_records(tmp_path):
    data = tmp_path / "train.jsonl"
    knowledge = {"id": "dlg-1", "metadata": {"source": "mimir"},
                 "messages": [{"role": "user", "content": "When does the clinic open?"},
                              {"role": "assistant", "content": "At 8:00."}]}
    _write(data, [knowledge, _replay(0), _replay(1)])
    chats = replay_chats(str(data))
    assert len(chats) == 2
    assert all("houseplants" in chat[0]["content"] for chat in chats)


def test_chat_share_sets_how_many_anchor_batches_are_chat(tmp_path):
    tokenizer, _ = load_tokenizer(resolve_model("embedded"))
    chats = [m["messages"] for m in (_replay(i) for i in range(24))]
    start = tokenizer.convert_tokens_to_ids("<|im_start|>")

    def chat_rows(share):
        batches = list(itertools.islice(anchor_batches(tokenizer, chats=chats, chat_share=share), 40))
        assert all(tuple(b.shape) == (2, 128) for b in batches)
        return sum(int((b == start).any()) for b in batches)

    assert chat_rows(0.0) == 0  # prose only: the stdlib docstrings never hold a chat marker
    assert chat_rows(0.5) == 20
    assert chat_rows(0.25) == 10
    assert chat_rows(1.0) == 40
    # without replay records the share cannot be met: prose only, never an error
    assert sum(int((b == start).any()) for b in itertools.islice(anchor_batches(tokenizer, chats=[], chat_share=0.5), 10)) == 0
