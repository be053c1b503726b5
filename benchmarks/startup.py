"""Start-up cost: ``import mimir`` (target <= 0.3 s) and the app's first page (target <= 10 s), cold.

Every measurement is a new interpreter (so no module is cached in memory; the disk cache is
whatever the machine has, as for a user who starts the app twice). Printed against baselines
from the same run:

- ``import mimir`` and each stage package, timed inside the child around the import, next to
  the interpreter's own start (``python -c pass``); the child also reports which heavy libraries
  (torch, transformers, gradio, ...) the import pulled in: none should be;
- the app: ``python app.py --port P`` until ``GET /`` answers 200 with the Gradio page, next to
  ``import gradio`` alone (the floor any Gradio app pays).

    python benchmarks/startup.py [--repeats 5] [--app-repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "gradio", "trl", "peft", "datasets", "sentence_transformers", "huggingface_hub",
         "matplotlib", "numpy", "pandas", "bm25s", "smolagents")
MODULES = ("mimir", "mimir.cli", "mimir.tune", "mimir.models", "mimir.knowledge", "mimir.generate", "mimir.verify",
           "mimir.train", "mimir.evaluate", "mimir.hub")

_PROBE = """
import json, sys, time
t = time.perf_counter()
import {module}
seconds = time.perf_counter() - t
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps({{"seconds": seconds, "heavy": heavy}}))
"""


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    env.pop("PYTHONSTARTUP", None)
    return env


def interpreter_seconds() -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, env=_env())
    return time.perf_counter() - t


def import_probe(module: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _PROBE.format(module=module, heavy=HEAVY)], check=True, env=_env(),
                          capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_first_page(timeout: float) -> float:
    """Seconds from spawning ``python app.py`` to a 200 on ``/`` holding the Gradio page."""
    port = _free_port()
    runs = tempfile.mkdtemp(prefix="mimir-startup-runs-")
    env = {**_env(), "MIMIR_RUNS": runs, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_DISABLE_TELEMETRY": "1"}
    log = open(Path(runs) / "app.log", "wb")
    t0 = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port), "--host", "127.0.0.1"],
                               env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the app exited with {process.returncode}; log: {Path(runs) / 'app.log'}")
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"no first page after {timeout:.0f} s; log: {Path(runs) / 'app.log'}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    body = response.read()
                if response.status == 200 and b"gradio" in body.lower():
                    return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.05)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="New interpreters per import measurement (median shown).")
    parser.add_argument("--app-repeats", type=int, default=2, help="App starts (median shown); 0 skips the app.")
    parser.add_argument("--timeout", type=float, default=120.0, help="Give up on the first page after this many seconds.")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}; shared machine: timings are noisy, medians of "
          f"{args.repeats} (imports) and {args.app_repeats} (app) new processes")

    interp = statistics.median(interpreter_seconds() for _ in range(args.repeats))
    print(f"  baseline: python -c pass                 {interp:6.3f} s (whole process)")
    results = {}
    for module in MODULES:
        probes = [import_probe(module) for _ in range(args.repeats)]
        seconds = statistics.median(p["seconds"] for p in probes)
        heavy = sorted({h for p in probes for h in p["heavy"]})
        results[module] = seconds
        print(f"  import {module:16s}                {seconds:6.3f} s   heavy libraries loaded: {', '.join(heavy) or 'none'}")
    ok = "met" if results["mimir"] <= 0.3 else "NOT met"
    print(f"  import mimir: {results['mimir']:.3f} s = {results['mimir'] / interp:.2f}x the interpreter's start "
          f"(target <= 0.3 s: {ok})")

    if args.app_repeats > 0:
        gradio = statistics.median(import_probe("gradio")["seconds"] for _ in range(args.app_repeats))
        print(f"  baseline: import gradio                  {gradio:6.3f} s")
        pages = [app_first_page(args.timeout) for _ in range(args.app_repeats)]
        page = statistics.median(pages)
        ok = "met" if page <= 10 else "NOT met"
        print(f"  app first page (spawn -> GET / 200)      {page:6.3f} s  (runs: {', '.join(f'{p:.2f}' for p in pages)})")
        print(f"  app first page: {page:.2f} s = {page / gradio:.2f}x import gradio alone (target <= 10 s: {ok})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
