"""``python -m mimir experiment --knowledge DIR``: the paper's comparison end to end, resumable.

Stages (each writes into the run folder; a rerun skips the finished ones):
knowledge -> questions -> data:mimir (generate + verify + export) -> data:<baseline> (same size)
-> clean (leak check) -> train:<name> (same settings) -> answers:<name> (closed-book, + base)
-> judge:mimir_vs_<baseline> (reference + LLM both orders) -> table (results.json/.md, chart.png).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from mimir.evaluate.config import ExperimentConfig

PAPER = {"original": 0.87, "self-instruct": 0.75, "baize": 0.77}  # win-or-equal, arXiv 2404.04285


CONFIGS = {"experiment": ExperimentConfig}


def configure(parser: argparse.ArgumentParser) -> None:
    from mimir.cliargs import add_config_arguments

    add_config_arguments(parser, ExperimentConfig, section="experiment", flags={"judge_model": ["--judge-model", "--judge"]})
    parser.add_argument("--epochs", type=float, help="Training epochs for every adapter (sets train.epochs).")
    parser.add_argument("--max-steps", dest="max_steps", type=int, help="Training steps cap for every adapter (sets train.max_steps).")


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    from mimir.cliargs import config_from_args as derive_config

    config = derive_config(ExperimentConfig, args, section="experiment")
    train = dict(config.train)
    if args.epochs is not None:
        train["epochs"] = args.epochs
    if args.max_steps is not None:
        train["max_steps"] = args.max_steps
    config.train = train
    return config


def run(args: argparse.Namespace) -> int:
    from mimir.cliargs import print_config_requested, render_config

    config = config_from_args(args)
    if print_config_requested(args):
        print(render_config(config), end="")
        return 0
    results = run_experiment(config)
    print()
    print(results["table"])
    return 0


def run_experiment(config: ExperimentConfig, echo=print) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from mimir.config import save_config
    from mimir.experiment import stages
    from mimir.evaluate.runstate import RunDir

    started = time.monotonic()
    rd = RunDir(config.run_dir)
    save_config(config, rd.path("experiment.yaml"))
    kb_info = rd.stage("knowledge", lambda: stages.build_knowledge(config, rd.path("kb")), echo)
    kb = stages.open_knowledge(kb_info)
    qpath = rd.path("questions.jsonl")
    rd.stage("questions", lambda: stages.build_questions(config, kb, qpath), echo)
    from mimir.evaluate.evalsets import load_questions

    questions = load_questions(qpath)

    data = rd.path("data", "x").parent
    generator: dict[str, Any] = {}

    def gen_model() -> Any:  # loaded once, only when a data stage must run
        if "model" not in generator:
            generator["model"] = stages._model(config.model)
        return generator["model"]

    presets = list(dict.fromkeys(config.mimir_presets))  # each preset once, in the given order
    arms = [stages.arm_name(p) for p in presets]
    mimir_info = {}
    for preset, arm in zip(presets, arms):
        mimir_info[arm] = rd.stage(f"data_{arm}", lambda preset=preset: stages.build_mimir_data(
            config, kb, gen_model(), data, qpath, preset=preset), echo)
    size = config.baseline_size or max(1, int(mimir_info[arms[0]]["records"]))
    for kind in config.baselines:
        rd.stage(f"data_{kind}", lambda kind=kind: stages.build_baseline_data(config, kind, kb, gen_model(), data, size, qpath), echo)
    if "model" in generator:
        generator.pop("model").close()

    names = [*arms, *config.baselines]
    data_info = {}
    for name in names:
        data_info[name] = rd.stage(
            f"clean_{name}", lambda name=name: stages.clean_training_data(questions, data / f"{name}.jsonl", data / f"{name}.train.jsonl"), echo
        )
    train_info = {}
    for name in names:
        train_info[name] = rd.stage(
            f"train_{name}", lambda name=name: stages.train_adapter(config, data / f"{name}.train.jsonl", rd.path("adapters", name, "x").parent), echo
        )

    system = answer_system_prompt(data / f"{arms[0]}.train.jsonl")
    answers = {}
    for name in ["base", *names]:
        adapter = "" if name == "base" else train_info[name]["adapter"]
        rd.stage(f"answers_{name}", lambda name=name, adapter=adapter: answer_stage(config, questions, adapter, system, rd.path("answers", f"{name}.jsonl")), echo)
        answers[name] = load_answers(rd.path("answers", f"{name}.jsonl"), questions)

    comparisons = {}
    judge_model: dict[str, Any] = {}
    for arm in arms:
        for kind in config.baselines:
            comparisons[f"{arm} vs {kind}"] = rd.stage(
                f"judge_{arm}_vs_{kind}",
                lambda arm=arm, kind=kind: judge_stage(config, questions, answers[arm], answers[kind], arm, kind, judge_model,
                                                       rd.path("eval", f"{arm}_vs_{kind}", "x").parent),
                echo,
            )
    if "model" in judge_model:
        judge_model["model"].close()

    recall = {name: recall_of(questions, answers[name]) for name in ["base", *names]}
    elapsed = time.monotonic() - started
    stage_seconds = {p.stem: json.loads(p.read_text()).get("seconds", 0) for p in (rd.root / "stages").glob("*.json")}
    results = {
        "knowledge": config.knowledge, "questions": len(questions), "judge_model": config.judge_model,
        "generator": config.model, "comparisons": comparisons, "recall": recall, "data": data_info,
        "mimir_data": mimir_info, "training": train_info, "stage_seconds": stage_seconds,
        "total_stage_seconds": round(sum(stage_seconds.values()), 1), "this_run_seconds": round(elapsed, 1),
    }
    results["table"] = format_table(results)
    rd.path("results.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    rd.path("results.md").write_text("```\n" + results["table"] + "\n```\n", encoding="utf-8")
    chart_rows = [{**s, "label": f"{pair} ({judge})"} for pair, c in comparisons.items() for judge, s in c["summaries"].items()]
    if any(r.get("n") for r in chart_rows):
        from mimir.evaluate.chart import save_chart

        save_chart(chart_rows, rd.path("chart.png"), title="MIMIR-data model vs baselines (win / tie / loss)")
    return results


def answer_system_prompt(mimir_train: Path) -> str:
    """Answer with the system prompt the tuned role was trained under (the same for every model)."""
    from mimir.evaluate.prompts import prompt

    with mimir_train.open(encoding="utf-8") as f:
        first = json.loads(f.readline())
    messages = first.get("messages") or []
    if messages and messages[0].get("role") == "system" and messages[0].get("content"):
        return str(messages[0]["content"])
    return prompt("answer_system")


def answer_stage(config: ExperimentConfig, questions: list, adapter: str, system: str, out: Path) -> dict[str, Any]:
    from mimir.evaluate.answering import answer_questions
    from mimir.evaluate.cli import load_answerer

    model = load_answerer(f"local:{config.base_model}" if config.base_model != "embedded" else "local", adapter)
    try:
        answers = answer_questions(model, questions, side=adapter or "base", max_new_tokens=config.max_new_tokens,
                                   system=system, cache=out)
    finally:
        model.close()
    return {"answers": len(answers), "adapter": adapter, "recall": recall_of(questions, answers)}


def load_answers(path: Path, questions: list) -> list:
    from mimir.evaluate.records import Answer
    from mimir.jsonl import read_records

    by_id = {r["question_id"]: Answer.from_dict(r) for r in read_records(path)}
    return [by_id[q.id] for q in questions]


def judge_stage(config: ExperimentConfig, questions: list, answers_a: list, answers_b: list, arm: str, kind: str,
                judge_model: dict[str, Any], out: Path) -> dict[str, Any]:
    from mimir.evaluate.cli import load_answerer
    from mimir.evaluate.judges.base import make_judge
    from mimir.evaluate.pairwise import judge_pair

    judges = []
    for name in config.judges:
        if name == "llm" and "model" not in judge_model:
            judge_model["model"] = load_answerer(config.judge_model)
        judges.append(make_judge(name, model=judge_model.get("model"), max_new_tokens=config.judge_max_new_tokens))
    result = judge_pair(questions, answers_a, answers_b, judges, label_a=arm, label_b=kind, out_dir=out,
                        n_boot=config.bootstrap, seed=config.seed)
    return result.to_dict()


def recall_of(questions: list, answers: list) -> dict[str, float]:
    """Closed-book key-fact recall: mean share of key facts stated, and share of questions fully answered."""
    from mimir.evaluate.judges.reference import fact_recall

    from mimir.evaluate.stats import mean_with_ci

    scores = [fact_recall(a.text, q.key_facts) for q, a in zip(questions, answers) if q.key_facts]
    mean, ci = mean_with_ci(scores)  # 44 questions: one question moves the mean by 0.02
    return {"mean": round(mean, 4), "ci": ci, "all_facts": round(sum(s == 1.0 for s in scores) / len(scores), 4),
            "n": len(scores)}


def _pct(x: float | None) -> str:
    return "  n/a" if x is None else f"{x:5.0%}"


def _cell(s: dict[str, Any] | None) -> str:
    """win-or-equal [CI] (W/T/L), the win rate over decided pairs, both-wrong ties and unparsed verdicts."""
    if not s or s.get("win_or_equal") is None:
        return "n/a" if not s else f"no valid verdicts ({s['invalid']})"
    lo, hi = s["win_or_equal_ci"]
    cell = f"{s['win_or_equal']:.0%} [{lo:.0%}, {hi:.0%}] ({s['wins']}/{s['ties']}/{s['losses']})"
    decided = s.get("decided_win_rate")
    cell += f" dec {decided:.0%}" if decided is not None else " dec n/a"
    if s.get("both_wrong_ties"):
        cell += f" bw {s['both_wrong_ties']}"
    return cell + (f" {s['invalid']} unparsed" if s.get("invalid") else "")


def format_table(r: dict[str, Any]) -> str:
    lines = [
        f"MIMIR experiment on {r['knowledge'] or 'the bundled example'}: {r['questions']} held-out questions, generator {r['generator']}, "
        f"LLM judge {r['judge_model']}",
        f"Run time: {r['total_stage_seconds'] / 60:.1f} min over all stages ({r['this_run_seconds'] / 60:.1f} min in this invocation)",
        "",
        "Win-or-equal of each MIMIR arm, 95% bootstrap CI (W/T/L); dec: wins / (wins + losses); bw: ties where neither",
        "answer states a key fact (win-or-equal counts them as success)",
        f"{'pair':<32} {'reference judge (key facts)':<44} {'LLM judge, both orders':<52} {'flips':>6} {'paper':>6}",
    ]
    for pair, c in r["comparisons"].items():
        cells = [_cell(c["summaries"].get(judge)) for judge in ("reference", "llm")]
        flips = c["summaries"].get("llm", {}).get("position_flip_rate")
        paper = PAPER.get(pair.rsplit(" vs ", 1)[-1])
        lines.append(f"{pair:<32} {cells[0]:<44} {cells[1]:<52} {_pct(flips):>6} {_pct(paper):>6}")
    lines += ["", "Closed-book key-fact recall: mean share of key facts stated [95% bootstrap CI] / questions with all key facts"]
    for name, rec in r["recall"].items():
        size = r["data"].get(name, {})
        extra = f"  trained on {size['records']} records, {size['assistant_words']} answer words" if size else "  (no tuning)"
        ci = f" [{rec['ci'][0]:.2f}, {rec['ci'][1]:.2f}]" if rec.get("ci") else ""
        lines.append(f"{name:<16} {rec['mean']:.2f}{ci} / {rec['all_facts']:.2f}{extra}")
    return "\n".join(lines)
