"""Anchoring to the base model: a KL term on general text keeps what the model knew.

Storing a handbook's facts takes many updates, and unconstrained updates cost the model its
general language (measured: perplexity on general text +167% after 10 epochs at lr 1e-3). Each
training step therefore also runs a small batch of general English text through the tuned model
and the base model (the same network with the adapter switched off) and adds
``anchor_weight * KL(base || tuned)`` per token to the loss: the adapter may move the model where
the handbook needs it and is pulled back everywhere else.

The general text is Python's own standard-library documentation (docstrings of common modules),
which ships with every Python — no download — and is disjoint from the knowledge check's
perplexity text (``pydoc_data`` topic pages), so the check measures forgetting on text the anchor
never saw. Prose alone leaves chat unguarded (measured: the base model's own chat answers +41–64%
perplexity under adapters anchored on prose), so a share of the anchor batches is chat: the
training data's replay records (the base model's answers to general prompts, which the recipe
writes) in the training chat template, disjoint from the check's chat prompts.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import itertools
import random
from typing import Any, Iterator

ANCHOR_MODULES = (
    "collections", "itertools", "functools", "pathlib", "json", "csv", "argparse", "logging", "datetime", "email",
    "http.client", "urllib.request", "unittest", "random", "statistics", "decimal", "fractions", "textwrap", "string",
    "os", "shutil", "tempfile", "threading", "queue", "subprocess", "socket", "sqlite3", "zipfile", "tarfile", "heapq",
    "bisect", "contextlib", "dataclasses", "enum", "abc", "io", "copy", "pprint", "difflib", "calendar", "hashlib",
)


def anchor_texts(n: int = 256, seed: int = 0) -> list[str]:
    """``n`` distinct passages of general English prose (standard-library docstrings of 400+ characters)."""
    seen: set[str] = set()
    texts: list[str] = []
    for name in ANCHOR_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # a trimmed Python without the module: skip it
            continue
        for attr, obj in inspect.getmembers(module):
            doc = inspect.getdoc(obj) if not attr.startswith("_") else None
            if doc and len(doc) > 400 and doc.count(" ") > 60:
                text = " ".join(doc.split())
                if text not in seen:
                    seen.add(text)
                    texts.append(text)
    random.Random(seed).shuffle(texts)
    return texts[:n]


def replay_chats(spec: str) -> list[list[dict[str, str]]]:
    """The replay records of the training data (``mimir.types.is_replay_record``): the base model's own
    answers to general prompts, as message lists; empty when the data has none."""
    from mimir.jsonl import read_records
    from mimir.train.data import resolve_data_files
    from mimir.types import is_replay_record

    chats = []
    for path in resolve_data_files(spec):
        for record in read_records(path):
            if is_replay_record(record) and isinstance(record.get("messages"), list):
                chats.append([{"role": m.get("role", ""), "content": m.get("content") or ""} for m in record["messages"]])
    return chats


def anchor_batches(tokenizer: Any, batch_size: int = 2, max_tokens: int = 128, n: int = 256, seed: int = 0,
                   chats: list[list[dict[str, str]]] | None = None, chat_share: float = 0.0) -> Iterator[Any]:
    """An endless cycle of ``[batch_size, max_tokens]`` token-id tensors of anchor text: prose, and
    ``chat_share`` of the batches from ``chats`` rendered in the tokenizer's chat template (one
    stream cut into rows: a row may hold the end of one chat and the start of the next, as packing does)."""
    import torch

    rows = []
    for text in anchor_texts(n, seed):
        ids = tokenizer(text, truncation=True, max_length=max_tokens, add_special_tokens=False).input_ids
        if len(ids) == max_tokens:
            rows.append(ids)
    if len(rows) < batch_size:
        raise ValueError("not enough anchor text in this Python installation for the KL anchor")
    prose = [torch.tensor(rows[i:i + batch_size]) for i in range(0, len(rows) - batch_size + 1, batch_size)]
    chat = _chat_batches(tokenizer, chats or [], batch_size, max_tokens) if chat_share > 0 else []
    if not chat:
        return itertools.cycle(prose)
    return _mixed(prose, chat, chat_share)


def _chat_batches(tokenizer: Any, chats: list[list[dict[str, str]]], batch_size: int, max_tokens: int) -> list[Any]:
    import torch

    stream: list[int] = []
    for messages in chats:
        stream += tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]
    rows = [stream[i:i + max_tokens] for i in range(0, len(stream) - max_tokens + 1, max_tokens)]
    return [torch.tensor(rows[i:i + batch_size]) for i in range(0, len(rows) - batch_size + 1, batch_size)]


def _mixed(prose: list[Any], chat: list[Any], chat_share: float) -> Iterator[Any]:
    """Chat batches at ``chat_share`` of the steps, evenly spread (step k is chat when the running
    share falls behind), each list cycled on its own."""
    prose_cycle, chat_cycle = itertools.cycle(prose), itertools.cycle(chat)
    served = chat_served = 0
    while True:
        if chat_served < chat_share * (served + 1):
            chat_served += 1
            yield next(chat_cycle)
        else:
            yield next(prose_cycle)
        served += 1


def kl_to_base(model: Any, ids: Any) -> Any:
    """Per-token KL(base || tuned) on ``ids``; the base is ``model`` with its peft adapter disabled."""
    import torch
    import torch.nn.functional as F

    with _quiet_embeddings(model):
        tuned = model(input_ids=ids).logits[:, :-1].float()
        with torch.no_grad(), _unwrap(model).disable_adapter():
            base = model(input_ids=ids).logits[:, :-1].float()
    log_q = F.log_softmax(tuned, dim=-1).flatten(0, 1)
    log_p = F.log_softmax(base, dim=-1).flatten(0, 1)
    return F.kl_div(log_q, log_p, log_target=True, reduction="batchmean")


@contextlib.contextmanager
def _quiet_embeddings(model: Any) -> Iterator[None]:
    """The input embeddings in eval mode: NEFTune's noise (a hook active only in training mode)
    stays off the anchor's passes, so the KL compares the two models on the same input."""
    embeddings = _unwrap(model).get_input_embeddings()
    was_training = embeddings.training
    embeddings.eval()
    try:
        yield
    finally:
        embeddings.train(was_training)


def _unwrap(model: Any) -> Any:
    while hasattr(model, "module") and not hasattr(model, "disable_adapter"):
        model = model.module
    return model
