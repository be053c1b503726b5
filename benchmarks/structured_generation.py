"""Measure the constrained steps on a real model over a knowledge base (issue 19's acceptance).

    python -m mimir knowledge add /tmp/kb --example
    nice -n 19 python benchmarks/structured_generation.py --kb /tmp/kb --out /tmp/sg --dialogues 8

Prints one JSON object: moderator choices valid, ReAct steps parsed, retriever calls in expert
turns that lacked the answer, CoT / Reflexion fields parsed, peer echo turns in kept dialogues,
verification judge verdicts parsed, pairwise judge verdicts parsed and its flip rate on identical
answers. Every figure is counted from the records of this run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing, like the other benchmarks


def _ratio(num: float, den: float) -> dict:
    return {"n": int(den), "hit": int(num), "pct": round(100 * num / den, 1) if den else None}


def dialogue_figures(dialogues: list) -> dict:
    from mimir.generate.echo import is_echo

    ok = [d for d in dialogues if d.status == "ok"]
    meta = lambda key: sum(d.meta.get(key, 0) for d in ok)  # noqa: E731
    echo_turns = 0
    peer_turns = 0
    for d in ok:
        earlier: list[str] = []
        for t in d.turns:
            if t.role == "tool" or not t.content:
                continue
            if t.speaker not in (d.scenario.roles[0], d.scenario.target_role):
                peer_turns += 1
                echo_turns += is_echo(t.content, earlier)
            earlier.append(t.content)
    return {
        "dialogues": len(dialogues), "ok": len(ok), "failed_errors": [d.error[:160] for d in dialogues if d.status != "ok"][:5],
        "moderator_valid": _ratio(meta("moderator_valid"), meta("moderator_steps")),
        "react_steps_parsed": _ratio(meta("react_steps_parsed"), meta("react_steps")),
        "retrieval_when_lacking": _ratio(meta("lacking_turns_retrieved"), meta("turns_lacking_answer")),
        "retrieval_missed_focus": meta("retrieval_missed"),
        "retriever_calls": meta("retriever_calls"),
        "tool_query_fallbacks": _ratio(meta("tool_query_fallbacks"), meta("tool_arguments")),
        "cot_fields_parsed": _ratio(meta("cot_fields_parsed"), meta("cot_fields")),
        "cot_answer_prefilled": meta("cot_answer_prefilled"),
        "reflexion_fields_parsed": _ratio(meta("reflexion_fields_parsed"), meta("reflexion_fields")),
        "reflexion_critique_echo": meta("reflexion_critique_echo"),
        "reflexion_critique_verdict": meta("reflexion_critique_verdict"),
        "peer_moves": meta("peer_moves"), "echo_reasks": meta("echo_reasks"), "echo_dropped": meta("echo_dropped"),
        "peer_turns_in_ok": peer_turns, "peer_echo_turns_in_ok": echo_turns,
        "ended_by": {k: sum(1 for d in ok if d.meta.get("ended_by") == k) for k in {d.meta.get("ended_by") for d in ok}},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--model", default="local")
    parser.add_argument("--dialogues", type=int, default=8)
    parser.add_argument("--frameworks", default="react,cot,reflexion,none")
    parser.add_argument("--group-sizes", default="4,3")
    parser.add_argument("--verify", type=int, default=6, help="dialogues to judge (0: skip)")
    parser.add_argument("--pairwise", type=int, default=20, help="questions for the pairwise judge (0: skip)")
    parser.add_argument("--skip-generate", action="store_true")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--speaker-selection", default="auto", choices=("auto", "round_robin", "moderator"))
    parser.add_argument("--facts-per-dialogue", type=int, default=2)
    args = parser.parse_args()

    from mimir.generate import GenerateConfig, generate_dialogues, load_dialogues
    from mimir.knowledge import KnowledgeBase
    from mimir.models import load_model

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    kb = KnowledgeBase.open(args.kb)
    model = load_model(args.model)
    figures: dict = {"model": model.name}
    raw = out / "dialogues.jsonl"
    if not args.skip_generate:
        config = GenerateConfig(knowledge=args.kb, output=str(raw), frameworks=args.frameworks.split(","),  # type: ignore[arg-type]
                                group_sizes=[int(g) for g in args.group_sizes.split(",")], max_dialogues=args.dialogues,
                                max_turns=6, facts_per_dialogue=args.facts_per_dialogue, tools=["knowledge_retriever"],
                                max_new_tokens=args.max_new_tokens, speaker_selection=args.speaker_selection)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        def progress(done: int, total: int, d) -> None:  # noqa: ANN001
            print(f"[{time.strftime('%H:%M:%S')}] dialogue {done}/{total} {d.status} {d.scenario.framework} "
                  f"{len(d.scenario.roles)} roles", file=sys.stderr, flush=True)

        generate_dialogues(kb, config, model, raw, progress)
        figures["generate_seconds"] = round(time.perf_counter() - t0, 1)
    dialogues = list(load_dialogues(raw).values())
    figures["generation"] = dialogue_figures(dialogues)
    by_framework = {}
    for fw in sorted({d.scenario.framework for d in dialogues}):
        by_framework[fw] = dialogue_figures([d for d in dialogues if d.scenario.framework == fw])["ok"]
    figures["ok_by_framework"] = by_framework

    if args.verify:
        from mimir.verify import VerifyConfig, verify_dialogues
        from mimir.verify.judge import judge_dialogues

        ok = [d for d in dialogues if d.status == "ok"][: args.verify]
        sub = out / "verify_in.jsonl"
        sub.write_text("".join(json.dumps(d.to_dict()) + "\n" for d in ok), encoding="utf-8")
        t0 = time.perf_counter()
        lookup = {c.id: c for c in kb.chunks()}
        items = [(d, [lookup[c] for c in d.scenario.chunk_ids if c in lookup], []) for d in ok]
        print(f"[{time.strftime('%H:%M:%S')}] judging {len(items)} dialogues", file=sys.stderr, flush=True)
        judged = judge_dialogues(model, items, mode="fix")
        figures["verify_judge"] = {
            "parsed": _ratio(sum(j.verdict != "failed" for j in judged), len(judged)),
            "verdicts": {v: sum(j.verdict == v for j in judged) for v in ("keep", "fix", "reject", "failed")},
            "seconds": round(time.perf_counter() - t0, 1),
            "example": judged[0].last_reply[:300] if judged else "",
        }
        report = verify_dialogues(sub, kb, VerifyConfig(mode="judge"), judge_model=model, out_dir=out / "verify")
        figures["verify_pipeline"] = {"by_decision": dict(report.by_decision), "by_reason": dict(report.by_reason)}

    if args.pairwise:
        figures["pairwise"] = pairwise_figures(model, args.pairwise)
    print(json.dumps(figures, indent=1, default=str))
    (out / "figures.json").write_text(json.dumps(figures, indent=1, default=str), encoding="utf-8")


def pairwise_figures(model, n: int) -> dict:
    from mimir.evaluate.evalsets import EvalQuestion
    from mimir.evaluate.judges.llm import PairwiseLLMJudge
    from mimir.evaluate.records import Answer
    from mimir.models.base import GenerationSettings
    from mimir.resources import package_path

    rows = [json.loads(line) for line in package_path("assets", "examples", "questions.jsonl").read_text().splitlines() if line.strip()][:n]
    questions = [EvalQuestion(id=r["id"], question=r["question"], answer=r["answer"], key_facts=r.get("key_facts", [])) for r in rows]
    system = {"role": "system", "content": "You are a knowledgeable expert assistant. Answer briefly."}
    replies = model.generate([[system, {"role": "user", "content": q.question}] for q in questions],
                             GenerationSettings(max_new_tokens=48, temperature=0.0))
    own = [Answer(question_id=q.id, side="a", model="base", text=r.text) for q, r in zip(questions, replies)]
    same = [Answer(question_id=q.id, side="b", model="base", text=r.text) for q, r in zip(questions, replies)]
    ref = [Answer(question_id=q.id, side="b", model="reference", text=q.answer) for q in questions]
    judge = PairwiseLLMJudge(model)
    t0 = time.perf_counter()
    identical = judge.judge(questions, own, same)
    real = judge.judge(questions, own, ref)
    return {
        "identical": {"parsed": _ratio(sum(j.valid for j in identical), len(identical)),
                      "raw_order_flips": _ratio(sum(j.flipped for j in identical), len(identical)),
                      "decided_not_tie": _ratio(sum(j.winner != "tie" for j in identical), len(identical))},
        "model_vs_reference": {"parsed": _ratio(sum(j.valid for j in real), len(real)),
                               "raw_order_flips": _ratio(sum(j.flipped for j in real), len(real)),
                               "winners": {w: sum(j.winner == w for j in real) for w in ("a", "b", "tie")}},
        "seconds": round(time.perf_counter() - t0, 1),
    }


if __name__ == "__main__":
    main()
