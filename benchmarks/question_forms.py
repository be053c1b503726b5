"""Every rule-built question and answer of a document, no model: dump them, or diff two dumps.

A change to the question rules is read through what it does to every handbook's questions, before any
training run: which questions it removes (were they broken?) and which it adds (do they read as a
person's?). Run:

    python benchmarks/question_forms.py dump benchmarks/holdout/city-pool/handbook.md before.json
    ... change the rules ...
    python benchmarks/question_forms.py dump benchmarks/holdout/city-pool/handbook.md after.json
    python benchmarks/question_forms.py diff before.json after.json

Keep the held-out question files (questions.jsonl) out of this: only the handbook is read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def dump(document: str, out: str) -> None:
    from mimir.generate.recipe import RecipeConfig, RecipeReport, answer_for, plan_facts, split_held_out
    from mimir.knowledge.chunking import chunk_document
    from mimir.knowledge.loaders import load_document

    config, report = RecipeConfig(), RecipeReport()
    plans = plan_facts(chunk_document(load_document(document)), config, report)
    split_held_out(plans, config, report)
    rows = [{"sentence": p.sentence, "target": p.target, "train": p.train, "held_out": p.held_out,
             "answers": sorted({answer_for(p, form) for form in range(2)})} for p in plans]
    Path(out).write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    asked = sum(1 for p in plans if p.train)
    several = sum(1 for p in plans if len(p.train) + len(p.held_out) >= 2)
    print(f"{len(plans)} facts, {asked} with a training question, {several} with 2+ forms, "
          f"{sum(len(p.train) for p in plans)} training forms -> {out}")


def diff(before: str, after: str) -> None:
    def forms(path: str) -> dict[tuple[str, str], set[str]]:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
        return {(r["sentence"], r["target"]): set(r["train"] + r["held_out"]) for r in rows}

    old, new = forms(before), forms(after)
    for key in sorted(old.keys() | new.keys()):
        lost, gained = old.get(key, set()) - new.get(key, set()), new.get(key, set()) - old.get(key, set())
        if lost or gained:
            print(f"{key[1]!r} in: {key[0]}")
            for text in sorted(lost):
                print(f"  - {text}")
            for text in sorted(gained):
                print(f"  + {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="write every fact's questions and answers of DOCUMENT to OUT (JSON)")
    d.add_argument("document")
    d.add_argument("out")
    c = sub.add_parser("diff", help="print the questions one dump has and the other lacks")
    c.add_argument("before")
    c.add_argument("after")
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.document, args.out)
    else:
        diff(args.before, args.after)


if __name__ == "__main__":
    main()
