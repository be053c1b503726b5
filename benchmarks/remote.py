"""Past one machine: generation and judging against an OpenAI-compatible endpoint, concurrency 1 vs 16.

A loopback OpenAI-compatible server (tests/fakes/openai_server.py) answers every request after
an injected latency (default 0.5 s: a remote server's time for a
~30-token reply at 64 tokens/s per stream), so what is
measured is how well MIMIR keeps requests in flight, not the server. Three workloads, each run
at ``concurrency=1`` and ``concurrency=16`` in this process (the model spec's ``?concurrency=N``):

- ``batch``:    one ``generate`` call of 64 conversations (the client alone);
- ``generate``: ``generate_dialogues`` on the bundled handbook, 32 dialogues, 16 in flight
                (multi-turn role-play: each dialogue's next turn waits for its last reply);
- ``judge``:    ``python -m mimir evaluate`` with an LLM judge, 32 questions (answers of two
                models, then the judge in both orders).

Prints wall seconds, requests/s and the speed-up of each (target >= 12x at 16). The speed-up is
bounded by 16 and by the client's own CPU time per request (on a shared 2-core machine, a few ms).
"at most N in flight" is the fake server's counter, which can read one high: it lets a request go only
after its reply is sent, so the client's next request may already have arrived.

    python benchmarks/remote.py [--latency 0.5] [--concurrency 16] [--dialogues 32] [--questions 32]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def judge_responder(body: dict) -> str:
    """Answers for evaluate: 'tuned' states the reference, 'vague' does not; the judge prefers the one with minutes."""
    user = body["messages"][-1]["content"]
    if body["model"] == "judge":
        first = user.split("[Answer 1]")[1].split("[End of answer 1]")[0] if "[Answer 1]" in user else ""
        return "Verdict: 1" if "minutes" in first else "Verdict: 2"
    number = "".join(ch for ch in user if ch.isdigit()) or "0"
    return f"It takes {int(number) + 10} minutes." if body["model"] == "tuned" else "Please ask your doctor."


def run_batch(url: str, concurrency: int, n: int) -> tuple[float, int]:
    from mimir.models import load_model

    model = load_model(f"endpoint:fake@{url}?concurrency={concurrency}")
    try:
        t0 = time.perf_counter()
        replies = model.generate([[{"role": "user", "content": f"question {i}"}] for i in range(n)])
        seconds = time.perf_counter() - t0
    finally:
        model.close()
    assert len(replies) == n and all(r.text for r in replies)
    return seconds, n


def run_generate(url: str, concurrency: int, dialogues: int, work: Path, rounds: bool = False) -> tuple[float, int]:
    import types

    from mimir.generate import GenerateConfig, generate_dialogues
    from mimir.knowledge import load_example_kb
    from mimir.models import load_model
    from mimir.models.base import ChatModel

    kb = load_example_kb(work / "kb") if not (work / "kb").exists() else str(work / "kb")
    out = work / f"dialogues-c{concurrency}{'-rounds' if rounds else ''}.jsonl"
    config = GenerateConfig(max_dialogues=dialogues, max_active=16, frameworks=["none"], tools=[], output=str(out))
    model = load_model(f"endpoint:fake@{url}?concurrency={concurrency}")
    if rounds:  # the generic serve: every active dialogue's next request in one call, waiting for the slowest
        model.serve = types.MethodType(ChatModel.serve, model)
    try:
        t0 = time.perf_counter()
        records = generate_dialogues(kb, config, model, out)
        seconds = time.perf_counter() - t0
    finally:
        model.close()
    ok = sum(r.status == "ok" for r in records)
    if ok < len(records):
        failed = [r for r in records if r.status != "ok"][:2]
        print(f"  generate: {len(records) - ok} of {len(records)} dialogues failed, e.g. {failed[0].error if failed else ''}")
    return seconds, len(records)


def run_judge(url: str, concurrency: int, questions: int, work: Path) -> tuple[float, int]:
    from mimir.cli import main

    qfile = work / "questions.jsonl"
    qfile.write_text("".join(json.dumps({"id": f"q{i}", "question": f"How long is step {i}?",
                                         "answer": f"Step {i} takes {i + 10} minutes.", "key_facts": [f"{i + 10} minutes"]}) + "\n"
                             for i in range(questions)))
    spec = lambda name: f"endpoint:{name}@{url}?concurrency={concurrency}"  # noqa: E731
    out = work / f"eval-c{concurrency}"
    t0 = time.perf_counter()
    code = main(["evaluate", "--a", spec("tuned"), "--b", spec("vague"), "--questions", str(qfile), "--judge", "llm",
                 "--judge-model", spec("judge"), "--bootstrap", "200", "--out", str(out)])
    seconds = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"evaluate exited with {code}")
    summary = json.loads((out / "summary.json").read_text())["summaries"]["llm"]
    assert summary["wins"] == questions, summary  # the judging really happened, and agreed
    return seconds, questions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.5, help="Seconds the loopback server waits before each reply.")
    parser.add_argument("--concurrency", type=int, default=16, help="The concurrent side (the baseline is 1).")
    parser.add_argument("--requests", type=int, default=64, help="batch: conversations in one generate call.")
    parser.add_argument("--dialogues", type=int, default=32, help="generate: dialogues on the bundled handbook.")
    parser.add_argument("--questions", type=int, default=32, help="judge: evaluation questions.")
    parser.add_argument("--jitter", type=float, default=0.0,
                        help="Extra reply time drawn uniformly from [0, JITTER] s per request (replies of different "
                        "lengths); with it, generate also runs in rounds at the high concurrency for comparison.")
    parser.add_argument("--only", choices=("batch", "generate", "judge"), action="append", help="Run only these workloads.")
    args = parser.parse_args()

    os.environ.setdefault("HF_TOKEN", "loopback-benchmark-placeholder")  # the loopback server accepts any token
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    import http.server

    # The fake's stdlib server listens with a backlog of 5: 16 clients connecting at once would see
    # resets (retried by the client, but counted as slowness that a real server does not have).
    http.server.ThreadingHTTPServer.request_queue_size = 128
    from tests.fakes.openai_server import FakeOpenAIServer
    from tests.test_generate_engine import roleplay

    import random

    jitter = random.Random(0)

    def responder(body: dict):
        if args.jitter:
            time.sleep(jitter.uniform(0, args.jitter))
        return judge_responder(body) if body.get("model") in ("tuned", "vague", "judge") else roleplay(body["messages"])

    server = FakeOpenAIServer(latency=args.latency, responder=responder).start()
    work = Path(tempfile.mkdtemp(prefix="mimir-remote-"))
    workloads = {
        "batch": lambda c: run_batch(server.base_url, c, args.requests),
        "generate": lambda c: run_generate(server.base_url, c, args.dialogues, work),
        "judge": lambda c: run_judge(server.base_url, c, args.questions, work),
    }
    print(f"loopback OpenAI-compatible server, {args.latency:.3f} s injected latency per request; "
          f"concurrency 1 vs {args.concurrency}; {os.cpu_count()} CPUs (shared machine: timings are noisy)")
    ratios = {}
    line_generate: dict = {}
    try:
        for name, run in workloads.items():
            if args.only and name not in args.only:
                continue
            line = {}
            for concurrency in (1, args.concurrency):
                start = len(server.requests)
                server.max_in_flight = 0
                seconds, units = run(concurrency)
                requests = len(server.requests) - start
                line[concurrency] = (seconds, requests, server.max_in_flight)
                print(f"  {name:9s} concurrency {concurrency:2d}: {seconds:7.2f} s, {requests} requests "
                      f"({requests / seconds:6.1f}/s), {units} units, at most {server.max_in_flight} in flight")
            if name == "generate":
                line_generate = line
            (s1, r1, _), (sn, rn, _) = line[1], line[args.concurrency]
            ratios[name] = (r1 / s1 and (rn / sn) / (r1 / s1))
            print(f"  {name:9s} speed-up (requests/s): {ratios[name]:.1f}x   (ideal {args.concurrency}x, "
                  f"latency-bound floor at concurrency 1: {r1 * args.latency:.1f} s)")
        if args.jitter and (not args.only or "generate" in args.only):
            seconds, _ = run_generate(server.base_url, args.concurrency, args.dialogues, work, rounds=True)
            continuous = line_generate[args.concurrency][0]
            print(f"  generate  concurrency {args.concurrency:2d} in rounds (each waits for its slowest reply): {seconds:7.2f} s; "
                  f"continuous serving is {seconds / continuous:.2f}x faster")
    finally:
        server.stop()
    verdict = "met" if all(r >= 12 for r in ratios.values()) else "NOT met"
    print("ratios: " + ", ".join(f"{k} {v:.1f}x" for k, v in ratios.items()) + f"  (target >= 12x: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
