"""``python -m mimir evaluate --a SPEC --b SPEC --questions FILE [--judge reference --judge llm]``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from mimir.cliargs import add_config_arguments, print_config_requested, render_config
from mimir.cliargs import config_from_args as derive_config
from mimir.errors import ConfigError
from mimir.evaluate.config import EvalConfig


CONFIGS = {"evaluate": EvalConfig}


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, EvalConfig, section="evaluate",
                         flags={"dataset_split": ["--dataset-split", "--split"], "judges": ["--judges", "--judge"]})
    parser.add_argument("--out", default="runs/evaluate", help="Output folder (answers, judgements, summary.json, chart.png).")


def config_from_args(args: argparse.Namespace) -> EvalConfig:
    config = derive_config(EvalConfig, args, section="evaluate")
    if print_config_requested(args):
        return config
    if not config.questions:
        raise ConfigError("no questions: pass --questions FILE (or set questions: in the config file)")
    from mimir.models.registry import ModelConfig

    for spec in {config.a, config.b, *([config.judge_model] if "llm" in config.judges else [])}:
        ModelConfig.from_spec(spec)  # a bad spec fails before any model loads
    for name in ("adapter_a", "adapter_b"):
        if getattr(config, name) and not Path(getattr(config, name)).is_dir():
            raise ConfigError(f"evaluate.{name}: adapter folder {getattr(config, name)} does not exist")
    return config


class ModelPool:
    """Loads each distinct (spec, adapter) once, so A, B and the judge can share a model."""

    def __init__(self, batch_size: int = 16) -> None:
        self.batch_size = batch_size
        self._models: dict[tuple[str, str], Any] = {}

    def get(self, spec: str, adapter: str = "") -> Any:
        key = (spec, adapter)
        if key not in self._models:
            self._models[key] = load_answerer(spec, adapter, self.batch_size)
        return self._models[key]

    def close(self) -> None:
        for model in self._models.values():
            model.close()
        self._models.clear()


def load_answerer(spec: str, adapter: str = "", batch_size: int = 16) -> Any:
    """A model from its spec; ``adapter`` (a peft folder) goes on top of a local model."""
    from mimir.models.registry import ModelConfig, load_model

    config = ModelConfig.from_spec(spec)
    config.batch_size = batch_size
    if adapter:
        if config.backend != "local":
            raise ConfigError(f"an adapter needs a local model, but the spec is {spec!r}")
        if not Path(adapter).is_dir():
            raise ConfigError(f"adapter folder {adapter} does not exist")
        config.adapter = adapter
    return load_model(config)


def load_eval_questions(config: EvalConfig):
    from mimir.evaluate.evalsets import load_dataset_questions, load_questions

    path = Path(config.questions)
    if path.is_file() and path.suffix in (".jsonl", ".json"):
        return load_questions(path)
    return load_dataset_questions(config.questions, split=config.dataset_split)


def run(args: argparse.Namespace) -> int:
    from mimir.evaluate.answering import answer_questions
    from mimir.evaluate.judges.base import make_judge
    from mimir.evaluate.pairwise import judge_pair
    from mimir.evaluate.stats import format_summary

    config = config_from_args(args)
    if print_config_requested(args):
        print(render_config(config), end="")
        return 0
    questions = load_eval_questions(config)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pool = ModelPool(config.batch_size)
    try:
        answers_a = answer_questions(pool.get(config.a, config.adapter_a), questions, side="a",
                                     max_new_tokens=config.max_new_tokens, cache=out / "answers_a.jsonl")
        answers_b = answer_questions(pool.get(config.b, config.adapter_b), questions, side="b",
                                     max_new_tokens=config.max_new_tokens, cache=out / "answers_b.jsonl")
        judges = [make_judge(kind, tie_margin=config.tie_margin, max_new_tokens=config.judge_max_new_tokens,
                             model=pool.get(config.judge_model) if kind == "llm" else None)
                  for kind in config.judges]
        result = judge_pair(questions, answers_a, answers_b, judges, label_a=config.label_a, label_b=config.label_b,
                            out_dir=out, n_boot=config.bootstrap, seed=config.seed)
    finally:
        pool.close()
    for summary in result.summaries.values():
        print(format_summary(summary, config.label_a, config.label_b))
    print(f"report: {out / 'summary.json'}" + (f", chart: {out / 'chart.png'}" if (out / "chart.png").exists() else ""))
    (out / "config.json").write_text(json.dumps(config.__dict__, indent=2), encoding="utf-8")
    return 0
