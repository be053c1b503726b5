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

KNOWLEDGE_SUFFIXES = {".md", ".txt", ".pdf", ".docx", ".html", ".htm", ".csv", ".json"}


def knowledge_files(folder: Path, questions_file: Path | None) -> list[Path]:
    """The documents of a knowledge folder, leaving out the held-out question file."""
    files = sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in KNOWLEDGE_SUFFIXES and not p.name.startswith(".")
        and (questions_file is None or p.resolve() != questions_file.resolve()) and p.name != "questions.jsonl"
    )
    if not files:
        raise InputFileError(f"{folder}: no knowledge files ({', '.join(sorted(KNOWLEDGE_SUFFIXES))})")
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


def build_mimir_data(config: ExperimentConfig, kb: Any, model: Any, data_dir: Path, questions: Path) -> dict[str, Any]:
    """MIMIR dialogues -> verification (filters + grounding) -> closed-book training export."""
    from mimir.config import merge_overrides
    from mimir.generate import GenerateConfig, export_for_training, generate_dialogues, write_export
    from mimir.generate.export import fact_share
    from mimir.generate.pipeline import load_dialogues
    from mimir.verify import VerifyConfig, verify_dialogues

    gen = merge_overrides(GenerateConfig(), {**EXPERIMENT_GENERATE_DEFAULTS, "seed": config.seed, **config.generate})
    gen.holdout_questions = str(questions)
    raw = data_dir / "mimir.dialogues.jsonl"
    dialogues = generate_dialogues(kb, gen, model, raw)
    repairs: dict[str, Any] = {}
    if config.repair:  # extractive grounding before verification (see mimir.evaluate.repair)
        from mimir.evaluate.repair import repair_counts, repair_dialogue
        from mimir.generate.export import write_export as write_jsonl

        repaired = [repair_dialogue(d) for d in dialogues]
        repairs = repair_counts([d for d in repaired if d.status == "ok"])
        raw = data_dir / "mimir.repaired.jsonl"
        write_jsonl([d.to_dict() for d in repaired], raw)
    vconfig = merge_overrides(VerifyConfig(), dict(config.verify))
    report = verify_dialogues(raw, kb, vconfig, judge_model=model if vconfig.mode != "filter" else None,
                              out_dir=data_dir / "mimir.verify")
    kept = [d for d in load_dialogues(report.paths["verified"]).values() if d.status == "ok"]
    rows = export_for_training(kept, include_reasoning=False, include_tools=False)
    write_export(rows, data_dir / "mimir.jsonl")
    return {
        "dialogues": len(dialogues), "ok": sum(d.status == "ok" for d in dialogues), "kept": len(kept),
        "records": len(rows), "verdicts": report.by_decision, "reject_reasons": report.by_reason, "repairs": repairs,
        "fact_share_generated": fact_share([d for d in dialogues if d.status == "ok"], kb.chunks()),
        "fact_share_kept": fact_share(kept, kb.chunks()),
    }


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

    tconfig = merge_overrides(
        TrainConfig(), {**EXPERIMENT_TRAIN_DEFAULTS, "base_model": config.base_model, "seed": config.seed, **config.train}
    )
    result = train(tconfig, str(data), str(out))
    if result.adapter_dir is None:
        raise ConfigError(f"training in {out} stopped before it finished; rerun the experiment to resume it")
    return {"adapter": result.adapter_dir, "steps": result.steps, "final_loss": result.final_loss,
            "examples": result.train_examples}


# CPU-sized defaults of the experiment (override with generate: / baseline: / train: {...}).
# Generation: every fact sentence asked twelve times (each time about another of its facts, in
# another dialogue and another of six question forms), three per two-role dialogue, short turns,
# no tools. Measured on assets/examples (2-core CPU, 10 epochs unless said; 44 questions, so the
# 95% interval of a recall figure is about +-0.15): asking each fact once (29 records) left
# closed-book recall at 0.00 after 3 epochs and 0.10 after 12; three times in one question form,
# same answer sentence (88 records): 0.15; five times in five forms with four answer forms (143
# records): 0.26; eight times (217 records): 0.43 and, rerun with long dialogues split instead of
# truncated, 0.39; twelve times in six forms (303 records): 0.50 [0.35, 0.65]. Base model: 0.00.
# Twelve times at 7 epochs gave 0.35: exposures and epochs both count.
# Rule-built questions (question_style "template") skip the asker's model call: the 135M asker's
# questions were mostly replaced by repair anyway, and generation time is the CPU budget.
EXPERIMENT_GENERATE_DEFAULTS: dict[str, Any] = {
    "questions_per_fact": 12, "facts_per_dialogue": 3, "max_turns": 6, "frameworks": ["none"], "tools": [],
    "group_sizes": [2], "retrieval_k": 0, "max_new_tokens": 40, "question_style": "template",
}
EXPERIMENT_BASELINE_DEFAULTS: dict[str, Any] = {"max_new_tokens": 40, "baize_turns": 4}
# The same training settings for every adapter: facts are stored only after many exposures
# (3 epochs stored nothing), so 10 epochs at a high LoRA learning rate; 160 tokens keep the CPU
# steps cheap (median dialogue 144 tokens; longer ones are split into windows, not truncated).
EXPERIMENT_TRAIN_DEFAULTS: dict[str, Any] = {
    "epochs": 10.0, "learning_rate": 1e-3, "rank": 16, "alpha": 32, "batch_size": 8, "max_length": 160,
    "save_steps": 20, "device": "auto",
}
