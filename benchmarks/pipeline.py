"""Handbook -> adapter: wall time of each stage of ``mimir.tune.tune`` at 1x, 4x and 16x the handbook.

The bundled handbook (mimir/assets/examples/riverbend-clinic-handbook.md, ~1,000 words) is
concatenated with k-1 variants of itself whose facts are renamed: another town for "Riverbend",
other people, rooms, drugs and alarm codes, and phone extensions moved by 1000 per variant, so
every copy holds its own facts (the recipe's duplicate checks do not fold them together). Each
size runs ``tune`` in a fresh run folder, in this process, with the same settings; the check
questions are the held-out ones the recipe makes (the hand-written questions.jsonl fits 1x only).

Per size it prints the seconds of each stage (knowledge, data, train, check; TuneResult.seconds),
the data stage split at its progress events (facts planned, questions worded, dialogues built,
replay + export), the sizes that drive the cost (facts, records, training steps, check
questions), and, for every size after the first, each stage's growth over the smallest size and
that growth divided by the size ratio (1.0 = linear; above 1 grows faster than the handbook).

    python benchmarks/pipeline.py                       # 1x, 4x, 16x with the recipe's defaults (hours on 2 cores)
    python benchmarks/pipeline.py --sizes 1 --capped    # a quick shape check: 5 training steps, 2 questions per fact
    python benchmarks/pipeline.py --sizes 1,4 --train-steps 10   # real data and check, training sampled

``--train-steps N`` runs the recipe's data stage and knowledge check as they are but stops training
after N steps, and projects the full training time from the measured seconds per step and the
steps the full run would take (epochs x batches of the real training set); the projection is
printed beside the measured stages, marked as such. The sampled steps draw batches at random
(``group_by_length`` off): with it on, the first steps are the short records and the projection
came out at about 0.6x a real run (1,086 s projected for the 1x handbook; full runs of ~1,000-word
handbooks train 1,768-2,061 s); at random it came out at 1,596 s (each batch pads to its longest
record, while the real run groups by length, so read it as the right order, not an exact figure).

Measured (2-core AMD EPYC, AVX2, fp32; ``--train-steps 8``, alone on the machine; two runs, 1x in each):

     size  words  facts  records  checkQ   data   train (projected from 8 steps)   check
       1x   1017    121      245      45   47-57 s   2,960-3,112 s                   144-149 s
       4x   4068    280      524      67   46 s      4,929 s                          183 s
      16x  16284    916    1,797     196   58 s      14,810 s (~4 h)                  422 s

The renamed copies ask many of the same questions ("Who runs the front desk?") with other answers,
which the recipe drops as ambiguous, so 16x the words made 7.6x the facts and 7.3x the records.
Growth over 1x at 16x: data 1.24x (its cost is mostly the replay answers and the model load),
training 5.0x (projected), check 2.9x for 4.4x the questions: no stage grew faster than the facts it
was given. The projection is pessimistic (random batches pad more: the 1x run trains ~1,600 s in
full, see README).

``--capped`` sets TuneConfig(train={"max_steps": 5}, recipe={"questions_per_fact": 2},
check={"general_passages": 4}): stage times then show the fixed costs (model loads, imports)
more than the per-fact work, so read its growth figures as a lower bound of the real recipe's.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HANDBOOK = ROOT / "mimir" / "assets" / "examples" / "riverbend-clinic-handbook.md"
STAGES = ("knowledge", "data", "train", "check")
CAPS = {"train": {"max_steps": 5}, "recipe": {"questions_per_fact": 2}, "check": {"general_passages": 4}}

# Names in the handbook, and per name a pool its variants draw from (variant i takes pool[i - 1]).
_TOWNS = ["Ashford", "Brookvale", "Corran", "Dunmore", "Eastwick", "Fairhaven", "Glenrock", "Harrowgate", "Ivybridge",
          "Juniper Falls", "Kestrel Point", "Larkspur", "Moorfield", "Northgate", "Oakhaven", "Pinecrest", "Quarry Hill"]
_FIRST = ["Nadia", "Oskar", "Ingrid", "Rafael", "Mei", "Tobias", "Leila", "Bruno", "Anika", "Callum", "Yara", "Dmitri",
          "Elif", "Henrik", "Zora", "Mateo", "Sigrid", "Kwame", "Ines", "Lucan"]
_LAST = ["Lindqvist", "Mbeki", "Castellano", "Hoshino", "Petrov", "Adebayo", "Kowalczyk", "Nakamura", "Oyelaran", "Brennan",
         "Szabo", "Delacroix", "Haddad", "Varga", "Ostrowski", "Fairweather", "Quintero", "Rasmussen", "Tanaka", "Eriksen"]
_PEOPLE = ["Amara Okafor", "Delphine Moreau", "Lena Vasquez", "Priya Raman", "Tomasz Wierzbicki", "Samuel Adeyemi",
           "Martin Achterberg", "Joaquim Ferreira"]
_POOLS = {
    "Millrace": ["Tanner", "Quayside", "Fenwick", "Harbour", "Osier", "Copperleaf", "Mill Pond", "Saltmarsh", "Beacon",
                 "Gorse", "Larch", "Elmstead", "Weaver", "Foundry", "Otter Bank", "Chalkpit"],
    "Cedar": ["Maple", "Rowan", "Alder", "Hazel", "Aspen", "Linden", "Sycamore", "Hawthorn", "Juniper", "Spruce", "Walnut",
              "Poplar", "Cypress", "Magnolia", "Chestnut", "Yew"],
    "Willow": ["Birch", "Elder", "Holly", "Laurel", "Myrtle", "Olive", "Hemlock", "Acacia", "Bay", "Fir", "Sequoia",
               "Tamarind", "Baobab", "Cherry", "Pear", "Plum"],
    "Lark": ["Wren", "Finch", "Robin", "Swift", "Plover", "Curlew", "Thrush", "Linnet", "Kestrel", "Merlin", "Dunlin",
             "Starling", "Siskin", "Warbler", "Bunting", "Petrel"],
    "Tamsoril": [f"Tamso{s}" for s in ("vex", "dral", "nix", "quor", "lent", "mab", "pril", "zine", "tol", "gard", "fex",
                                       "ral", "dine", "mox", "sar", "vil")],
    "Halvorin": [f"Halvo{s}" for s in ("dex", "mid", "tran", "zol", "pine", "cort", "lax", "mera", "sin", "brex", "quil",
                                       "tane", "fyl", "nor", "gan", "vast")],
    "Drovanex": [f"Drova{s}" for s in ("lin", "mor", "tide", "crel", "pax", "sone", "dur", "quin", "vel", "trix", "bane",
                                       "lox", "ment", "pral", "cid", "zon")],
    "Corvalex": [f"Corva{s}" for s in ("trin", "dol", "mesin", "pril", "zide", "fen", "lux", "nate", "rox", "tal", "bix",
                                       "dene", "gol", "sart", "vane", "quel")],
    "Teal": ["Amber", "Indigo", "Saffron", "Crimson", "Ochre", "Cobalt", "Jade", "Umber", "Violet", "Scarlet", "Ivory",
             "Russet", "Azure", "Cerise", "Olive", "Mauve"],
    "Slate": ["Granite", "Basalt", "Flint", "Marble", "Quartz", "Shale", "Obsidian", "Pumice", "Chalk", "Jasper", "Onyx",
              "Gneiss", "Agate", "Mica", "Garnet", "Opal"],
    "Lantern": ["Beacon", "Candle", "Torch", "Lamp", "Flare", "Signal", "Ember", "Spark", "Glow", "Prism", "Mirror",
                "Compass", "Anchor", "Harbor", "Bell", "Whistle"],
    "Heron": ["Egret", "Crane", "Stork", "Ibis", "Gannet", "Osprey", "Kite", "Pelican", "Cormorant", "Tern", "Puffin",
              "Avocet", "Bittern", "Godwit", "Shrike", "Kingfisher"],
}


def variant(text: str, i: int) -> str:
    """The handbook with its facts renamed for copy ``i`` (0: the original)."""
    if i == 0:
        return text
    names = {"Riverbend": _TOWNS[(i - 1) % len(_TOWNS)]}
    for j, person in enumerate(_PEOPLE):
        names[person] = f"{_FIRST[(i * 3 + j) % len(_FIRST)]} {_LAST[(i * 7 + j * 3) % len(_LAST)]}"
    names.update({word: pool[(i - 1) % len(pool)] for word, pool in _POOLS.items()})
    pattern = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
    text = pattern.sub(lambda m: names[m.group(0)], text)
    # extensions and short numbers: "extension 2147" -> "extension 3147" (variant 1), ...
    return re.sub(r"\bextension (\d{4})\b", lambda m: f"extension {int(m.group(1)) + 1000 * i}", text)


def build_knowledge(folder: Path, k: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = HANDBOOK.read_text(encoding="utf-8")
    (folder / "handbook.md").write_text("\n\n".join(variant(text, i) for i in range(k)), encoding="utf-8")
    return folder


def run_size(k: int, work: Path, args: argparse.Namespace) -> dict:
    from mimir.tune import TuneConfig, tune

    knowledge = build_knowledge(work / f"knowledge-{k}x", k)
    overrides = dict(CAPS) if args.capped else {}
    if args.train_steps:
        overrides["train"] = {**overrides.get("train", {}), "max_steps": args.train_steps, "group_by_length": False}
    config = TuneConfig(knowledge=str(knowledge), run_dir=str(work / f"run-{k}x"), model=args.model, seed=0, **overrides)
    marks: list[tuple[float, str, int]] = []  # (time, stage, done) of every progress event
    t0 = time.perf_counter()

    shown = {"stage": "", "at": 0.0}

    def progress(event) -> None:  # type: ignore[no-untyped-def]
        if event.stage == "log":
            return
        now = time.perf_counter()
        marks.append((now, event.stage, event.done))
        if event.stage != shown["stage"] or now - shown["at"] > 60:  # a live line per stage, then one a minute
            shown.update(stage=event.stage, at=now)
            print(f"    {k}x {now - t0:7.1f}s {event.stage}: {event.done}/{event.total} {event.message}", flush=True)

    result = tune(config, progress=progress)
    wall = time.perf_counter() - t0
    if result.stopped:
        raise SystemExit(f"{k}x: tune stopped early")
    data_marks = {done: t for t, stage, done in marks if stage == "data" and 0 <= done <= 4}
    phases = {}
    for a, b, name in ((0, 1, "plan facts"), (1, 2, "word questions"), (2, 3, "build dialogues"), (3, 4, "replay+export")):
        if a in data_marks and b in data_marks and data_marks[b] >= data_marks[a]:
            phases[name] = data_marks[b] - data_marks[a]
    words = len((knowledge / "handbook.md").read_text(encoding="utf-8").split())
    projected = _projected_train(result.train, args.train_steps) if args.train_steps else None
    return {"k": k, "words": words, "wall": wall, "seconds": dict(result.seconds), "phases": phases, "projected_train": projected,
            "facts": result.data.get("facts"), "records": result.data.get("records"),
            "check_questions": result.data.get("check_questions"), "steps": result.train.get("steps"),
            "recall": {name: _recall(result.check, name) for name in ("base", "tuned")}}


def _projected_train(train: dict, steps: int) -> float | None:
    """Seconds the full training would take: the sampled run's seconds per step (model load included,
    so a slight over-estimate) times epochs x batches of its training set."""
    import math

    settings = train.get("settings") or {}
    done, seconds, examples = train.get("steps") or 0, train.get("seconds") or 0.0, train.get("examples") or 0
    if not (done and seconds and examples and settings.get("batch_size") and settings.get("epochs")):
        return None
    full = math.ceil(examples / settings["batch_size"]) * settings["epochs"]
    return seconds / done * full


def _stage_seconds(row: dict, stage: str) -> float:
    """A stage's seconds; training projected to the full run when it was sampled (total: the sum)."""
    if stage == "total":
        return sum(_stage_seconds(row, s) for s in STAGES)
    if stage == "train" and row.get("projected_train"):
        return row["projected_train"]
    return row["seconds"].get(stage, 0.0)


def _recall(check: dict, name: str) -> float | None:
    """Closed-book recall with the system prompt, as the knowledge check reports it."""
    try:
        return float(check[name]["with_system_prompt"]["recall"])
    except (KeyError, TypeError, ValueError):
        return None


def report(rows: list[dict]) -> None:
    print()
    header = f"{'size':>5} {'words':>6} {'facts':>6} {'records':>8} {'steps':>6} {'checkQ':>6} " + \
             " ".join(f"{s:>10}" for s in STAGES) + f" {'total':>8}"
    print(header)
    for r in rows:
        print(f"{r['k']:>4}x {r['words']:>6} {r['facts'] or 0:>6} {r['records'] or 0:>8} {r['steps'] or 0:>6} "
              f"{r['check_questions'] or 0:>6} " + " ".join(f"{r['seconds'].get(s, 0.0):>9.1f}s" for s in STAGES)
              + f" {r['wall']:>7.1f}s")
        recall = ", ".join(f"{n} {v:.2f}" for n, v in r["recall"].items() if v is not None)
        if recall:
            print(f"       recall on {r['check_questions']} held-out questions: {recall}")
        if r.get("projected_train"):
            print(f"       train projected to the full run: {r['projected_train']:.0f}s "
                  f"(measured {r['seconds'].get('train', 0.0):.0f}s for {r['steps']} steps)")
        if r["phases"]:
            print("       data stage: " + ", ".join(f"{n} {v:.1f}s" for n, v in r["phases"].items()))
    base = rows[0]
    if len(rows) == 1:
        print("\ngrowth: only one size was run; pass --sizes 1,4,16 for the per-stage growth")
        return
    print(f"\ngrowth over {base['k']}x (stage seconds ratio; in brackets the ratio / size ratio, 1.0 = linear):")
    for r in rows[1:]:
        size_ratio = r["words"] / base["words"]
        parts = []
        for s in (*STAGES, "total"):
            a, b = (_stage_seconds(row, s) for row in (base, r))
            parts.append(f"{s} {b / a:.2f}x [{b / a / size_ratio:.2f}]" if a > 0 else f"{s} n/a")
        print(f"  {r['k']:>2}x ({size_ratio:.1f}x the words): " + ", ".join(parts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,4,16", help="Handbook multiples, comma-separated (the first is the baseline).")
    parser.add_argument("--capped", action="store_true", help="5 training steps, 2 questions per fact, 4 general passages.")
    parser.add_argument("--train-steps", type=int, default=0,
                        help="Stop training after this many steps and project the full training time (0: train fully).")
    parser.add_argument("--model", default="local", help="Generator model spec (the tune default: local).")
    parser.add_argument("--work", default="", help="Folder for the runs (default: a new temporary folder).")
    parser.add_argument("--json", default="", help="Also write the measurements here.")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or any(k < 1 for k in sizes):
        parser.error("--sizes: positive integers, e.g. 1,4,16")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="mimir-pipeline-"))
    import os

    print(f"tune on the bundled handbook at {', '.join(f'{k}x' for k in sizes)}; model {args.model}; "
          f"{'CAPPED: ' + json.dumps(CAPS) if args.capped else 'recipe defaults'}; {os.cpu_count()} CPUs; work {work}")
    print("note: a shared machine (other jobs running) makes every figure noisy; compare sizes from one run only")
    rows = []
    for k in sizes:
        row = run_size(k, work, args)
        rows.append(row)
        print(f"  {k}x done in {row['wall']:.1f}s: " + ", ".join(f"{s} {row['seconds'].get(s, 0.0):.1f}s" for s in STAGES),
              flush=True)
    report(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
