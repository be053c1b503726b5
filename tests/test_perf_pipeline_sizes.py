"""benchmarks/pipeline.py grows the handbook with renamed copies; each copy must carry its own facts.

If a copy kept a name or a number of the original, the recipe's duplicate checks would fold the
facts together and the 4x / 16x runs would measure less work than they claim.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pipeline():
    spec = importlib.util.spec_from_file_location("bench_pipeline", ROOT / "benchmarks" / "pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sixteen_copies_rename_every_name_and_extension(tmp_path):
    bench = _pipeline()
    original = bench.HANDBOOK.read_text(encoding="utf-8")
    originals = ["Riverbend", *bench._PEOPLE, *bench._POOLS]
    extensions = set(re.findall(r"extension (\d{4})", original))
    assert extensions and all(name in original for name in originals)
    copies = [bench.variant(original, i) for i in range(16)]
    assert copies[0] == original
    for i, text in enumerate(copies[1:], start=1):
        left = [name for name in originals if re.search(rf"\b{re.escape(name)}\b", text)]
        assert not left, f"copy {i} still names {left}"
        assert not extensions & set(re.findall(r"extension (\d+)", text)), f"copy {i} kept an extension"
        assert abs(len(text.split()) - len(original.split())) <= len(bench._PEOPLE) + 16  # same text, other names
    towns = [re.search(r"^# (\S+)", text).group(1) for text in copies]
    assert len(set(towns)) == 16
    people = [re.search(r"Medical Director is Dr\. (\w+ \w+)", text).group(1) for text in copies]
    assert len(set(people)) == 16

    folder = bench.build_knowledge(tmp_path / "kb", 4)
    doc = (folder / "handbook.md").read_text(encoding="utf-8")
    assert doc.count("Staff & Patient Handbook") == 4 and len(list(folder.iterdir())) == 1


def test_sampled_training_is_projected_to_the_full_run():
    bench = _pipeline()
    train = {"steps": 10, "seconds": 120.0, "examples": 267, "settings": {"batch_size": 8, "epochs": 5.0}}
    assert bench._projected_train(train, 10) == 12.0 * 34 * 5  # 34 batches of 8 per epoch
    row = {"seconds": {"knowledge": 1.0, "data": 50.0, "train": 120.0, "check": 150.0}, "projected_train": 2040.0}
    assert bench._stage_seconds(row, "train") == 2040.0
    assert bench._stage_seconds(row, "total") == 1.0 + 50.0 + 2040.0 + 150.0
    assert bench._projected_train({"steps": 0, "seconds": 0.0}, 10) is None
