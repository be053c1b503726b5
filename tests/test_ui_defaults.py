"""A default shown in the app is the config's default (the dataclasses are the one source)."""

from __future__ import annotations

import pytest

gr = pytest.importorskip("gradio")

from mimir.config import field_default  # noqa: E402
from mimir.evaluate.config import EvalConfig  # noqa: E402
from mimir.generate.config import GenerateConfig  # noqa: E402
from mimir.train.config import TrainConfig  # noqa: E402

# control label (as the app shows it, prefix) -> the config field it sets
BOUND = {
    "Spoken turns per dialogue": (GenerateConfig, "max_turns"),
    "Max tokens per message": (GenerateConfig, "max_new_tokens"),
    "Temperature": (GenerateConfig, "temperature"),
    "Reasoning frameworks": (GenerateConfig, "frameworks"),
    "Tools the expert may call": (GenerateConfig, "tools"),
    "Roles per dialogue": (GenerateConfig, "group_sizes"),
    "Base model": (TrainConfig, "base_model"),
    "Method": (TrainConfig, "method"),
    "Rank r": (TrainConfig, "rank"),
    "Alpha": (TrainConfig, "alpha"),
    "Learning rate": (TrainConfig, "learning_rate"),
    "Epochs": (TrainConfig, "epochs"),
    "Batch size": (TrainConfig, "batch_size"),
    "Max length": (TrainConfig, "max_length"),
    "Answer max tokens": (EvalConfig, "max_new_tokens"),
}


def _no_model(spec: str):
    raise AssertionError(f"building the app must not load a model ({spec!r})")


def test_app_defaults_equal_config_defaults(tmp_path):
    from mimir.ui.app import build_app

    demo = build_app(tmp_path, model_loader=_no_model)
    found: dict[str, object] = {}
    for block in demo.blocks.values():
        label = str(getattr(block, "label", "") or "")
        for prefix in BOUND:
            if label.startswith(prefix) and prefix not in found:
                found[prefix] = block
    assert set(found) == set(BOUND), f"controls not found: {sorted(set(BOUND) - set(found))}"
    for prefix, (cls, name) in BOUND.items():
        expected = field_default(cls, name)
        if name == "group_sizes":
            expected = expected[0]
        shown = found[prefix].value
        assert shown == expected, f"{prefix!r} shows {shown!r}, but {cls.__name__}.{name} defaults to {expected!r}"
        if name != "group_sizes":
            assert found[prefix].info == cls.__dataclass_fields__[name].metadata["help"], prefix
