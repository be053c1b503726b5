"""The experiment's stages as plain functions over the other packages' public APIs.

Each function does one stage's work into the run folder and returns a small JSON-able summary
(counts, sizes) that the run folder saves as the stage's marker.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from mimir.errors import ConfigError, InputFileError
from mimir.evaluate.config import ExperimentConfig
from mimir.evaluate.evalsets import EvalQuestion, drop_leaking_records, load_questions, save_questions

log = logging.getLogger(__name__)

def knowledge_files(folder: Path, questions_file: Path | None) -> list[Path]:
    """The documents of a knowledge folder as ``tune`` reads them, leaving out the held-out question file."""
    from mimir.tune import knowledge_files as documents

    files = [p for p in documents(folder) if questions_file is None or p.resolve() != questions_file.resolve()]
    if not files:
        raise InputFileError(f"{folder}: no knowledge files besides the question file")
    return files


def question_file(config: ExperimentConfig) -> Path | None:
    if config.questions:
        path = Path(config.questions)
        if not path.is_file():
            raise InputFileError(f"question file {path} does not exist")
        return path
    default = knowledge_source(config) / "questions.jsonl"
    return default if default.is_file() else None


def knowledge_source(config: ExperimentConfig) -> Path:
    """The knowledge folder; empty (or the old ``assets/examples``) is the bundled example."""
    from mimir.resources import bundled_or_path

    return bundled_or_path(config.knowledge, default="examples", field="experiment.knowledge")


def build_knowledge(config: ExperimentConfig, kb_dir: Path) -> dict[str, Any]:
    from mimir.knowledge.store import KnowledgeBase

    source = knowledge_source(config)
    if (source / "manifest.json").exists():  # already a knowledge base: use it as it is
        kb = KnowledgeBase.open(source)
        return {"knowledge_base": str(source), "chunks": len(kb), "files": sorted(kb.sources)}
    if not source.is_dir():
        raise InputFileError(f"--knowledge {source}: not a folder of documents or a knowledge base")
    kb = KnowledgeBase.create(kb_dir, exist_ok=True)
    files = knowledge_files(source, question_file(config))
    report = kb.add_files(files)
    if report.errors:
        raise InputFileError("; ".join(f"{name}: {cause}" for name, cause in report.errors))
    return {"knowledge_base": str(kb_dir), "chunks": len(kb), "files": [f.name for f in files]}


def open_knowledge(info: dict[str, Any]):  # type: ignore[no-untyped-def]
    from mimir.knowledge.store import KnowledgeBase

    return KnowledgeBase.open(info["knowledge_base"])


def build_questions(config: ExperimentConfig, kb: Any, out: Path) -> dict[str, Any]:
    """The held-out questions: the given file, or cloze questions generated from the knowledge."""
    path = question_file(config)
    if path is not None:
        questions = load_questions(path)
        origin = str(path)
    else:
        from mimir.evaluate.knowledge_questions import questions_from_knowledge

        questions, counts = questions_from_knowledge(kb.chunks(), n=config.generated_questions, style="cloze", seed=config.seed)
        origin = f"generated from the knowledge ({counts})"
    if not any(q.key_facts for q in questions):
        raise InputFileError(f"{origin}: no question carries key facts; the recall table needs them")
    save_questions(questions, out)
    return {"questions": len(questions), "origin": origin}


def _model(spec: str) -> Any:
    from mimir.evaluate.cli import load_answerer

    return load_answerer(spec)


def arm_name(preset: str) -> str:
    """The MIMIR arm of a recipe preset: ``mimir`` (small) or ``mimir-<preset>``."""
    return "mimir" if preset == "small" else f"mimir-{preset}"


def build_mimir_data(config: ExperimentConfig, kb: Any, model: Any, data_dir: Path, questions: Path,
                     preset: str = "small") -> dict[str, Any]:
    """A MIMIR arm: the recipe ``tune`` runs (mimir.tune.build_data) with ``preset``, on the same
    knowledge base, with the experiment's held-out questions as its check set. ``model`` is unused:
    the recipe loads the generator itself, so the arm is exactly what a user gets from ``tune``."""
    import shutil

    from mimir.tune import TuneConfig, build_data

    tune_config = TuneConfig(knowledge=config.knowledge, model=config.model, base_model=config.base_model, preset=preset,
                             domain=config.domain, questions=str(questions), seed=config.seed, recipe=dict(config.generate))
    name = arm_name(preset)
    info = build_data(tune_config, {"knowledge_base": str(kb.root)}, data_dir / f"{name}.recipe", lambda *args: None)
    shutil.copyfile(info["train_path"], data_dir / f"{name}.jsonl")
    return info


def build_baseline_data(config: ExperimentConfig, kind: str, kb: Any, model: Any, data_dir: Path, n: int, questions: Path) -> dict[str, Any]:
    from mimir.config import merge_overrides
    from mimir.generate import BaselineConfig, build_baseline, export_for_training, write_export

    bconfig = merge_overrides(BaselineConfig(), {**EXPERIMENT_BASELINE_DEFAULTS, "seed": config.seed, **config.baseline,
                                                 "kind": kind, "n": n})
    bconfig.holdout_questions = str(questions)
    dialogues = build_baseline(kind, kb, model, data_dir / f"{kind}.dialogues.jsonl", n, config=bconfig)
    rows = export_for_training([d for d in dialogues if d.status == "ok"], include_reasoning=False, include_tools=False)
    write_export(rows, data_dir / f"{kind}.jsonl")
    return {"dialogues": len(dialogues), "records": len(rows)}


def clean_training_data(questions: list[EvalQuestion], source: Path, target: Path) -> dict[str, Any]:
    """Drop records that contain an eval question verbatim; count the training tokens left."""
    kept, dropped = drop_leaking_records(questions, source, target)
    if kept == 0:
        raise ConfigError(f"{source}: no training records left (generation produced none, or all leaked eval questions)")
    words = assistant_words = 0
    for line in target.read_text(encoding="utf-8").splitlines():
        for m in json.loads(line)["messages"]:
            n = len(str(m.get("content") or "").split())
            words += n
            assistant_words += n if m["role"] == "assistant" else 0
    return {"records": kept, "dropped_leaks": dropped, "words": words, "assistant_words": assistant_words}


def train_adapter(config: ExperimentConfig, data: Path, out: Path) -> dict[str, Any]:
    from mimir.config import merge_overrides
    from mimir.train import TrainConfig, train

    from mimir.tune import SMALL_TRAIN

    tconfig = merge_overrides(
        TrainConfig(), {**SMALL_TRAIN, "save_steps": 20, "base_model": config.base_model, "seed": config.seed, **config.train}
    )
    result = train(tconfig, str(data), str(out))
    if result.adapter_dir is None:
        raise ConfigError(f"training in {out} stopped before it finished; rerun the experiment to resume it")
    return {"adapter": result.adapter_dir, "steps": result.steps, "final_loss": result.final_loss,
            "examples": result.train_examples}


# Baselines are sized like the MIMIR arm and trained with the same settings (the recipe's, see
# mimir.tune.SMALL_TRAIN), so the comparison isolates the data.
EXPERIMENT_BASELINE_DEFAULTS: dict[str, Any] = {"max_new_tokens": 40, "baize_turns": 4}
