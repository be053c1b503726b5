"""``python -m mimir tune --knowledge DOCS_OR_KB --run-dir DIR``: documents in, a tuned adapter and
its knowledge check out — the one path the app's guided run and the CLI share.

Stages (each writes into the run folder and a marker; a rerun skips finished stages and training
resumes from its newest checkpoint): knowledge -> data (recipe: questions, dialogues, grounding,
verification, held-out check questions, replay, leak-checked export) -> train -> check.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mimir.config import option
from mimir.errors import ConfigError, InputFileError
from mimir.types import is_replay_record

log = logging.getLogger(__name__)
KNOWLEDGE_SUFFIXES = {".md", ".txt", ".pdf", ".docx", ".html", ".htm", ".csv", ".json", ".jsonl"}
CHECK_FILE = "questions.jsonl"  # hand-written check questions next to the documents (left out of the knowledge)

# Training settings of the small preset (LoRA on the embedded model, CPU). Records are short
# (3 exchanges, ~120 tokens), so max_length 192 wastes little padding; bf16 autocast where the CPU
# has it (AVX512-BF16 / AMX: 0.55x the fp32 step time, `benchmarks/training.py --only precision`). 5 epochs at 1e-3: on
# the held-out on-call runbook 3 epochs left most facts unstored; 5 stored 0.72 of the trained
# questions (recall on them) and lifted held-out recall from 0.10-0.15 to 0.21.
# Rank 64 (alpha 128, the same scale): a 135M model stores new facts in the adapter's capacity; on the
# law-intake dev handbook rank 16 gave held-out recall 0.31/0.33 and rank 64 0.42/0.44, perplexity +0.3%;
# rank 128 gave 0.40/0.42 at +2.9% (more stored, no better recall), so 64.
# No LoRA dropout: on CPU its random masks (a fresh one per adapted layer and pass) took a third of the
# step (`benchmarks/training.py --only step`), and the anchor, not dropout, is what holds the model back.
SMALL_TRAIN: dict[str, Any] = {"epochs": 5.0, "learning_rate": 1e-3, "rank": 64, "alpha": 128, "dropout": 0.0, "batch_size": 8,
                               "max_length": 192, "save_steps": 10, "warmup_ratio": 0.05, "precision": "auto",
                               # KL anchor to the base on general text: on the held-out on-call runbook it
                               # kept general perplexity at +0.9% (vs +64% without) at the same recall; half its
                               # batches are the replay chats (train.anchor_chat_share 0.5), which took chat drift on
                               # the ferry handbook from +41% (prose only) to -21% at the same or better recall
                               "anchor_weight": 1.0}
ROLEPLAY_TRAIN: dict[str, Any] = {"epochs": 3.0, "learning_rate": 2e-4, "max_length": 512}


@dataclass
class TuneConfig:
    """Documents to a tuned adapter in one run; every stage's defaults are the recipe's."""

    knowledge: str = option("", help="Folder of documents, one document, or a knowledge base folder (with manifest.json).")
    run_dir: str = option("runs/tune", help="Every stage's outputs go here; a rerun resumes where it stopped.")
    model: str = option("local", help="Generator model spec (local, local:PATH, endpoint:MODEL[@URL]); picks the preset.")
    base_model: str = option("embedded", help="Model the adapter is trained on (and the base of the knowledge check).")
    preset: str = option("auto", choices=("auto", "small", "roleplay"), help="Data recipe preset: auto, small or roleplay (see `mimir.generate.recipe`).")
    domain: str = option("medical", help="Domain whose roles take part (roles file key); the expert's persona comes from it.")
    questions: str = option("", help="Hand-written check questions (JSONL: question, key_facts). Empty: KNOWLEDGE/questions.jsonl "
                            "if present, else held-out questions generated from the knowledge.")
    seed: int = option(0, help="Seed of data, training order and the bootstrap.")
    recipe: dict = option({}, help="Overrides of the data recipe (RecipeConfig keys), e.g. {questions_per_fact: 4}.")
    train: dict = option({}, help="Overrides of the training config (TrainConfig keys), e.g. {max_steps: 20}.")
    check: dict = option({}, help="Overrides of the knowledge check (CheckConfig keys).")


@dataclass
class StageEvent:
    """Progress of one stage: ``done`` of ``total`` units, and a line for people."""

    stage: str
    done: int
    total: int
    message: str = ""


@dataclass
class TuneResult:
    """What a tune run produced."""

    run_dir: str
    paths: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    check: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    stopped: bool = False

    def summary(self) -> str:
        from mimir.evaluate.knowledge_check import format_check

        lines = [f"run folder: {self.run_dir}"]
        if self.data:
            lines.append(f"data: preset {self.data.get('preset')} ({self.data.get('preset_reason')}); "
                         f"{self.data.get('records')} training records from {self.data.get('facts_with_questions')} of "
                         f"{self.data.get('facts')} facts; {self.data.get('check_questions')} held-out check questions")
        if self.stopped:
            lines.append("stopped: finished stages are saved; run tune again to resume")
        if self.check:
            lines.append(format_check(self.check))
        for name, path in self.paths.items():
            lines.append(f"  {name:12s} {path}")
        if self.seconds:
            lines.append("wall time: " + ", ".join(f"{k} {v:.0f} s" for k, v in self.seconds.items()))
        return "\n".join(lines)


class Stopped(Exception):
    """The user asked to stop; finished stages stay saved."""


def tune(config: TuneConfig, *, progress: Callable[[StageEvent], None] | None = None,
         stop: threading.Event | None = None) -> TuneResult:
    """Run (or resume) every stage; ``progress`` receives :class:`StageEvent`s, ``stop`` ends the run
    at the next record or training step with everything finished so far kept."""
    from mimir.config import save_config
    from mimir.evaluate.runstate import RunDir

    validate(config)
    rd = RunDir(config.run_dir)
    save_config(config, rd.path("tune.yaml"))
    result = TuneResult(run_dir=str(rd.root))

    def emit(stage: str, done: int, total: int, message: str = "") -> None:
        if progress is not None:
            progress(StageEvent(stage, done, total, message))
        if stop is not None and stop.is_set():
            raise Stopped(stage)

    def echo(line: str) -> None:
        log.info(line)
        if progress is not None:
            progress(StageEvent("log", 0, 0, line))

    try:
        kb_info = rd.stage("knowledge", lambda: build_knowledge(config, rd.path("kb")), echo)
        emit("knowledge", 1, 1, f"{kb_info['chunks']} chunks from {len(kb_info['files'])} file(s)")
        data = rd.stage("data", lambda: build_data(config, kb_info, rd.path("data", "x").parent, emit), echo)
        result.data = data
        result.paths.update({"dialogues": data["dialogues_path"], "train_data": data["train_path"],
                             "check_questions": data["check_path"]})
        train_info = rd.stage("train", lambda: train_adapter(config, data, rd.path("train", "x").parent, emit, stop), echo)
        result.train = train_info
        result.paths["adapter"] = train_info["adapter"]
        check = rd.stage("check", lambda: run_check(config, data, train_info["adapter"], rd.path("check.json"), emit), echo)
        result.check = check
        result.paths["check"] = str(rd.path("check.json"))
        write_card_section(train_info["adapter"], check)
        result.paths["card"] = str(Path(train_info["adapter"]) / "README.md")
    except Stopped:
        result.stopped = True
    for name in ("knowledge", "data", "train", "check"):
        info = rd.done(name)
        if info:
            result.seconds[name] = float(info.get("seconds", 0.0))
    return result


def validate(config: TuneConfig) -> None:
    """Everything that can be checked before a model loads."""
    if not config.knowledge:
        raise ConfigError("tune: --knowledge is required (a folder of documents, a document, or a knowledge base)")
    if not Path(config.knowledge).exists():
        raise InputFileError(f"tune: knowledge {config.knowledge!r} does not exist")
    if config.preset not in ("auto", "small", "roleplay"):
        raise ConfigError(f"tune: preset must be auto, small or roleplay, got {config.preset!r}")
    from mimir.config import merge_overrides
    from mimir.generate.recipe import RecipeConfig
    from mimir.train import TrainConfig

    recipe = merge_overrides(RecipeConfig(), dict(config.recipe))
    if recipe.questions_per_fact < 1 or recipe.facts_per_dialogue < 1:
        raise ConfigError("tune: recipe.questions_per_fact and recipe.facts_per_dialogue must be >= 1")
    if not 0 <= recipe.replay_share < 1 or not 0 <= recipe.system_prompt_share <= 1:
        raise ConfigError("tune: recipe.replay_share must be in [0, 1) and recipe.system_prompt_share in [0, 1]")
    merge_overrides(TrainConfig(dataset="x"), dict(config.train)).validate()


def knowledge_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in KNOWLEDGE_SUFFIXES
                   and not p.name.startswith(".") and p.name != CHECK_FILE)
    if not files:
        raise InputFileError(f"{folder}: no documents ({', '.join(sorted(KNOWLEDGE_SUFFIXES))})")
    return files


def build_knowledge(config: TuneConfig, kb_dir: Path) -> dict[str, Any]:
    from mimir.knowledge.store import KnowledgeBase

    source = Path(config.knowledge)
    if (source / "manifest.json").exists():
        kb = KnowledgeBase.open(source)
        return {"knowledge_base": str(source), "chunks": len(kb), "files": sorted(kb.sources)}
    files = knowledge_files(source) if source.is_dir() else [source]
    kb = KnowledgeBase.create(kb_dir, exist_ok=True)
    report = kb.add_files(files)
    if report.errors:
        raise InputFileError("; ".join(f"{name}: {cause}" for name, cause in report.errors))
    return {"knowledge_base": str(kb_dir), "chunks": len(kb), "files": [f.name for f in files]}


def check_question_file(config: TuneConfig) -> Path | None:
    if config.questions:
        path = Path(config.questions)
        if not path.is_file():
            raise InputFileError(f"tune: question file {path} does not exist")
        return path
    default = Path(config.knowledge) / CHECK_FILE
    return default if Path(config.knowledge).is_dir() and default.is_file() else None


def build_data(config: TuneConfig, kb_info: dict[str, Any], out: Path, emit: Callable[..., None]) -> dict[str, Any]:
    """The recipe: questions -> dialogues -> grounding -> verification -> check questions -> export."""
    from mimir.config import merge_overrides
    from mimir.evaluate.evalsets import load_questions, save_questions
    from mimir.generate.recipe import RecipeConfig, RecipeReport, choose_preset
    from mimir.knowledge.store import KnowledgeBase

    given = check_question_file(config)
    # hand-written check questions replace the held-out forms, so every form can be trained on
    recipe = merge_overrides(RecipeConfig(), {"seed": config.seed, **({"holdout_per_fact": 0} if given else {}), **config.recipe})
    preset, reason = choose_preset(config.model, config.preset if config.preset != "auto" else recipe.preset)  # type: ignore[arg-type]
    report = RecipeReport(preset=preset, preset_reason=reason)
    kb = KnowledgeBase.open(kb_info["knowledge_base"])
    out.mkdir(parents=True, exist_ok=True)
    emit("data", 0, 4, f"preset {preset}: {reason}")
    from mimir.models import load_model

    model = load_model(config.model)
    try:
        if preset == "small":
            dialogues, plans = _small_data(kb, recipe, config, model, report, out, emit)
        else:
            dialogues, plans = _roleplay_data(kb, recipe, config, model, report, out, emit)
        rows = _export(dialogues, recipe, report)
        emit("data", 3, 4, f"{len(rows)} training records; replay answers from the base model")
        if recipe.replay_share > 0:
            from mimir.generate.recipe import replay_records

            n = int(round(len(rows) * recipe.replay_share / (1 - recipe.replay_share)))
            replay = replay_records(model, n, config.seed) if config.base_model in ("embedded", "local") and config.model == "local" \
                else _replay_with_base(config, n)
            report.replay_records = len(replay)
            rows += replay
    finally:
        model.close()
    from mimir.generate.recipe import check_questions

    questions = load_questions(given) if given else check_questions(plans)
    if not questions:
        raise InputFileError("tune: no held-out check question could be made (no fact has two usable question forms); "
                             "give hand-written ones with --questions")
    check_path = out / "check_questions.jsonl"
    save_questions(questions, check_path)
    rows, dropped = _drop_leaks(questions, rows)
    report.dropped_leaks = dropped
    report.records = len(rows)
    (out / "recipe_report.json").write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
    if all(is_replay_record(r) for r in rows):
        raise InputFileError(f"tune: no training dialogue could be made from {config.knowledge} ({report.facts} facts, "
                             f"{report.facts_with_questions} with a usable question); see {out / 'recipe_report.json'}")
    from mimir.generate.export import write_export
    from mimir.jsonl import JsonlWriter

    dialogues_path = out / "dialogues.jsonl"
    dialogues_path.unlink(missing_ok=True)
    with JsonlWriter(dialogues_path) as writer:
        writer.write_all(d.to_dict() for d in dialogues)
    (out / "recipe_report.json").write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
    train_path = write_export(rows, out / "train.jsonl")
    (out / "recipe_report.json").write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
    emit("data", 4, 4, f"{len(rows)} records ({report.replay_records} replay), {len(questions)} check questions")
    return {**report.to_dict(), "check_questions": len(questions), "check_origin": str(given) if given else "held-out forms",
            "dialogues_path": str(dialogues_path), "train_path": str(train_path), "check_path": str(check_path),
            "knowledge_base": kb_info["knowledge_base"]}


def _small_data(kb: Any, recipe: Any, config: TuneConfig, model: Any, report: Any, out: Path, emit: Callable[..., None]):
    from mimir.generate.recipe import (add_model_questions, passage_dialogues, plan_facts, small_dialogues, split_held_out,
                                       subject_dialogues)
    from mimir.generate.config import GenerateConfig

    chunks = kb.chunks()
    plans = plan_facts(chunks, recipe, report)
    emit("data", 1, 4, f"{len(plans)} facts; rule-built questions for every fact")
    if recipe.model_questions:
        add_model_questions(plans, model, report)
    split_held_out(plans, recipe, report)
    asker, expert = _asker_and_expert(GenerateConfig(domain=config.domain))
    emit("data", 2, 4, f"{report.facts_with_questions} facts with questions; building dialogues")
    dialogues = small_dialogues(plans, recipe, asker, expert, report)
    dialogues += passage_dialogues(chunks, recipe, asker, expert, report)
    dialogues += subject_dialogues(chunks, recipe, asker, expert, report)
    return _verified(dialogues, kb, model, out, report, emit, mode="filter"), plans


def _asker_and_expert(gen: Any) -> tuple[str, str]:
    """The names of the first asking role and the tuned expert role of the config's domain."""
    from mimir.generate.planner import pick_roles
    from mimir.generate.roles import load_roles

    target, seekers, _ = pick_roles(load_roles(gen.roles_file), gen)
    return seekers[0].name, target.name


def _roleplay_data(kb: Any, recipe: Any, config: TuneConfig, model: Any, report: Any, out: Path, emit: Callable[..., None]):
    """The full engine (multi-role, frameworks, tools), then grounding; check questions from the rule-built forms."""
    from mimir.generate.config import GenerateConfig
    from mimir.generate.grounding import repair_dialogue
    from mimir.generate.pipeline import generate_dialogues
    from mimir.generate.recipe import passage_dialogues, plan_facts, split_held_out, subject_dialogues

    chunks = kb.chunks()
    plans = plan_facts(chunks, recipe, report)
    split_held_out(plans, recipe, report)
    gen = GenerateConfig(domain=config.domain, questions_per_fact=max(1, recipe.questions_per_fact // 2),
                         facts_per_dialogue=recipe.facts_per_dialogue, frameworks=["none", "cot", "react"],
                         group_sizes=[2, 3], question_style="model", seed=config.seed,
                         max_dialogues=recipe.max_facts // max(1, recipe.facts_per_dialogue))  # a capped trial caps the engine too

    def on_dialogue(done: int, total: int, _d: Any) -> None:
        emit("data", done, total, f"dialogue {done}/{total}")

    dialogues = generate_dialogues(kb, gen, model, out / "raw_dialogues.jsonl", on_dialogue)
    dialogues = [repair_dialogue(d) for d in dialogues if d.status == "ok"]
    dialogues = _verified(dialogues, kb, model, out, report, emit, mode="fix")
    report.dialogues = len(dialogues)
    asker, expert = _asker_and_expert(gen)
    dialogues += passage_dialogues(chunks, recipe, asker, expert, report)
    dialogues += subject_dialogues(chunks, recipe, asker, expert, report)
    return dialogues, plans


def _verified(dialogues: list[Any], kb: Any, model: Any, out: Path, report: Any, emit: Callable[..., None],
              mode: str) -> list[Any]:
    """Dialogues through verification, with reasons in ``out/verify``: ``filter`` (the small preset's
    extractive dialogues: structure, repeats, language, grounding against the sources) or ``fix`` (the
    role-play engine's: the same, then the generator as judge keeps, fixes or rejects each)."""
    from mimir.jsonl import JsonlWriter
    from mimir.verify import VerifyConfig
    from mimir.verify.pipeline import load_dialogues, verified_path, verify_dialogues

    if not dialogues:
        return dialogues
    candidates = out / "candidates.jsonl"  # -> candidates.verified.jsonl; the kept ones go to dialogues.jsonl
    candidates.unlink(missing_ok=True)
    with JsonlWriter(candidates) as writer:
        writer.write_all(d.to_dict() for d in dialogues)

    def on_verdict(done: int, total: int) -> None:
        emit("data", done, total, f"verified {done}/{total}")

    # near-duplicates are the point here (each fact asked several times), not a defect
    settings = VerifyConfig(mode=mode, near_duplicate_threshold=0.0, export=False)  # type: ignore[arg-type]
    result = verify_dialogues(candidates, kb, settings,
                              judge_model=model if mode != "filter" else None, out_dir=out / "verify", progress=on_verdict)
    report.verification = dict(result.by_decision)
    return [d for d in load_dialogues(verified_path(candidates)) if d.status == "ok"]


def _replay_with_base(config: TuneConfig, n: int) -> list[dict[str, Any]]:
    from mimir.generate.recipe import replay_records
    from mimir.models.local import LocalModel

    base = LocalModel(None if config.base_model == "embedded" else config.base_model)
    try:
        return replay_records(base, n, config.seed)
    finally:
        base.close()


def _export(dialogues: list[Any], recipe: Any, report: Any) -> list[dict[str, Any]]:
    """Training records: every dialogue closed-book (answers only), and, where the recipe keeps them,
    the dialogues with tool calls once more as the agent's trajectory (thought, call, observation,
    answer) — the paper's agent tuning; the closed-book copy keeps the model answering without tools.
    Dialogues marked ``system_prompt: False`` carry no system message."""
    from mimir.generate.export import export_for_training

    rows = export_for_training(dialogues, include_reasoning=False, include_tools=False)
    if recipe.agent_trajectories:
        with_tools = [d for d in dialogues if any(t.tool_calls for t in d.turns)]
        trajectories = export_for_training(with_tools, include_reasoning=True, include_tools=True)
        for row in trajectories:
            row["metadata"]["trajectory"], row["metadata"]["dialogue_id"] = True, row["id"]
            row["id"] += "-agent"
        report.trajectories = len(trajectories)
        rows += trajectories
    by_id = {d.id: d for d in dialogues}
    for row in rows:
        if not by_id[row["metadata"].get("dialogue_id", row["id"])].meta.get("system_prompt", True) and row["messages"][0]["role"] == "system":
            row["messages"] = row["messages"][1:]
    return rows


def _drop_leaks(questions: list[Any], rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    from mimir.evaluate.evalsets import find_leaks, record_text

    kept = [r for r in rows if not find_leaks(questions, [record_text(r)])]
    return kept, len(rows) - len(kept)


def train_adapter(config: TuneConfig, data: dict[str, Any], out: Path, emit: Callable[..., None],
                  stop: threading.Event | None) -> dict[str, Any]:
    from mimir.config import merge_overrides
    from mimir.train import TrainConfig, train

    preset_defaults = dict(SMALL_TRAIN if data.get("preset") == "small" else ROLEPLAY_TRAIN)
    tconfig = merge_overrides(TrainConfig(), {**preset_defaults, "base_model": config.base_model, "seed": config.seed,
                                              **config.train})

    def on_metrics(record: dict) -> None:
        if "loss" in record and "step" in record:
            emit("train", int(record["step"]), int(record.get("max_steps") or 0), f"step {record['step']} loss {record['loss']:.3f}")

    result = train(tconfig, data["train_path"], str(out), progress=on_metrics,
                   stop=(lambda: stop.is_set()) if stop is not None else None)
    if result.adapter_dir is None:
        raise Stopped("train")
    return {"adapter": result.adapter_dir, "steps": result.steps, "final_loss": result.final_loss,
            "examples": result.train_examples, "settings": {k: getattr(tconfig, k) for k in
                                                            ("epochs", "learning_rate", "rank", "alpha", "max_length", "batch_size")}}


def system_prompt(config: TuneConfig) -> str:
    from mimir.generate.config import GenerateConfig
    from mimir.generate.export import training_system_prompt
    from mimir.generate.planner import pick_roles
    from mimir.generate.roles import load_roles

    gen = GenerateConfig(domain=config.domain)
    book = load_roles(gen.roles_file)
    target, _, _ = pick_roles(book, gen)
    return training_system_prompt(target.name, book)


def run_check(config: TuneConfig, data: dict[str, Any], adapter: str, out: Path, emit: Callable[..., None]) -> dict[str, Any]:
    from mimir.config import merge_overrides
    from mimir.evaluate.evalsets import load_questions
    from mimir.evaluate.knowledge_check import CheckConfig, knowledge_check

    questions = load_questions(data["check_path"])
    emit("check", 0, 2, f"{len(questions)} held-out questions, base and tuned, with and without the system prompt")
    cconfig = merge_overrides(CheckConfig(), {"seed": config.seed, **config.check})
    summary = knowledge_check(config.base_model, adapter, questions, system_prompt(config), out, cconfig,
                              trained=trained_questions(data, cconfig.trained_sample, config.seed))
    emit("check", 2, 2, "done")
    return summary


def trained_questions(data: dict[str, Any], n: int, seed: int) -> list[Any]:
    """A sample of the questions the adapter was trained on, with the value each one asks for."""
    import random

    from mimir.evaluate.evalsets import EvalQuestion
    from mimir.jsonl import read_records

    path = Path(data.get("dialogues_path", ""))
    if n <= 0 or not path.is_file():
        return []
    seen: dict[str, str] = {}
    for record in read_records(path):
        for turn in record.get("turns") or []:
            target = (turn.get("meta") or {}).get("target")
            if turn.get("role") == "user" and target and turn.get("content"):
                seen.setdefault(turn["content"], target)
    items = sorted(seen.items())
    random.Random(seed).shuffle(items)
    return [EvalQuestion(id=f"trained-{i}", question=q, answer="", key_facts=[t]) for i, (q, t) in enumerate(items[:n])]


def write_card_section(adapter: str, check: dict[str, Any]) -> None:
    """Append the knowledge check to the adapter's model card."""
    from mimir.evaluate.knowledge_check import format_check

    card = Path(adapter) / "README.md"
    if not card.is_file():
        return
    text = card.read_text(encoding="utf-8")
    marker = "\n## Knowledge check\n"
    text = text.split(marker)[0].rstrip() + "\n" + marker + "\n```\n" + format_check(check) + "\n```\n"
    card.write_text(text, encoding="utf-8")
    (Path(adapter) / "knowledge_check.json").write_text(json.dumps(check, indent=2, ensure_ascii=False), encoding="utf-8")


# -- command line ----------------------------------------------------------------------------
CONFIGS = {"tune": TuneConfig}  # docs/configuration.md and --print-config list its keys


def configure(parser: argparse.ArgumentParser) -> None:
    from mimir.cliargs import add_config_arguments

    add_config_arguments(parser, TuneConfig, section="tune")
    parser.add_argument("--max-steps", dest="max_steps", type=int, help="Cap on training steps (quick trial runs).")


def config_from_args(args: argparse.Namespace) -> TuneConfig:
    from mimir.cliargs import config_from_args as from_args

    overrides = {"train": {**(getattr(args, "train", None) or {}), "max_steps": args.max_steps}} if args.max_steps is not None else None
    return from_args(TuneConfig, args, section="tune", overrides=overrides, check_files=False)


def run(args: argparse.Namespace) -> int:
    from mimir.cliargs import print_config_requested
    from mimir.config import render_config

    config = config_from_args(args)
    if print_config_requested(args):
        from mimir.generate.recipe import choose_preset

        preset, reason = choose_preset(config.model, config.preset if config.preset != "auto" else config.recipe.get("preset", "auto"))  # type: ignore[arg-type]
        print(render_config(config), end="")
        print(f"# preset: {preset} ({reason})")
        print("# training:", json.dumps({**(SMALL_TRAIN if preset == "small" else ROLEPLAY_TRAIN), **config.train}))
        return 0
    started = time.monotonic()

    def show(event: StageEvent) -> None:
        if event.stage == "log":
            print(event.message, file=sys.stderr)
        else:
            total = f"/{event.total}" if event.total else ""
            print(f"  {event.stage}: {event.done}{total} {event.message}", file=sys.stderr)

    from mimir.runtime import keep_freed_memory_in_heap

    keep_freed_memory_in_heap()  # this process ends with the run; the app's guided run keeps glibc's defaults
    result = tune(config, progress=show)
    print(result.summary())
    print(f"total {time.monotonic() - started:.0f} s")
    return 130 if result.stopped else 0
