"""The knowledge check after every training run: did the adapter learn the facts, and what did
tuning cost elsewhere?

- **Recall**: held-out questions (never trained on) answered closed-book by the base and the tuned
  model, each asked under the training system prompt and in a plain chat without one (a user loads
  the adapter into any chat). A question counts when the answer states every key fact. Each figure
  comes with a bootstrap 95% interval.
- **Forgetting**: perplexity of base and tuned model on general text that ships offline with
  Python itself (``pydoc_data.topics``: the language reference's topic pages), so the check needs
  no download and reads the same on every machine; and **chat drift**: perplexity of both on the
  base model's own answers to general chat prompts (``check_chat_prompts``, never used for
  training replay) — how far tuning moved everyday answers, not only prose.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mimir.evaluate.evalsets import EvalQuestion
from mimir.facts.text import contains_fact

log = logging.getLogger(__name__)


@dataclass
class CheckConfig:
    """Settings of the knowledge check (``tune`` runs it after training)."""

    max_new_tokens: int = 40
    general_passages: int = 16
    passage_tokens: int = 256
    bootstrap: int = 2000
    seed: int = 0
    examples: int = 6
    trained_sample: int = 40  # training questions asked again: "stored" (learnt) vs "generalised" (held-out)
    chat_prompts: int = 16  # general chat prompts for the chat-drift figure (0: skip it)


def general_passages(n: int) -> list[str]:
    """``n`` passages of general English text that ship with Python (its language reference topics)."""
    from pydoc_data.topics import topics

    keys = sorted(k for k, v in topics.items() if len(v) > 1500)
    step = max(1, len(keys) // max(1, n))
    return [" ".join(topics[k].split())[:2000] for k in keys[::step][:n]]


def perplexity(model: Any, tokenizer: Any, passages: list[str], max_tokens: int = 256) -> float:
    """Token-level perplexity of ``model`` on ``passages`` (each cut to ``max_tokens``)."""
    import torch

    total_nll, total_tokens = 0.0, 0
    device = next(model.parameters()).device
    with torch.no_grad():
        for text in passages:
            ids = tokenizer(text, return_tensors="pt", truncation=True, max_length=max_tokens).input_ids.to(device)
            if ids.shape[1] < 2:
                continue
            out = model(input_ids=ids, labels=ids)
            n = ids.shape[1] - 1
            total_nll += float(out.loss) * n
            total_tokens += n
    return math.exp(total_nll / max(1, total_tokens))


def chat_texts(model: Any, n: int, max_new_tokens: int = 64) -> list[str]:
    """The base model's greedy answers to ``n`` general chat prompts, each as one chat-formatted text."""
    from mimir.models.base import GenerationSettings
    from mimir.prompts import load_prompts

    prompts = [str(p) for p in load_prompts("evaluate")["check_chat_prompts"]][:n]
    if not prompts:
        return []
    replies = model.generate([[{"role": "user", "content": p}] for p in prompts],
                             GenerationSettings(max_new_tokens=max_new_tokens, temperature=0.0))
    chats = [[{"role": "user", "content": p}, {"role": "assistant", "content": r.text.strip()}] for p, r in zip(prompts, replies)]
    return [model.tokenizer.apply_chat_template(c, tokenize=False) for c in chats if c[1]["content"]]


def recall(questions: list[EvalQuestion], answers: list[str], n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Share of questions whose answer states all key facts, with its 95% interval."""
    from mimir.evaluate.stats import mean_with_ci

    hits = [float(all(contains_fact(a, [f]) for f in q.key_facts)) for q, a in zip(questions, answers)]
    mean, ci = mean_with_ci(hits, n_boot=n_boot, seed=seed)
    return {"recall": round(mean, 3), "ci95": [round(ci[0], 3), round(ci[1], 3)], "correct": int(sum(hits)), "questions": len(hits)}


def _answers(model: Any, questions: list[EvalQuestion], system: str | None, max_new_tokens: int) -> list[str]:
    from mimir.evaluate.answering import answer_questions

    answers = answer_questions(model, questions, side="check", max_new_tokens=max_new_tokens, system=system or "")
    return [a.text for a in answers]


def check_model(model: Any, questions: list[EvalQuestion], system: str, config: CheckConfig) -> dict[str, Any]:
    """Recall with and without the system prompt, and general-text perplexity, of one loaded model."""
    with_system = _answers(model, questions, system, config.max_new_tokens)
    plain = _answers(model, questions, None, config.max_new_tokens)
    ppl = perplexity(model.model, model.tokenizer, general_passages(config.general_passages), config.passage_tokens)
    return {
        "with_system_prompt": recall(questions, with_system, config.bootstrap, config.seed),
        "without_system_prompt": recall(questions, plain, config.bootstrap, config.seed),
        "general_perplexity": round(ppl, 2),
        "answers": {"with_system_prompt": with_system, "without_system_prompt": plain},
    }


def knowledge_check(
    base_model: str, adapter_dir: str | None, questions: list[EvalQuestion], system: str, out: str | Path,
    config: CheckConfig | None = None, base_result: dict[str, Any] | None = None,
    trained: list[EvalQuestion] | None = None,
) -> dict[str, Any]:
    """Check base and tuned model on the same questions; writes ``out`` (JSON) and returns it.

    ``base_result`` (an earlier :func:`check_model` of the base) skips re-checking the base.
    ``trained`` (questions the adapter was trained on) are asked of the tuned model too: a low
    held-out recall with a high "stored" one means the facts are in but the wording did not
    generalise; both low means the training did not store them."""
    from mimir.models.local import LocalModel

    config = config or CheckConfig()
    if not questions:
        raise ValueError("the knowledge check needs at least one held-out question")
    results: dict[str, Any] = {}
    if base_result is None:
        base = LocalModel(None if base_model == "embedded" else base_model)
        try:
            base_result = check_model(base, questions, system, config)
            if config.chat_prompts:
                base_result["chat_texts"] = chat_texts(base, config.chat_prompts)
                base_result["chat_perplexity"] = round(perplexity(base.model, base.tokenizer, base_result["chat_texts"]), 2)
        finally:
            base.close()
    results["base"] = base_result
    if adapter_dir:
        tuned = LocalModel(None if base_model == "embedded" else base_model, adapter=adapter_dir)
        try:
            results["tuned"] = check_model(tuned, questions, system, config)
            if base_result.get("chat_texts"):
                results["tuned"]["chat_perplexity"] = round(perplexity(tuned.model, tuned.tokenizer, base_result["chat_texts"]), 2)
            if trained:
                sample = trained[: config.trained_sample]
                answers = _answers(tuned, sample, None, config.max_new_tokens)
                results["tuned"]["stored"] = recall(sample, answers, config.bootstrap, config.seed)
        finally:
            tuned.close()
    summary = summarize(results, questions, config.examples)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps({**summary, "details": results}, indent=2, ensure_ascii=False), encoding="utf-8")
    return summary


def summarize(results: dict[str, Any], questions: list[EvalQuestion], examples: int = 6) -> dict[str, Any]:
    """Headline figures and a few answers side by side."""
    base, tuned = results["base"], results.get("tuned")
    out: dict[str, Any] = {"questions": len(questions)}
    for name, r in (("base", base), ("tuned", tuned)):
        if r:
            out[name] = {k: r[k] for k in ("with_system_prompt", "without_system_prompt", "general_perplexity", "chat_perplexity",
                                           "stored") if k in r}
    if tuned:
        out["perplexity_change"] = round(tuned["general_perplexity"] / base["general_perplexity"] - 1, 3)
        if tuned.get("chat_perplexity") and base.get("chat_perplexity"):
            out["chat_perplexity_change"] = round(tuned["chat_perplexity"] / base["chat_perplexity"] - 1, 3)
        rows = []
        for i, q in enumerate(questions[:examples]):
            rows.append({"question": q.question, "key_facts": q.key_facts,
                         "base": base["answers"]["without_system_prompt"][i], "tuned": tuned["answers"]["without_system_prompt"][i]})
        out["examples"] = rows
    return out


def format_check(summary: dict[str, Any]) -> str:
    """A short plain-text report of :func:`knowledge_check`'s summary."""
    lines = [f"knowledge check on {summary['questions']} held-out questions (closed book):"]
    for name in ("base", "tuned"):
        r = summary.get(name)
        if not r:
            continue
        w, p = r["with_system_prompt"], r["without_system_prompt"]
        lines.append(f"  {name:5s} recall {w['recall']:.2f} [{w['ci95'][0]:.2f}, {w['ci95'][1]:.2f}] with system prompt, "
                     f"{p['recall']:.2f} [{p['ci95'][0]:.2f}, {p['ci95'][1]:.2f}] without; general perplexity {r['general_perplexity']:.1f}")
    stored = (summary.get("tuned") or {}).get("stored")
    if stored:
        lines.append(f"  stored: the tuned model answers {stored['recall']:.2f} [{stored['ci95'][0]:.2f}, {stored['ci95'][1]:.2f}] "
                     f"of {stored['questions']} of its own training questions")
    if "perplexity_change" in summary:
        lines.append(f"  general perplexity change: {summary['perplexity_change']:+.1%}")
    if "chat_perplexity_change" in summary:
        lines.append(f"  chat drift: {summary['chat_perplexity_change']:+.1%} perplexity on the base model's own answers "
                     "to general chat prompts")
    return "\n".join(lines)
