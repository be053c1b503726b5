"""Evaluate tab: two models answer the same questions closed-book, judges compare them (both orders),
stats with confidence intervals and a chart; plus human side-by-side judging with A/B hidden.

Human verdicts are written as ``judgements_human.jsonl`` next to the automatic judges' files, in
the evaluation stage's own :class:`Judgement` format, so the same statistics apply.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import gradio as gr

from mimir.config import ui_default  # app defaults and help come from the configs
from mimir.evaluate.config import EvalConfig
from mimir.ui.common import guard, remove_uploads, shorten, status, upload_paths
from mimir.ui.text import eta_text
from mimir.ui.context import ASSETS, AppContext, session_model
from mimir.ui.session import Session

EXAMPLE_QUESTIONS = ASSETS / "examples" / "questions.jsonl"
ANSWER_SLICE = 8  # questions answered between two progress updates


def eval_dir(session: Session) -> Path:
    return session.workspace / "evaluate"


BASE = "base"
ADAPTER_PREFIX = "tuned: "


def adapter_choices(session: Session) -> list[tuple[str, str]]:
    """(label, value) pairs worth comparing: every adapter trained in this workspace, newest first, then
    the base model. Values are names, not server paths (``tuned: RUN`` resolves to its adapter folder)."""
    train = session.workspace / "train"
    adapters = [a for a in train.glob("*/adapter") if (a / "adapter_config.json").exists() or any(a.iterdir())]
    adapters.sort(key=lambda a: a.stat().st_mtime, reverse=True)
    choices = [(f"tuned adapter · {a.parent.name}", ADAPTER_PREFIX + a.parent.name) for a in adapters]
    return choices + [("base model (no adapter)", BASE)]


def resolve_spec(session: Session, value: str, base_spec: str = "local") -> str:
    """A choice value (``base``, ``tuned: RUN``) or a model spec typed by the user → a model spec."""
    value = (value or "").strip()
    if not value or value == BASE:
        return base_spec
    if value.startswith(ADAPTER_PREFIX):
        name = value[len(ADAPTER_PREFIX):].strip()
        adapter = session.workspace / "train" / name / "adapter"
        if "/" in name or name.startswith(".") or not adapter.is_dir():
            raise gr.Error(f"No trained adapter named {name!r} in this workspace (train one in the Train tab).")
        return f"{base_spec}@{adapter}"
    return value


def model_dropdowns(session: Session) -> tuple[gr.Dropdown, gr.Dropdown, str, str]:
    """Default comparison: the newest tuned adapter (A) against the base model (B), with readable labels."""
    choices = adapter_choices(session)
    tuned = [c for c in choices if c[1] != BASE]
    a = tuned[0][1] if tuned else BASE
    return (gr.Dropdown(choices=choices, value=a), gr.Dropdown(choices=choices, value=BASE),
            (a[len(ADAPTER_PREFIX):] if tuned else "base"), "base")


def _questions(session: Session, source: str, upload: Any) -> list[Any]:
    from mimir.evaluate.evalsets import load_dataset_questions, load_questions

    if upload is not None:
        return load_questions(Path(getattr(upload, "name", upload)))
    source = (source or "").strip()
    if not source:
        raise gr.Error("Give a question file or a dataset id (or upload a .jsonl).")
    path = Path(source)
    inside = session.workspace / source
    if not path.is_absolute() and inside.is_file():
        path = inside  # a workspace file, named relative to the workspace (e.g. evaluate/questions/...)
    elif not path.is_absolute() and (ASSETS / "examples" / path.name).is_file() and path.parts[-2:-1] == ("examples",):
        path = ASSETS / "examples" / path.name
    if path.is_file() and path.suffix in (".jsonl", ".json"):
        return load_questions(path)
    return load_dataset_questions(source, split="test")


def run_pairwise(
    ctx: AppContext, session: Session, spec_a: str, spec_b: str, label_a: str, label_b: str, source: str, upload: Any,
    judges: list[str], judge_spec: str, max_new_tokens: float, limit: float, progress: Any = None,
) -> tuple[str, str | None, list[list[str]]]:
    """Answer with A and B, run the judges, return (summary markdown, chart path, per-question rows)."""
    from mimir.evaluate.answering import answer_questions
    from mimir.evaluate.judges.base import make_judge
    from mimir.evaluate.pairwise import judge_pair
    from mimir.evaluate.stats import format_summary

    if not judges:
        raise gr.Error("Pick at least one judge.")
    uploads = upload_paths(upload)
    try:
        questions = _questions(session, source, upload)
    finally:
        remove_uploads(uploads)
    if limit and int(limit) > 0:
        questions = questions[: int(limit)]
    session.live["eval_questions"] = questions  # human judging reuses this comparison's questions
    base_spec = session.model_spec or ctx.default_model
    spec_a, spec_b = resolve_spec(session, spec_a, base_spec), resolve_spec(session, spec_b, base_spec)
    label_a, label_b = (label_a or "A").strip(), (label_b or "B").strip()
    out = eval_dir(session)
    # A new comparison starts clean: cached answers and verdicts belong to the previous pair of models
    # (question files live in evaluate/questions/ and stay).
    for pattern in ("answers_*.jsonl", "judgements*.jsonl"):
        for old in out.glob(pattern):
            old.unlink()
    out.mkdir(parents=True, exist_ok=True)
    token = session.secret("endpoint")
    step = progress or (lambda *a, **k: None)
    started, total = time.monotonic(), 2 * len(questions)

    def answer(spec: str, side: str, label: str, offset: int) -> list[Any]:
        model, got = session_model(ctx, spec, token), []
        for end in range(0, len(questions), ANSWER_SLICE):  # slices share the cache: progress between them
            done = offset + end
            step((done, total), desc=f"{label} answers · " + eta_text(done, total, time.monotonic() - started))
            got = answer_questions(model, questions[: end + ANSWER_SLICE], side=side, max_new_tokens=int(max_new_tokens),
                                   cache=out / f"answers_{side}.jsonl")
        return got

    answers_a = answer(spec_a, "a", label_a, 0)
    answers_b = answer(spec_b, "b", label_b, len(questions))
    step((total, total), desc="judging (both orders)")
    made = [make_judge(kind, model=session_model(ctx, judge_spec or "local", token) if kind == "llm" else None)
            for kind in judges]
    result = judge_pair(questions, answers_a, answers_b, made, label_a=label_a, label_b=label_b, out_dir=out)
    (out / "pair.json").write_text(json.dumps({"a": spec_a, "b": spec_b, "label_a": label_a, "label_b": label_b}), encoding="utf-8")
    summary = "\n\n".join(f"**{name} judge**\n\n```\n{format_summary(s, label_a, label_b)}\n```" for name, s in result.summaries.items())
    rows = []
    by_id = {q.id: q for q in questions}
    for name, judgements in result.judgements.items():
        for j in judgements:
            outcome = {"a": f"{label_a} wins", "b": f"{label_b} wins", "tie": "tie"}.get(j.winner, j.winner)
            rows.append([name, j.question_id, shorten(by_id[j.question_id].question, 90), outcome if j.valid else "invalid",
                         "yes" if j.flipped else ""])
    chart = out / "chart.png"
    return summary, _image(chart), rows


def _image(path: Path) -> Any:
    """The chart as pixels (sent through this session's event; the workspace is never served by URL)."""
    if not path.exists():
        return None
    from PIL import Image

    with Image.open(path) as image:
        return image.copy()


def questions_from_knowledge(session: Session, n: float) -> tuple[str, str]:
    """Natural questions (with key facts) spread over this workspace's knowledge, built like the training questions."""
    from mimir.evaluate.evalsets import save_questions
    from mimir.evaluate.knowledge_questions import questions_from_knowledge as make
    from mimir.knowledge import KnowledgeBase

    if not (session.knowledge_dir / "manifest.json").exists():
        raise gr.Error("No knowledge yet: add files or load the example in the Knowledge tab first.")
    questions, counts = make(KnowledgeBase.open(session.knowledge_dir).chunks(), n=int(n))
    if not questions:
        raise gr.Error("The knowledge has no fact sentences (numbers, dates, names) to ask about.")
    # Outside the folder a new comparison cleans, so the next comparison still finds it.
    path = save_questions(questions, session.path("evaluate", "questions", "knowledge_questions.jsonl"))
    rel = str(path.relative_to(session.workspace))
    return rel, status(f"{len(questions)} questions written to {rel} ({', '.join(f'{k} {v}' for k, v in counts.items())})", "ok")


# -- human judging -------------------------------------------------------------------------------
def start_human(session: Session, seed: float) -> tuple[str, str, str, str]:
    """Side-by-side tasks from the last comparison's answers; which side is A stays server-side."""
    from mimir.evaluate.judges.human import make_tasks
    from mimir.evaluate.records import Answer
    from mimir.jsonl import read_records

    out = eval_dir(session)
    if not (out / "answers_a.jsonl").exists() or not (out / "answers_b.jsonl").exists():
        raise gr.Error("Run a comparison first: human judging uses its answers.")
    answers_a = [Answer.from_dict(r) for r in read_records(out / "answers_a.jsonl")]
    answers_b = [Answer.from_dict(r) for r in read_records(out / "answers_b.jsonl")]
    questions = session.live.get("eval_questions")
    if questions is None:
        raise gr.Error("Run a comparison in this session first.")
    done = {r["question_id"] for r in read_records(out / "judgements_human.jsonl")}
    tasks = [t for t in make_tasks(questions, answers_a, answers_b, seed=int(seed)) if t.question_id not in done]
    session.live["human_tasks"] = tasks
    return _show_task(session)


def _show_task(session: Session) -> tuple[str, str, str, str]:
    tasks = session.live.get("human_tasks") or []
    if not tasks:
        return "", "", "", human_summary(session)
    task = tasks[0]
    return (f"**Question:** {task.question}", task.left, task.right,
            status(f"{len(tasks)} comparison(s) left — which answer is better?"))


def choose(session: Session, choice: str) -> tuple[str, str, str, str]:
    from mimir.evaluate.judges.human import record_choice
    from mimir.jsonl import JsonlWriter

    tasks = session.live.get("human_tasks") or []
    if not tasks:
        raise gr.Error("No comparison is waiting; press 'Start human judging'.")
    judgement = record_choice(tasks.pop(0), choice)
    with JsonlWriter(eval_dir(session) / "judgements_human.jsonl") as writer:
        writer.write(judgement.to_dict())
    return _show_task(session)


def human_summary(session: Session) -> str:
    from mimir.evaluate.records import Answer, Judgement
    from mimir.evaluate.stats import format_summary, summarize
    from mimir.jsonl import read_records

    out = eval_dir(session)
    judgements = [Judgement.from_dict(r) for r in read_records(out / "judgements_human.jsonl")]
    if not judgements:
        return status("No human judgements yet.")
    pair = json.loads((out / "pair.json").read_text(encoding="utf-8")) if (out / "pair.json").exists() else {}
    answers_a = [Answer.from_dict(r) for r in read_records(out / "answers_a.jsonl")]
    answers_b = [Answer.from_dict(r) for r in read_records(out / "answers_b.jsonl")]
    summary = summarize(judgements, answers_a, answers_b)
    return "**human judge**\n\n```\n" + format_summary(summary, pair.get("label_a", "A"), pair.get("label_b", "B")) + "\n```"


def _shown(path: Path) -> str:
    """The bundled example file by a short name (no server paths on the page)."""
    return f"examples/{path.name}"


# -- layout --------------------------------------------------------------------------------------
def build(ctx: AppContext, state: gr.State) -> None:
    with gr.Row():
        with gr.Column():
            spec_a = gr.Dropdown([("base model (no adapter)", BASE)], value=BASE, allow_custom_value=True,
                                 label="Model A (the tuned adapter; or any model spec)", elem_id="eval-a")
            label_a = gr.Textbox(value="tuned", label="Label A")
        with gr.Column():
            spec_b = gr.Dropdown([("base model (no adapter)", BASE)], value=BASE, allow_custom_value=True,
                                 label="Model B (the baseline)", elem_id="eval-b")
            label_b = gr.Textbox(value="base", label="Label B")
        with gr.Column():
            source = gr.Textbox(value=_shown(EXAMPLE_QUESTIONS), label="Questions: file or dataset id")
            upload = gr.File(label="…or upload questions (.jsonl)", file_types=[".jsonl", ".json"], height=120)
            with gr.Row():
                n_q = gr.Number(value=40, precision=0, label="…or make N questions", min_width=80)
                make_q = gr.Button("From my knowledge", size="sm")
            made = gr.Markdown()
    with gr.Row():
        judges = gr.CheckboxGroup([("Reference (key facts)", "reference"), ("LLM pairwise, both orders", "llm")],
                                  value=["reference"], label="Judges")
        judge_spec = gr.Textbox(value=ctx.default_model, label="LLM judge model spec")
        max_new = gr.Slider(16, 512, **ui_default(EvalConfig, "max_new_tokens"), step=16, label="Answer max tokens")
        limit = gr.Number(value=0, precision=0, label="Questions (0 = all)")
    with gr.Row():
        refresh = gr.Button("Refresh model list", size="sm")
        run_btn = gr.Button("Compare A vs B", variant="primary", elem_id="eval-run")
    with gr.Row():
        summary = gr.Markdown(elem_id="eval-summary")
        chart = gr.Image(label="Win / tie / loss", type="filepath", interactive=False)
    per_q = gr.Dataframe(headers=["judge", "question id", "question", "outcome", "order flip"], interactive=False, wrap=True)

    with gr.Accordion("Human side-by-side judging (A/B hidden and shuffled)", open=False, elem_id="eval-human"):
        with gr.Row():
            seed = gr.Number(value=0, precision=0, label="Shuffle seed", scale=0)
            start = gr.Button("Start human judging")
        question = gr.Markdown()
        with gr.Row():
            left = gr.Textbox(label="Answer 1", lines=6, interactive=False, elem_classes="answer")
            right = gr.Textbox(label="Answer 2", lines=6, interactive=False, elem_classes="answer")
        with gr.Row():
            left_btn = gr.Button("Answer 1 is better")
            tie_btn = gr.Button("Tie")
            right_btn = gr.Button("Answer 2 is better")
        human_status = gr.Markdown()

    def run(session, a, b, la, lb, src, up, js, jm, mx, lim, progress=gr.Progress()):
        return run_pairwise(ctx, session, a, b, la, lb, src, up, js, jm, mx, lim, progress=progress)

    run_btn.click(guard(run), inputs=[state, spec_a, spec_b, label_a, label_b, source, upload, judges, judge_spec, max_new, limit],
                  outputs=[summary, chart, per_q])
    make_q.click(guard(questions_from_knowledge), inputs=[state, n_q], outputs=[source, made])
    refresh.click(guard(model_dropdowns), inputs=state, outputs=[spec_a, spec_b, label_a, label_b])
    human_out = [question, left, right, human_status]
    start.click(guard(start_human), inputs=[state, seed], outputs=human_out)
    left_btn.click(guard(lambda s: choose(s, "left")), inputs=state, outputs=human_out)
    tie_btn.click(guard(lambda s: choose(s, "tie")), inputs=state, outputs=human_out)
    right_btn.click(guard(lambda s: choose(s, "right")), inputs=state, outputs=human_out)
    return model_dropdowns, [spec_a, spec_b, label_a, label_b]
